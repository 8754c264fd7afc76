// The operator registry of the Swish paper's grammar: 25 unary and 10 binary functions.
//
// An expression tree is built from these operators. Two leaves (`x` and a free `beta`) stand
// for the paper's unary functions "x" (identity) and "beta" (a constant), so the tree itself
// only holds the 23 unary operators that transform a value. `OpId::kIdentity` exists for the
// token encoding only: applying it to a child yields the child.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace actsearch {

enum class OpId : unsigned char {
  // Leaves.
  kInput,  // x, the layer's preactivation
  kBeta,   // a free per-channel parameter (the paper's unary "beta")
  // Unary token that never appears in a tree.
  kIdentity,
  // Unary operators.
  kNeg,
  kAbs,
  kSquare,
  kCube,
  kSqrt,
  kScale,  // beta * x
  kShift,  // x + beta
  kLogAbs,
  kExp,
  kSin,
  kCos,
  kSinh,
  kCosh,
  kTanh,
  kAsinh,
  kAtan,
  kSinc,
  kRelu,
  kMin0,
  kSigmoid,
  kSoftplus,
  kGaussian,  // exp(-x^2)
  kErf,
  // Binary operators.
  kAdd,
  kMul,
  kSub,
  kDiv,
  kMax,
  kMin,
  kSigmul,   // sigmoid(a) * b
  kRbf,      // exp(-beta * (a - b)^2)
  kLaplace,  // exp(-beta * |a - b|)
  kMix,      // beta * a + (1 - beta) * b
};

inline constexpr int kNumOps = static_cast<int>(OpId::kMix) + 1;

struct OpInfo {
  OpId id;
  std::string_view name;     // stable identifier: configs, tokens, the database
  std::string_view formula;  // the paper's notation, for documentation and listings
  int arity;                 // children in a tree: 0 (leaf), 1 or 2
  bool has_beta;             // owns one per-channel trainable parameter
  double initial_beta;       // meaningful only when has_beta
};

const OpInfo& Info(OpId op);
std::optional<OpId> OpByName(std::string_view name);

// The paper's 25 unary functions (as tokens: identity and the free beta included) and its
// 10 binary functions, in the paper's order.
const std::vector<OpId>& AllUnaryTokens();
const std::vector<OpId>& AllBinaryOps();

bool IsUnaryToken(OpId op);
bool IsBinary(OpId op);

}  // namespace actsearch
