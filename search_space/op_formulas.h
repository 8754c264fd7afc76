// Value and analytic derivatives of every operator, written once as templates over the
// scalar type: double for the exact evaluator (CLI, fingerprints, screening), float for the
// fused CPU kernel. Every formula is branch-free enough for the compiler to vectorise.
//
// Choices the paper leaves open (see docs/search-space.md):
// - eps = 1e-3 in log(|x| + eps), in division and in sqrt;
// - division x1 / (x2 + eps) takes eps with x2's sign, so the denominator is never 0;
// - sqrt(x) = sqrt(max(x, 0) + eps): defined, finite and with a finite slope everywhere;
// - sinc(x) = sin(x) / x, with sinc(0) = 1 (unnormalised);
// - at a tie, max and min send the whole gradient to their first argument.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "search_space/operators.h"

namespace actsearch::formulas {

inline constexpr double kEps = 1e-3;

// The evaluator's loops vectorise only if every formula inlines into them.
#define ACTSEARCH_FORMULA inline __attribute__((always_inline))

// Internal linkage: the evaluator is compiled once per instruction set (program_kernels.h), and
// each build must keep its own copy of these functions rather than share one at link time.
namespace {

// exp(x) for float in a form GCC vectorises: range reduction to 2^n * e^r, |r| <= ln2/2,
// then a degree-7 polynomial (error about 1 ulp). Overflow gives inf as std::exp does.
ACTSEARCH_FORMULA float VectorizableExp(float x) {
  const float clamped = std::min(std::max(x, -87.0f), 88.0f);
  const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float t = clamped * 1.44269504088896341f + shifter;
  const float k = t - shifter;
  int32_t n;
  std::memcpy(&n, &t, sizeof n);
  n -= 0x4B400000;  // the integer k, read from t's mantissa
  const float r = (clamped - k * 0.693145751953125f) - k * 1.42860682030941723212e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const float result = p * scale;
  const float big = x > 88.72283f ? std::numeric_limits<float>::infinity() : result;
  return x < -87.0f ? 0.0f : big;
}

template <class T>
struct Math {
  static ACTSEARCH_FORMULA T Exp(T x) { return std::exp(x); }
  static ACTSEARCH_FORMULA T Sinh(T x) { return std::sinh(x); }
  static ACTSEARCH_FORMULA T Cosh(T x) { return std::cosh(x); }
  static ACTSEARCH_FORMULA T Tanh(T x) { return std::tanh(x); }
};

// Single precision: the hyperbolic functions from VectorizableExp, so that their loops
// vectorise too. Near 0, where e^x - e^-x cancels, odd Taylor series to x^11 take over
// (their first omitted term is below float's rounding for |x| < 0.3).
template <>
struct Math<float> {
  static ACTSEARCH_FORMULA float Exp(float x) { return VectorizableExp(x); }
  static ACTSEARCH_FORMULA float Cosh(float x) {
    const float e = VectorizableExp(std::abs(x));
    return 0.5f * (e + 1.0f / e);
  }
  static ACTSEARCH_FORMULA float Sinh(float x) {
    const float x2 = x * x;
    const float series =
        x *
        (1.0f + x2 * (1.0f / 6 + x2 * (1.0f / 120 + x2 * (1.0f / 5040 + x2 * (1.0f / 362880)))));
    const float e = VectorizableExp(std::abs(x));
    const float magnitude = 0.5f * (e - 1.0f / e);
    return std::abs(x) < 0.3f ? series : (x < 0.0f ? -magnitude : magnitude);
  }
  static ACTSEARCH_FORMULA float Tanh(float x) {
    const float x2 = x * x;
    const float series =
        x *
        (1.0f + x2 * (-1.0f / 3 +
                      x2 * (2.0f / 15 +
                            x2 * (-17.0f / 315 + x2 * (62.0f / 2835 + x2 * (-1382.0f / 155925))))));
    // 1 - 2 / (e^(2|x|) + 1), which saturates cleanly to 1 when the exponential overflows.
    const float magnitude = 1.0f - 2.0f / (VectorizableExp(2.0f * std::abs(x)) + 1.0f);
    return std::abs(x) < 0.3f ? series : (x < 0.0f ? -magnitude : magnitude);
  }
};

// The helpers the formulas use, written once: compiled here, and as text into the generated
// GPU kernels (activation/kernel_source.h). FN is the function specifier. SincSeries is
// sin(a)/a = 1 - a^2/3! + a^4/5! - ... - a^10/11!, SincSlopeSeries its derivative: for
// |a| < 0.5 the first omitted terms are below double precision's rounding.
#define ACTSEARCH_FORMULA_HELPERS(FN)                                                              \
  template <class T>                                                                               \
  FN T Exp(T x) {                                                                                  \
    return Math<T>::Exp(x);                                                                        \
  }                                                                                                \
  template <class T>                                                                               \
  FN T Sigmoid(T x) {                                                                              \
    return T(1) / (T(1) + Exp(-x));                                                                \
  }                                                                                                \
  template <class T>                                                                               \
  FN T Sign(T x) {                                                                                 \
    return T(x > T(0)) - T(x < T(0));                                                              \
  }                                                                                                \
  template <class T>                                                                               \
  FN T SincSeries(T a) {                                                                           \
    const T a2 = a * a;                                                                            \
    return T(1) +                                                                                  \
           a2 * (T(-1.0 / 6) +                                                                     \
                 a2 * (T(1.0 / 120) +                                                              \
                       a2 * (T(-1.0 / 5040) + a2 * (T(1.0 / 362880) + a2 * T(-1.0 / 39916800))))); \
  }                                                                                                \
  template <class T>                                                                               \
  FN T SincSlopeSeries(T a) {                                                                      \
    const T a2 = a * a;                                                                            \
    return a * (T(-2.0 / 6) +                                                                      \
                a2 * (T(4.0 / 120) +                                                               \
                      a2 * (T(-6.0 / 5040) + a2 * (T(8.0 / 362880) + a2 * T(-10.0 / 39916800))))); \
  }                                                                                                \
  template <class T>                                                                               \
  FN T Step(bool condition) {                                                                      \
    return condition ? T(1) : T(0);                                                                \
  }                                                                                                \
  template <class T>                                                                               \
  FN T SignedEpsDenominator(T b) {                                                                 \
    return b + (b >= T(0) ? T(kEps) : T(-kEps));                                                   \
  }

ACTSEARCH_FORMULA_HELPERS(ACTSEARCH_FORMULA)

#define ACTSEARCH_STRINGIFY(...) #__VA_ARGS__
#define ACTSEARCH_EXPANDED_TEXT(...) ACTSEARCH_STRINGIFY(__VA_ARGS__)
// The helpers' text, with ACT_FN for the generated code to define.
inline constexpr const char* kFormulaHelpersText =
    ACTSEARCH_EXPANDED_TEXT(ACTSEARCH_FORMULA_HELPERS(ACT_FN));

// A formula as its source text, for the generated GPU kernels (activation/kernel_source.h): the
// same text the templates below are compiled from, so host and device compute one formula.
struct FormulaText {
  const char* name;  // the struct's name
  const char* value;
  const char* da;
  const char* db;  // "T(0)" for unary operators
  const char* dbeta;
};

// Unary operators: Value(a, beta), DA(a, y, beta) = dy/da, DBeta(a, y, beta) = dy/dbeta.
// y is the already computed value, reused where the derivative needs it.
#define ACTSEARCH_UNARY(Name, has_beta, value, da, dbeta)                               \
  struct Name {                                                                         \
    static constexpr int kArity = 1;                                                    \
    static constexpr bool kHasBeta = has_beta;                                          \
    static constexpr FormulaText kText = {#Name, #value, #da, "T(0)", #dbeta};          \
    template <class T>                                                                  \
    static ACTSEARCH_FORMULA T Value(T a, [[maybe_unused]] T beta) {                    \
      return value;                                                                     \
    }                                                                                   \
    template <class T>                                                                  \
    static ACTSEARCH_FORMULA T DA(T a, [[maybe_unused]] T y, [[maybe_unused]] T beta) { \
      return da;                                                                        \
    }                                                                                   \
    template <class T>                                                                  \
    static ACTSEARCH_FORMULA T DBeta([[maybe_unused]] T a, [[maybe_unused]] T y,        \
                                     [[maybe_unused]] T beta) {                         \
      return dbeta;                                                                     \
    }                                                                                   \
  };

// clang-format off
ACTSEARCH_UNARY(Neg, false, -a, T(-1), T(0))
ACTSEARCH_UNARY(Abs, false, std::abs(a), Sign(a), T(0))
ACTSEARCH_UNARY(Square, false, a * a, T(2) * a, T(0))
ACTSEARCH_UNARY(Cube, false, a * a * a, T(3) * a * a, T(0))
ACTSEARCH_UNARY(Sqrt, false, std::sqrt(std::max(a, T(0)) + T(kEps)),
                a > T(0) ? T(0.5) / y : T(0), T(0))
ACTSEARCH_UNARY(Scale, true, beta * a, beta, a)
ACTSEARCH_UNARY(Shift, true, a + beta, T(1), T(1))
ACTSEARCH_UNARY(LogAbs, false, std::log(std::abs(a) + T(kEps)), Sign(a) / (std::abs(a) + T(kEps)), T(0))
ACTSEARCH_UNARY(ExpOp, false, Exp(a), y, T(0))
ACTSEARCH_UNARY(Sin, false, std::sin(a), std::cos(a), T(0))
ACTSEARCH_UNARY(Cos, false, std::cos(a), -std::sin(a), T(0))
ACTSEARCH_UNARY(Sinh, false, Math<T>::Sinh(a), Math<T>::Cosh(a), T(0))
ACTSEARCH_UNARY(Cosh, false, Math<T>::Cosh(a), Math<T>::Sinh(a), T(0))
ACTSEARCH_UNARY(Tanh, false, Math<T>::Tanh(a), T(1) - y * y, T(0))
ACTSEARCH_UNARY(Asinh, false, std::asinh(a), T(1) / std::sqrt(a * a + T(1)), T(0))
ACTSEARCH_UNARY(Atan, false, std::atan(a), T(1) / (T(1) + a * a), T(0))
// Below |a| = 0.5 the quotients lose digits to cancellation (in float); the series does not.
ACTSEARCH_UNARY(Sinc, false,
                std::abs(a) < T(0.5) ? SincSeries(a) : std::sin(a) / a,
                std::abs(a) < T(0.5) ? SincSlopeSeries(a) : (a * std::cos(a) - std::sin(a)) / (a * a),
                T(0))
ACTSEARCH_UNARY(Relu, false, std::max(a, T(0)), Step<T>(a > T(0)), T(0))
ACTSEARCH_UNARY(Min0, false, std::min(a, T(0)), Step<T>(a < T(0)), T(0))
ACTSEARCH_UNARY(SigmoidOp, false, Sigmoid(a), y * (T(1) - y), T(0))
ACTSEARCH_UNARY(Softplus, false, std::max(a, T(0)) + std::log1p(Exp(-std::abs(a))), Sigmoid(a), T(0))
ACTSEARCH_UNARY(Gaussian, false, Exp(-a * a), T(-2) * a * y, T(0))
ACTSEARCH_UNARY(Erf, false, std::erf(a), T(1.1283791670955126) * Exp(-a * a), T(0))
// clang-format on
#undef ACTSEARCH_UNARY

// Binary operators: Value(a, b, beta) and the partials DA, DB, DBeta given y.
#define ACTSEARCH_BINARY(Name, has_beta, value, da, db, dbeta)                        \
  struct Name {                                                                       \
    static constexpr int kArity = 2;                                                  \
    static constexpr bool kHasBeta = has_beta;                                        \
    static constexpr FormulaText kText = {#Name, #value, #da, #db, #dbeta};           \
    template <class T>                                                                \
    static ACTSEARCH_FORMULA T Value(T a, T b, [[maybe_unused]] T beta) {             \
      return value;                                                                   \
    }                                                                                 \
    template <class T>                                                                \
    static ACTSEARCH_FORMULA T DA([[maybe_unused]] T a, [[maybe_unused]] T b,         \
                                  [[maybe_unused]] T y, [[maybe_unused]] T beta) {    \
      return da;                                                                      \
    }                                                                                 \
    template <class T>                                                                \
    static ACTSEARCH_FORMULA T DB([[maybe_unused]] T a, [[maybe_unused]] T b,         \
                                  [[maybe_unused]] T y, [[maybe_unused]] T beta) {    \
      return db;                                                                      \
    }                                                                                 \
    template <class T>                                                                \
    static ACTSEARCH_FORMULA T DBeta([[maybe_unused]] T a, [[maybe_unused]] T b,      \
                                     [[maybe_unused]] T y, [[maybe_unused]] T beta) { \
      return dbeta;                                                                   \
    }                                                                                 \
  };

// clang-format off
ACTSEARCH_BINARY(Add, false, a + b, T(1), T(1), T(0))
ACTSEARCH_BINARY(Mul, false, a * b, b, a, T(0))
ACTSEARCH_BINARY(Sub, false, a - b, T(1), T(-1), T(0))
ACTSEARCH_BINARY(Div, false, a / SignedEpsDenominator(b), T(1) / SignedEpsDenominator(b),
                 -y / SignedEpsDenominator(b), T(0))
ACTSEARCH_BINARY(Max, false, a >= b ? a : b, Step<T>(a >= b), Step<T>(a < b), T(0))
ACTSEARCH_BINARY(Min, false, a <= b ? a : b, Step<T>(a <= b), Step<T>(a > b), T(0))
ACTSEARCH_BINARY(Sigmul, false, Sigmoid(a) * b, Sigmoid(a) * (T(1) - Sigmoid(a)) * b, Sigmoid(a), T(0))
ACTSEARCH_BINARY(Rbf, true, Exp(-beta * (a - b) * (a - b)), T(-2) * beta * (a - b) * y,
                 T(2) * beta * (a - b) * y, -(a - b) * (a - b) * y)
ACTSEARCH_BINARY(Laplace, true, Exp(-beta * std::abs(a - b)), -beta * Sign(a - b) * y,
                 beta * Sign(a - b) * y, -std::abs(a - b) * y)
ACTSEARCH_BINARY(Mix, true, beta * a + (T(1) - beta) * b, beta, T(1) - beta, a - b)
// clang-format on
#undef ACTSEARCH_BINARY

// Calls visitor(Formula{}) for the formula of a unary or binary op.
// Returns false for leaves and the identity token, which have no formula.
template <class Visitor>
bool VisitFormula(OpId op, Visitor&& visitor) {
  switch (op) {
    case OpId::kNeg: visitor(Neg{}); return true;
    case OpId::kAbs: visitor(Abs{}); return true;
    case OpId::kSquare: visitor(Square{}); return true;
    case OpId::kCube: visitor(Cube{}); return true;
    case OpId::kSqrt: visitor(Sqrt{}); return true;
    case OpId::kScale: visitor(Scale{}); return true;
    case OpId::kShift: visitor(Shift{}); return true;
    case OpId::kLogAbs: visitor(LogAbs{}); return true;
    case OpId::kExp: visitor(ExpOp{}); return true;
    case OpId::kSin: visitor(Sin{}); return true;
    case OpId::kCos: visitor(Cos{}); return true;
    case OpId::kSinh: visitor(Sinh{}); return true;
    case OpId::kCosh: visitor(Cosh{}); return true;
    case OpId::kTanh: visitor(Tanh{}); return true;
    case OpId::kAsinh: visitor(Asinh{}); return true;
    case OpId::kAtan: visitor(Atan{}); return true;
    case OpId::kSinc: visitor(Sinc{}); return true;
    case OpId::kRelu: visitor(Relu{}); return true;
    case OpId::kMin0: visitor(Min0{}); return true;
    case OpId::kSigmoid: visitor(SigmoidOp{}); return true;
    case OpId::kSoftplus: visitor(Softplus{}); return true;
    case OpId::kGaussian: visitor(Gaussian{}); return true;
    case OpId::kErf: visitor(Erf{}); return true;
    case OpId::kAdd: visitor(Add{}); return true;
    case OpId::kMul: visitor(Mul{}); return true;
    case OpId::kSub: visitor(Sub{}); return true;
    case OpId::kDiv: visitor(Div{}); return true;
    case OpId::kMax: visitor(Max{}); return true;
    case OpId::kMin: visitor(Min{}); return true;
    case OpId::kSigmul: visitor(Sigmul{}); return true;
    case OpId::kRbf: visitor(Rbf{}); return true;
    case OpId::kLaplace: visitor(Laplace{}); return true;
    case OpId::kMix: visitor(Mix{}); return true;
    case OpId::kInput:
    case OpId::kBeta:
    case OpId::kIdentity: return false;
  }
  return false;
}

}  // namespace
}  // namespace actsearch::formulas
