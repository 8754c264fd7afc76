// An expression as the graph of the values it computes, each value once: the paper's unit graph.
//
// A tree node reached through the same pointer more than once is one value, with the same betas
// at every use: a unit output y_j that a later unit reads twice. Separate nodes that own betas
// are separate values with betas of their own, even where they print alike. A value that
// depends on no beta is the same function wherever it appears, so equal beta-free
// subexpressions are one value too, computed once.
//
// Everything that depends on this reading takes it from here: printing (which values get a
// name), equality, beta numbering, and both evaluators (Program and the LibTorch operators).
#pragma once

#include <vector>

#include "search_space/expr.h"

namespace actsearch {

struct Value {
  OpId op = OpId::kInput;
  int a = -1;  // operand values (indices into ValueGraph::values); -1 when absent
  int b = -1;
  int beta = -1;  // the beta this value owns (a free beta, or scale's, shift's, rbf's,
                  // laplace's or mix's own), numbered as Program numbers them; else -1
  bool depends_on_beta = false;
  int uses = 0;  // operand slots of other values that read it (mul(v, v) reads v twice)
  Expr node;     // a tree node that computes it
};

struct ValueGraph {
  // In evaluation order, operands before their users: the named values' definitions in their
  // printed order (u1, u2, ...), each in post-order, then the rest in post-order. Betas are
  // numbered in this order, so the printed text lists them left to right except that an
  // operator's own beta comes after its operands' (post-order).
  std::vector<Value> values;
  int root = 0;
  int num_betas = 0;
  // The values the printed text names: those that depend on a beta and are read more than
  // once. Each definition reads only earlier names.
  std::vector<int> named;
};

ValueGraph BuildValueGraph(const Expr& e);

// The same graph up to the numbering of its values: the same function family.
bool SameGraph(const ValueGraph& lhs, const ValueGraph& rhs);

// Whether two nodes of one tree compute one value: the same graph over the same beta owners.
bool SameValue(const Expr& lhs, const Expr& rhs);

}  // namespace actsearch
