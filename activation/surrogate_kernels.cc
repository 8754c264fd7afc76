#include "activation/surrogate_kernels.h"

#include <algorithm>
#include <cmath>

#include "activation/vector_clones.h"
#include "search_space/op_formulas.h"

namespace actsearch {
namespace {

using formulas::Exp;
using formulas::Sigmoid;

constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

template <class T, bool kNegativeOnly, class Derivative>
ACTSEARCH_FORMULA void Loop(const T* __restrict x, const T* __restrict grad_y, T* __restrict grad_x,
                            int64_t n, Derivative derivative) {
  for (int64_t i = 0; i < n; ++i) {
    const T slope = derivative(x[i]);
    grad_x[i] = grad_y[i] * (kNegativeOnly && x[i] > T(0) ? T(1) : slope);
  }
}

// The analytic derivatives (exp and sigmoid are the expression evaluator's vectorisable
// ones). sugar_test.cc holds each to autograd of the surrogate built from LibTorch operators.
template <class T, bool kNegativeOnly>
ACTSEARCH_FORMULA void Dispatch(SurrogateKind kind, T a, const T* x, const T* gy, T* gx,
                                int64_t n) {
  switch (kind) {
    case SurrogateKind::kBSilu:
      return Loop<T, kNegativeOnly>(x, gy, gx, n, [a](T v) {
        const T sig = Sigmoid(v);
        return sig + (v + a) * sig * (T(1) - sig);
      });
    case SurrogateKind::kNelu:
      return Loop<T, kNegativeOnly>(x, gy, gx, n, [a](T v) {
        const T q = T(1) + v * v;
        return v > T(0) ? T(1) : T(2) * a * v / (q * q);
      });
    case SurrogateKind::kElu:
      return Loop<T, kNegativeOnly>(x, gy, gx, n,
                                    [a](T v) { return v > T(0) ? T(1) : a * Exp(v); });
    case SurrogateKind::kSelu:
      return Loop<T, kNegativeOnly>(x, gy, gx, n, [](T v) {
        return v > T(0) ? T(kSeluScale) : T(kSeluScale * kSeluAlpha) * Exp(v);
      });
    case SurrogateKind::kGelu:
      return Loop<T, kNegativeOnly>(x, gy, gx, n, [](T v) {
        const T cdf = T(0.5) * (T(1) + std::erf(v * T(M_SQRT1_2)));
        return cdf + v * T(0.5 * M_2_SQRTPI * M_SQRT1_2) * Exp(T(-0.5) * v * v);
      });
    case SurrogateKind::kSilu:
      return Loop<T, kNegativeOnly>(x, gy, gx, n, [](T v) {
        const T sig = Sigmoid(v);
        return sig * (T(1) + v * (T(1) - sig));
      });
    case SurrogateKind::kMish:
      return Loop<T, kNegativeOnly>(x, gy, gx, n, [](T v) {
        // tanh(softplus(v)) = p / (p + 2) with p = e^v (e^v + 2): no log, no cancellation.
        // Beyond v = 20 it is 1 to working precision, and e^v squared would overflow.
        const T e = Exp(std::min(v, T(20)));
        const T p = e * (e + T(2));
        const T tanh_softplus = p / (p + T(2));
        return tanh_softplus + v * Sigmoid(v) * (T(1) - tanh_softplus * tanh_softplus);
      });
    case SurrogateKind::kLeakyRelu:
      return Loop<T, kNegativeOnly>(x, gy, gx, n, [a](T v) { return v > T(0) ? T(1) : a; });
    case SurrogateKind::kExpression: break;
  }
}

}  // namespace

ACTSEARCH_VECTOR_CLONES
void SurrogateGradient(SurrogateKind kind, double alpha, bool negative_only, const float* x,
                       const float* grad_y, float* grad_x, int64_t n) {
  const float a = static_cast<float>(alpha);
  if (negative_only) return Dispatch<float, true>(kind, a, x, grad_y, grad_x, n);
  Dispatch<float, false>(kind, a, x, grad_y, grad_x, n);
}

void SurrogateGradient(SurrogateKind kind, double alpha, bool negative_only, const double* x,
                       const double* grad_y, double* grad_x, int64_t n) {
  if (negative_only) return Dispatch<double, true>(kind, alpha, x, grad_y, grad_x, n);
  Dispatch<double, false>(kind, alpha, x, grad_y, grad_x, n);
}

}  // namespace actsearch
