// Expression trees over the grammar's operators.
//
// Trees are immutable and shared. The factories keep every tree in one canonical form, so that
// a tree and its printed text correspond one to one (see docs/search-space.md):
//   mul(sigmoid(a), b) -> sigmul(a, b)     mul(beta, a), mul(a, beta) -> scale(a)
//   exp(neg(square(a))) -> gaussian(a)     add(a, beta), add(beta, a) -> shift(a)
//   identity(a) -> a                       the unary token "beta" applied to a -> beta
// Each folded pair computes the same function with the same initial betas.
//
// Trees may share nodes. A node reached through the same pointer more than once is one value
// with one set of betas, as a unit output the paper's later units read twice; separate nodes
// own separate betas. search_space/value_graph.h has the rules; the printed text names such
// values (`u1 = x + beta; u1 * u1`).
#pragma once

#include <functional>
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

// `node`'s operator over other operands (the node itself when they are its own).
Expr WithOperands(const Expr& node, Expr a, Expr b);

// The same values with the same betas shared the same way: one function family.
bool Equal(const Expr& lhs, const Expr& rhs);
int CountBetas(const Expr& e);
// The operators a tree uses, by name (leaves excluded): for filters and listings.
std::set<std::string> OperatorNames(const Expr& e);

// Rebuilds a tree bottom-up, each node once: `rebuild(node, a, b)` gets a node with its operands
// already rebuilt and returns the node's replacement. Nodes shared before are shared after.
using RebuildFn = std::function<Expr(const Expr& node, const Expr& a, const Expr& b)>;
Expr Rebuild(const Expr& e, const RebuildFn& rebuild);

}  // namespace actsearch
