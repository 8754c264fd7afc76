// Expression trees over the grammar's operators.
//
// Trees are immutable and shared. The factories keep every tree in one canonical form, so that
// a tree and its printed text correspond one to one (see docs/search-space.md):
//   mul(sigmoid(a), b) -> sigmul(a, b)     mul(beta, a), mul(a, beta) -> scale(a)
//   exp(neg(square(a))) -> gaussian(a)     add(a, beta), add(beta, a) -> shift(a)
//   identity(a) -> a                       the unary token "beta" applied to a -> beta
// Each folded pair computes the same function with the same initial betas.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "search_space/operators.h"

namespace actsearch {

struct Node;
using Expr = std::shared_ptr<const Node>;

struct Node {
  OpId op;
  Expr a;  // first child (unary and binary operators)
  Expr b;  // second child (binary operators)
};

Expr MakeInput();
Expr MakeBeta();
// `op` is a unary token (identity, the free beta and the 23 unary operators).
Expr MakeUnary(OpId op, Expr a);
// `op` is a binary operator.
Expr MakeBinary(OpId op, Expr a, Expr b);

bool Equal(const Expr& lhs, const Expr& rhs);
int CountBetas(const Expr& e);
// The operators a tree uses, by name (leaves excluded): for filters and listings.
std::set<std::string> OperatorNames(const Expr& e);

}  // namespace actsearch
