#include "activation/surrogate_kernels.h"

#include "activation/surrogate_formulas.h"
#include "activation/vector_clones.h"

namespace actsearch {
namespace {

template <class T, bool kNegativeOnly, class Formula>
ACTSEARCH_FORMULA void Loop(const T* __restrict x, const T* __restrict grad_y, T* __restrict grad_x,
                            int64_t n, T a, Formula) {
  for (int64_t i = 0; i < n; ++i) {
    const T slope = Formula::Slope(x[i], a);
    grad_x[i] = grad_y[i] * (kNegativeOnly && x[i] > T(0) ? T(1) : slope);
  }
}

// sugar_test.cc holds each formula to autograd of the surrogate built from LibTorch operators.
template <class T, bool kNegativeOnly>
ACTSEARCH_FORMULA void Dispatch(SurrogateKind kind, T a, const T* x, const T* gy, T* gx,
                                int64_t n) {
  // Inlined, so that each vector clone of the entry points vectorises its own loop.
  surrogates::VisitSurrogate(
      kind, [&](auto formula) __attribute__((always_inline)) {
        Loop<T, kNegativeOnly>(x, gy, gx, n, a, formula);
      });
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
