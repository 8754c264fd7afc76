// Prints expression trees in the infix syntax that the parser reads back (docs/search-space.md).
// For every tree e: Equal(Parse(ToString(e)), e). Values that depend on a beta and are read
// more than once are named, u1, u2, ..., and defined before the expression that reads them:
// `u1 = x + beta; u1 * sin(u1)`.
#pragma once

#include <string>

#include "search_space/expr.h"

namespace actsearch {

std::string ToString(const Expr& e);

// The printed name of the number-th named value: "u1" for 1.
std::string ValueName(int number);

}  // namespace actsearch
