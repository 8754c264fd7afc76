// Finding a token sequence of a space for a function that was written in a form the space
// cannot reach as such: `x * sigmoid(beta * x)` is not a 1-unit sequence, but the equal
// `sigmoid(beta * x) * x` is. What `actsearch space encode` answers.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "search_space/space.h"

namespace actsearch {

struct EqualEncoding {
  enum class How {
    kDirect,     // the expression itself
    kCommuted,   // the same expression with operands of symmetric operators swapped: exact
    kSameClass,  // another candidate of its functional class (equal fingerprints)
  } how = How::kDirect;
  std::vector<int> tokens;
  Expr encoded;  // what the tokens decode to
};

// Every form of `e` with operands of symmetric binary operators swapped (add, mul, max, min,
// rbf, laplace; sigmoid(a) * b as b * sigmoid(a)), `e` first, at most `limit` of them.
std::vector<Expr> CommutedForms(const Expr& e, size_t limit = 4096);

// The direct encoding, else a commuted form's, else the first candidate of the space (among
// the first `scan_limit`) in `e`'s functional class; nullopt when none is found.
std::optional<EqualEncoding> EncodeEqualFunction(const Space& space, const Expr& e,
                                                 uint64_t scan_limit);

}  // namespace actsearch
