// The slopes f'(v) of SUGAR's named surrogates, written once: compiled here into the CPU loops
// (surrogate_kernels.cc), and as text into the generated GPU kernels (kernel_source.h), so
// that both compute one formula. `a` is the surrogate's parameter (alpha); each body is a
// statement block over the scalar type T, using op_formulas.h's helpers (Exp, Sigmoid).
#pragma once

#include "activation/surrogate_kernels.h"
#include "search_space/op_formulas.h"

namespace actsearch::surrogates {

using formulas::Exp;
using formulas::Sigmoid;

#define ACTSEARCH_SURROGATE(Name, ...)                                                       \
  struct Name {                                                                              \
    static constexpr const char* kText = #__VA_ARGS__;                                       \
    template <class T>                                                                       \
    static ACTSEARCH_FORMULA T Slope([[maybe_unused]] T v, [[maybe_unused]] T a) __VA_ARGS__ \
  };

// clang-format off
// (v + a) * sigmoid(v) - a/2
ACTSEARCH_SURROGATE(BSilu, { const T s = Sigmoid(v); return s + (v + a) * s * (T(1) - s); })
// v for v > 0, -a / (1 + v^2) otherwise
ACTSEARCH_SURROGATE(Nelu, { const T q = T(1) + v * v; return v > T(0) ? T(1) : T(2) * a * v / (q * q); })
ACTSEARCH_SURROGATE(Elu, { return v > T(0) ? T(1) : a * Exp(v); })
// scale * alpha with SELU's fixed constants
ACTSEARCH_SURROGATE(Selu, {
  return v > T(0) ? T(1.0507009873554805) : T(1.7580993408473766) * Exp(v);
})
// exact GELU: Phi(v) + v phi(v)
ACTSEARCH_SURROGATE(Gelu, {
  const T cdf = T(0.5) * (T(1) + std::erf(v * T(0.70710678118654752)));
  return cdf + v * T(0.3989422804014327) * Exp(T(-0.5) * v * v);
})
ACTSEARCH_SURROGATE(Silu, { const T s = Sigmoid(v); return s * (T(1) + v * (T(1) - s)); })
// tanh(softplus(v)) = p / (p + 2) with p = e^v (e^v + 2): no log, no cancellation. Beyond
// v = 20 it is 1 to working precision, and e^v squared would overflow.
ACTSEARCH_SURROGATE(Mish, {
  const T e = Exp(std::min(v, T(20)));
  const T p = e * (e + T(2));
  const T t = p / (p + T(2));
  return t + v * Sigmoid(v) * (T(1) - t * t);
})
ACTSEARCH_SURROGATE(LeakyRelu, { return v > T(0) ? T(1) : a; })
// clang-format on
#undef ACTSEARCH_SURROGATE

// Calls visit(S{}) with the formula struct of `kind` (not kExpression); false for kExpression.
template <class Visit>
bool VisitSurrogate(SurrogateKind kind, Visit&& visit) {
  switch (kind) {
    case SurrogateKind::kBSilu: visit(BSilu{}); return true;
    case SurrogateKind::kNelu: visit(Nelu{}); return true;
    case SurrogateKind::kElu: visit(Elu{}); return true;
    case SurrogateKind::kSelu: visit(Selu{}); return true;
    case SurrogateKind::kGelu: visit(Gelu{}); return true;
    case SurrogateKind::kSilu: visit(Silu{}); return true;
    case SurrogateKind::kMish: visit(Mish{}); return true;
    case SurrogateKind::kLeakyRelu: visit(LeakyRelu{}); return true;
    case SurrogateKind::kExpression: return false;
  }
  return false;
}

}  // namespace actsearch::surrogates
