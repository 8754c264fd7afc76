// Reads the infix expression syntax (docs/search-space.md), for example
//   x * sigmoid(beta * x)     max(x, sigmoid(x))     atan(x)^2 - x     rbf(x, sin(x))
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

Expr Parse(std::string_view text);

}  // namespace actsearch
