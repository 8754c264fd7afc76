#include "search_space/printer.h"

#include <stdexcept>

namespace actsearch {
namespace {

// Binding strength, loosest first. A child printed where a tighter level is required gets
// parentheses.
enum Level { kSum = 1, kNegation = 2, kProduct = 3, kPower = 4, kPrimary = 5 };

Level LevelOf(OpId op) {
  switch (op) {
    case OpId::kAdd:
    case OpId::kSub:
    case OpId::kShift: return kSum;
    case OpId::kNeg: return kNegation;
    case OpId::kMul:
    case OpId::kDiv:
    case OpId::kScale:
    case OpId::kSigmul: return kProduct;
    case OpId::kSquare:
    case OpId::kCube: return kPower;
    default: return kPrimary;
  }
}

void Print(const Expr& e, Level required, std::string& out);

void PrintCall(std::string_view name, const Expr& a, std::string& out) {
  out.append(name).append("(");
  Print(a, kSum, out);
  out.append(")");
}

void PrintCall2(std::string_view name, const Expr& a, const Expr& b, std::string& out) {
  out.append(name).append("(");
  Print(a, kSum, out);
  out.append(", ");
  Print(b, kSum, out);
  out.append(")");
}

void PrintInfix(const Expr& a, std::string_view op, const Expr& b, Level left, Level right,
                std::string& out) {
  Print(a, left, out);
  out.append(op);
  Print(b, right, out);
}

void PrintBody(const Expr& e, std::string& out) {
  switch (e->op) {
    case OpId::kInput: out.append("x"); return;
    case OpId::kBeta: out.append("beta"); return;
    case OpId::kNeg:
      out.append("-");
      Print(e->a, kNegation, out);
      return;
    case OpId::kSquare:
      Print(e->a, kPrimary, out);
      out.append("^2");
      return;
    case OpId::kCube:
      Print(e->a, kPrimary, out);
      out.append("^3");
      return;
    case OpId::kScale:
      out.append("beta * ");
      Print(e->a, kPower, out);
      return;
    case OpId::kShift:
      Print(e->a, kSum, out);
      out.append(" + beta");
      return;
    case OpId::kLogAbs:
      out.append("log(abs(");
      Print(e->a, kSum, out);
      out.append("))");
      return;
    case OpId::kMin0:
      out.append("min(");
      Print(e->a, kSum, out);
      out.append(", 0)");
      return;
    case OpId::kGaussian:
      out.append("exp(-");
      Print(e->a, kPrimary, out);
      out.append("^2)");
      return;
    case OpId::kAdd: PrintInfix(e->a, " + ", e->b, kSum, kNegation, out); return;
    case OpId::kSub: PrintInfix(e->a, " - ", e->b, kSum, kNegation, out); return;
    case OpId::kMul: PrintInfix(e->a, " * ", e->b, kProduct, kPower, out); return;
    case OpId::kDiv: PrintInfix(e->a, " / ", e->b, kProduct, kPower, out); return;
    case OpId::kSigmul:
      PrintCall("sigmoid", e->a, out);
      out.append(" * ");
      Print(e->b, kPower, out);
      return;
    case OpId::kMax:
    case OpId::kMin:
    case OpId::kRbf:
    case OpId::kLaplace:
    case OpId::kMix: PrintCall2(Info(e->op).name, e->a, e->b, out); return;
    case OpId::kIdentity: throw std::logic_error("identity never appears in a tree");
    default: PrintCall(Info(e->op).name, e->a, out); return;  // abs, sqrt, exp, sin, ...
  }
}

void Print(const Expr& e, Level required, std::string& out) {
  const bool parenthesize = LevelOf(e->op) < required;
  if (parenthesize) out.append("(");
  PrintBody(e, out);
  if (parenthesize) out.append(")");
}

}  // namespace

std::string ToString(const Expr& e) {
  std::string out;
  Print(e, kSum, out);
  return out;
}

}  // namespace actsearch
