#include "search_space/operators.h"

#include <array>

namespace actsearch {
namespace {

// Initial betas: 1 for every parameter except mix's, which starts halfway (0.5). A scale,
// rbf or laplace beta of 1 is the unscaled function; shift and the free beta start at 1 so
// that `x + beta` written with the free beta and with the shift operator is one function.
constexpr std::array<OpInfo, kNumOps> kOps = {{
    {OpId::kInput, "x", "x", 0, false, 0.0},
    {OpId::kBeta, "beta", "beta", 0, true, 1.0},
    {OpId::kIdentity, "identity", "x", 1, false, 0.0},
    {OpId::kNeg, "neg", "-x", 1, false, 0.0},
    {OpId::kAbs, "abs", "|x|", 1, false, 0.0},
    {OpId::kSquare, "square", "x^2", 1, false, 0.0},
    {OpId::kCube, "cube", "x^3", 1, false, 0.0},
    {OpId::kSqrt, "sqrt", "sqrt(x)", 1, false, 0.0},
    {OpId::kScale, "scale", "beta*x", 1, true, 1.0},
    {OpId::kShift, "shift", "x + beta", 1, true, 1.0},
    {OpId::kLogAbs, "log_abs", "log(|x| + eps)", 1, false, 0.0},
    {OpId::kExp, "exp", "exp(x)", 1, false, 0.0},
    {OpId::kSin, "sin", "sin(x)", 1, false, 0.0},
    {OpId::kCos, "cos", "cos(x)", 1, false, 0.0},
    {OpId::kSinh, "sinh", "sinh(x)", 1, false, 0.0},
    {OpId::kCosh, "cosh", "cosh(x)", 1, false, 0.0},
    {OpId::kTanh, "tanh", "tanh(x)", 1, false, 0.0},
    {OpId::kAsinh, "asinh", "asinh(x)", 1, false, 0.0},
    {OpId::kAtan, "atan", "atan(x)", 1, false, 0.0},
    {OpId::kSinc, "sinc", "sin(x)/x", 1, false, 0.0},
    {OpId::kRelu, "relu", "max(x, 0)", 1, false, 0.0},
    {OpId::kMin0, "min0", "min(x, 0)", 1, false, 0.0},
    {OpId::kSigmoid, "sigmoid", "sigmoid(x)", 1, false, 0.0},
    {OpId::kSoftplus, "softplus", "log(1 + e^x)", 1, false, 0.0},
    {OpId::kGaussian, "gaussian", "exp(-x^2)", 1, false, 0.0},
    {OpId::kErf, "erf", "erf(x)", 1, false, 0.0},
    {OpId::kAdd, "add", "x1 + x2", 2, false, 0.0},
    {OpId::kMul, "mul", "x1 * x2", 2, false, 0.0},
    {OpId::kSub, "sub", "x1 - x2", 2, false, 0.0},
    {OpId::kDiv, "div", "x1 / (x2 + eps)", 2, false, 0.0},
    {OpId::kMax, "max", "max(x1, x2)", 2, false, 0.0},
    {OpId::kMin, "min", "min(x1, x2)", 2, false, 0.0},
    {OpId::kSigmul, "sigmul", "sigmoid(x1) * x2", 2, false, 0.0},
    {OpId::kRbf, "rbf", "exp(-beta * (x1 - x2)^2)", 2, true, 1.0},
    {OpId::kLaplace, "laplace", "exp(-beta * |x1 - x2|)", 2, true, 1.0},
    {OpId::kMix, "mix", "beta * x1 + (1 - beta) * x2", 2, true, 0.5},
}};

constexpr bool RegistryIsInOpIdOrder() {
  for (int i = 0; i < kNumOps; ++i) {
    if (static_cast<int>(kOps[i].id) != i) return false;
  }
  return true;
}
static_assert(RegistryIsInOpIdOrder(), "kOps must list operators in OpId order");

}  // namespace

const OpInfo& Info(OpId op) { return kOps[static_cast<int>(op)]; }

std::optional<OpId> OpByName(std::string_view name) {
  for (const OpInfo& info : kOps) {
    if (info.name == name) return info.id;
  }
  return std::nullopt;
}

const std::vector<OpId>& AllUnaryTokens() {
  static const std::vector<OpId> tokens = [] {
    std::vector<OpId> out;
    for (int i = static_cast<int>(OpId::kIdentity); i <= static_cast<int>(OpId::kErf); ++i) {
      out.push_back(static_cast<OpId>(i));
    }
    out.push_back(OpId::kBeta);  // the paper lists the free beta last
    return out;
  }();
  return tokens;
}

const std::vector<OpId>& AllBinaryOps() {
  static const std::vector<OpId> ops = [] {
    std::vector<OpId> out;
    for (const OpInfo& info : kOps) {
      if (IsBinary(info.id)) out.push_back(info.id);
    }
    return out;
  }();
  return ops;
}

bool IsUnaryToken(OpId op) {
  return op == OpId::kBeta || (op >= OpId::kIdentity && op <= OpId::kErf);
}

bool IsBinary(OpId op) { return op >= OpId::kAdd; }

}  // namespace actsearch
