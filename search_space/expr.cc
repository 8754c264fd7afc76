#include "search_space/expr.h"

#include <stdexcept>
#include <unordered_map>

#include "search_space/value_graph.h"

namespace actsearch {
namespace {

bool Is(const Expr& e, OpId op) { return e->op == op; }

Expr Make(OpId op, Expr a = nullptr, Expr b = nullptr) {
  return std::make_shared<const Node>(Node{op, std::move(a), std::move(b)});
}

}  // namespace

Expr MakeInput() { return Make(OpId::kInput); }
Expr MakeBeta() { return Make(OpId::kBeta); }

Expr MakeUnary(OpId op, Expr a) {
  // Checked in every build (builds are Release): a bad tree would print and compute wrongly.
  if (!IsUnaryToken(op) || !a)
    throw std::invalid_argument("MakeUnary: not a unary token, or no operand");
  if (op == OpId::kIdentity) return a;
  if (op == OpId::kBeta) return MakeBeta();
  if (op == OpId::kExp && Is(a, OpId::kNeg) && Is(a->a, OpId::kSquare)) {
    return Make(OpId::kGaussian, a->a->a);
  }
  return Make(op, std::move(a));
}

Expr MakeBinary(OpId op, Expr a, Expr b) {
  if (!IsBinary(op) || !a || !b) {
    throw std::invalid_argument("MakeBinary: not a binary operator, or an operand missing");
  }
  if (op == OpId::kMul) {
    if (Is(a, OpId::kSigmoid)) return Make(OpId::kSigmul, a->a, std::move(b));
    if (Is(a, OpId::kBeta)) return Make(OpId::kScale, std::move(b));
    if (Is(b, OpId::kBeta)) return Make(OpId::kScale, std::move(a));
  }
  if (op == OpId::kAdd) {
    if (Is(b, OpId::kBeta)) return Make(OpId::kShift, std::move(a));
    if (Is(a, OpId::kBeta)) return Make(OpId::kShift, std::move(b));
  }
  return Make(op, std::move(a), std::move(b));
}

Expr WithOperands(const Expr& node, Expr a, Expr b) {
  if (a == node->a && b == node->b) return node;
  if (IsBinary(node->op)) return MakeBinary(node->op, std::move(a), std::move(b));
  return MakeUnary(node->op, std::move(a));
}

bool Equal(const Expr& lhs, const Expr& rhs) {
  if (lhs == rhs) return true;
  if (!lhs || !rhs) return false;
  return SameGraph(BuildValueGraph(lhs), BuildValueGraph(rhs));
}

int CountBetas(const Expr& e) { return e ? BuildValueGraph(e).num_betas : 0; }

std::set<std::string> OperatorNames(const Expr& e) {
  std::set<std::string> names;
  for (const Value& v : BuildValueGraph(e).values) {
    if (Info(v.op).arity > 0) names.emplace(Info(v.op).name);
  }
  return names;
}

namespace {
Expr RebuildNode(const Expr& e, const RebuildFn& rebuild,
                 std::unordered_map<const Node*, Expr>& done) {
  if (const auto it = done.find(e.get()); it != done.end()) return it->second;
  const Expr a = e->a ? RebuildNode(e->a, rebuild, done) : nullptr;
  const Expr b = e->b ? RebuildNode(e->b, rebuild, done) : nullptr;
  Expr out = rebuild(e, a, b);
  done.emplace(e.get(), out);
  return out;
}
}  // namespace

Expr Rebuild(const Expr& e, const RebuildFn& rebuild) {
  std::unordered_map<const Node*, Expr> done;
  return RebuildNode(e, rebuild, done);
}

}  // namespace actsearch
