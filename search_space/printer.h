// Prints expression trees in the infix syntax that the parser reads back (docs/search-space.md).
// For every tree e: Equal(Parse(ToString(e)), e).
#pragma once

#include <string>

#include "search_space/expr.h"

namespace actsearch {

std::string ToString(const Expr& e);

}  // namespace actsearch
