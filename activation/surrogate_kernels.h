// The surrogate derivatives SUGAR's backward pass multiplies by, as elementwise loops over
// plain arrays. No LibTorch here: the file is built with vectorising flags, and its float loops
// are cloned for AVX2 and AVX-512 (the CPU picks one at load time).
#pragma once

#include <cstdint>

namespace actsearch {

enum class SurrogateKind {
  kBSilu,      // (x + a) * sigmoid(x) - a/2, a = alpha (1.67)
  kNelu,       // x for x > 0, -a / (1 + x^2) otherwise, a = alpha (0.1)
  kElu,        // LibTorch's elu, alpha (1)
  kSelu,       // LibTorch's selu (fixed constants)
  kGelu,       // LibTorch's gelu, exact (erf) form
  kSilu,       // x * sigmoid(x)
  kMish,       // x * tanh(softplus(x))
  kLeakyRelu,  // LibTorch's leaky_relu, negative slope alpha (0.01)
  kExpression  // any expression of the grammar (not handled here: see sugar.cc)
};

// grad_x[i] = grad_y[i] * f'(x[i]) for the surrogate f of `kind` with parameter `alpha`, or
// grad_y[i] where x[i] > 0 when negative_only. `kind` is not kExpression.
void SurrogateGradient(SurrogateKind kind, double alpha, bool negative_only, const float* x,
                       const float* grad_y, float* grad_x, int64_t n);
void SurrogateGradient(SurrogateKind kind, double alpha, bool negative_only, const double* x,
                       const double* grad_y, double* grad_x, int64_t n);

}  // namespace actsearch
