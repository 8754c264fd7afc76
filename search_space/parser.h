// Reads the infix expression syntax (docs/search-space.md), for example
//   x * sigmoid(beta * x)     max(x, sigmoid(x))     atan(x)^2 - x     rbf(x, sin(x))
// and named values, one value with one set of betas wherever the name is read:
//   u1 = x + beta; u1 * sin(u1)
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "search_space/expr.h"

namespace actsearch {

// A malformed expression: where (0-based offset into the text) and what was expected there.
class ParseError : public std::runtime_error {
 public:
  ParseError(std::string text, size_t position, std::string message);
  size_t position() const { return position_; }
  const std::string& detail() const { return detail_; }

 private:
  size_t position_;
  std::string detail_;
};

// How deeply an expression may nest (parentheses, calls, negations): far beyond any candidate
// of a space (4 units), far below what would overflow a thread's stack.
inline constexpr int kMaxExpressionDepth = 256;

// Throws ParseError for malformed text, and for text nesting deeper than kMaxExpressionDepth.
Expr Parse(std::string_view text);

}  // namespace actsearch
