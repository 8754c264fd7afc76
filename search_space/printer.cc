#include "search_space/printer.h"

#include <stdexcept>

#include "search_space/value_graph.h"

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

// Prints a value graph: each named value once, as `uN = ...;`, then the expression.
class Printer {
 public:
  explicit Printer(const ValueGraph& graph) : graph_(graph), name_(graph.values.size(), 0) {
    for (size_t i = 0; i < graph.named.size(); ++i) name_[graph.named[i]] = static_cast<int>(i) + 1;
  }

  std::string Run() {
    std::string out;
    for (const int id : graph_.named) {
      out.append(ValueName(name_[id])).append(" = ");
      Print(id, kSum, out, /*defining=*/true);
      out.append("; ");
    }
    Print(graph_.root, kSum, out);
    return out;
  }

 private:
  void Print(int id, Level required, std::string& out, bool defining = false) {
    if (name_[id] > 0 && !defining) {
      out.append(ValueName(name_[id]));
      return;
    }
    const bool parenthesize = LevelOf(graph_.values[id].op) < required;
    if (parenthesize) out.append("(");
    PrintBody(graph_.values[id], out);
    if (parenthesize) out.append(")");
  }

  // prefix, the operand printed at `level`, suffix: every one-operand form.
  void PrintWrapped(std::string_view prefix, int a, Level level, std::string_view suffix,
                    std::string& out) {
    out.append(prefix);
    Print(a, level, out);
    out.append(suffix);
  }

  void PrintCall2(std::string_view name, int a, int b, std::string& out) {
    out.append(name).append("(");
    Print(a, kSum, out);
    out.append(", ");
    Print(b, kSum, out);
    out.append(")");
  }

  void PrintInfix(int a, std::string_view op, int b, Level left, Level right, std::string& out) {
    Print(a, left, out);
    out.append(op);
    Print(b, right, out);
  }

  void PrintBody(const Value& v, std::string& out) {
    switch (v.op) {
      case OpId::kInput: out.append("x"); return;
      case OpId::kBeta: out.append("beta"); return;
      case OpId::kNeg: PrintWrapped("-", v.a, kNegation, "", out); return;
      case OpId::kSquare: PrintWrapped("", v.a, kPrimary, "^2", out); return;
      case OpId::kCube: PrintWrapped("", v.a, kPrimary, "^3", out); return;
      case OpId::kScale: PrintWrapped("beta * ", v.a, kPower, "", out); return;
      case OpId::kShift: PrintWrapped("", v.a, kSum, " + beta", out); return;
      case OpId::kLogAbs: PrintWrapped("log(abs(", v.a, kSum, "))", out); return;
      case OpId::kMin0: PrintWrapped("min(", v.a, kSum, ", 0)", out); return;
      case OpId::kGaussian: PrintWrapped("exp(-", v.a, kPrimary, "^2)", out); return;
      case OpId::kAdd: PrintInfix(v.a, " + ", v.b, kSum, kNegation, out); return;
      case OpId::kSub: PrintInfix(v.a, " - ", v.b, kSum, kNegation, out); return;
      case OpId::kMul: PrintInfix(v.a, " * ", v.b, kProduct, kPower, out); return;
      case OpId::kDiv: PrintInfix(v.a, " / ", v.b, kProduct, kPower, out); return;
      case OpId::kSigmul:
        PrintWrapped("sigmoid(", v.a, kSum, ") * ", out);
        Print(v.b, kPower, out);
        return;
      case OpId::kMax:
      case OpId::kMin:
      case OpId::kRbf:
      case OpId::kLaplace:
      case OpId::kMix: PrintCall2(Info(v.op).name, v.a, v.b, out); return;
      case OpId::kIdentity: throw std::logic_error("identity never appears in a tree");
      default:  // abs, sqrt, exp, sin, ...
        PrintWrapped(std::string(Info(v.op).name) + "(", v.a, kSum, ")", out);
        return;
    }
  }

  const ValueGraph& graph_;
  std::vector<int> name_;  // a named value's number (u1 is 1); 0 for the others
};

}  // namespace

std::string ValueName(int number) { return "u" + std::to_string(number); }

std::string ToString(const Expr& e) { return Printer(BuildValueGraph(e)).Run(); }

}  // namespace actsearch
