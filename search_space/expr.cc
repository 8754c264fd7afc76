#include "search_space/expr.h"

#include <stdexcept>

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

bool Equal(const Expr& lhs, const Expr& rhs) {
  if (lhs == rhs) return true;
  if (!lhs || !rhs || lhs->op != rhs->op) return false;
  return Equal(lhs->a, rhs->a) && Equal(lhs->b, rhs->b);
}

int CountBetas(const Expr& e) {
  if (!e) return 0;
  return (Info(e->op).has_beta ? 1 : 0) + CountBetas(e->a) + CountBetas(e->b);
}

namespace {
void CollectOperatorNames(const Expr& e, std::set<std::string>& names) {
  if (!e) return;
  if (Info(e->op).arity > 0) names.emplace(Info(e->op).name);
  CollectOperatorNames(e->a, names);
  CollectOperatorNames(e->b, names);
}
}  // namespace

std::set<std::string> OperatorNames(const Expr& e) {
  std::set<std::string> names;
  CollectOperatorNames(e, names);
  return names;
}

}  // namespace actsearch
