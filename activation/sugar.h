// SUGAR (surrogate gradient for ReLU, arXiv 2505.22074): the forward pass is exactly ReLU,
// the backward pass multiplies the incoming gradient by the derivative f'(x) of a smooth
// surrogate f instead of ReLU's step. See docs/reevaluation.md.
#pragma once

#include <torch/torch.h>

#include <string>

#include "activation/fused_activation.h"
#include "activation/surrogate_kernels.h"
#include "search_space/expr.h"

namespace actsearch {

// A surrogate function f. Cheap to copy: the compiled expression is shared and immutable.
struct Surrogate {
  SurrogateKind kind = SurrogateKind::kBSilu;
  double alpha = 1.67;  // a for B-SiLU and NeLU, ELU's alpha, LeakyReLU's slope; else unused
  c10::intrusive_ptr<CompiledExpression> expression;  // kExpression only

  static Surrogate BSilu(double alpha = 1.67);
  // 0.1: the paper reports {0.01, 0.05, 0.1} (docs/papers.md); 0.1 is the value used for the
  // convolutional network (Conv2NeXt), the family closest to our ResNet children (0.01 was for
  // Swin).
  static Surrogate Nelu(double alpha = 0.1);
  static Surrogate Elu(double alpha = 1.0);
  static Surrogate Selu();
  static Surrogate Gelu();
  static Surrogate Silu();
  static Surrogate Mish();
  static Surrogate LeakyRelu(double negative_slope = 0.01);
  // The derivative of `e` at its initial betas. The betas are constants, not parameters: the
  // forward pass (ReLU) does not depend on them, so the loss has no gradient to train them by.
  static Surrogate FromExpression(Expr e);

  // The name used in activation specs: bsilu, nelu, elu, selu, gelu, silu, mish, leaky_relu,
  // or the printed expression.
  std::string Name() const;
  // Whether alpha means something for this kind.
  bool HasAlpha() const;
};

enum class SugarVariant {
  kEverywhere,    // dy/dx = f'(x) for every x: the FGI form of the paper
  kNegativeOnly,  // dy/dx = 1 for x > 0 (ReLU's own), f'(x) for x <= 0
};
const char* SugarVariantName(SugarVariant variant);  // "everywhere" or "negative only"

// f(x) built from LibTorch operators (LibTorch's own elu, selu, gelu, silu, mish and
// leaky_relu where they exist). Differentiable: autograd of it defines f'.
torch::Tensor SurrogateValue(const Surrogate& surrogate, const torch::Tensor& x);

// y = relu(x), bit for bit; dL/dx = dL/dy * f'(x) (kNegativeOnly: 1 where x > 0). A custom
// autograd function that saves only x: one elementwise pass forward, one backward (a
// hand-written loop for dense float/double CPU tensors, LibTorch operators elsewhere).
torch::Tensor SugarRelu(const torch::Tensor& x, const Surrogate& surrogate,
                        SugarVariant variant = SugarVariant::kEverywhere);

// The same function by forward gradient injection, the reference the tests hold SugarRelu to:
// y = sg(relu(x)) + g(x) - sg(g(x)), g = f (kEverywhere) or where(x > 0, x, f(x)), with sg the
// stop-gradient (detach). Its forward output equals relu(x) in value (-0.0 may become +0.0).
torch::Tensor SugarReluByGradientInjection(const torch::Tensor& x, const Surrogate& surrogate,
                                           SugarVariant variant = SugarVariant::kEverywhere);

struct SugarOptions {
  explicit SugarOptions(Surrogate surrogate) : surrogate_(std::move(surrogate)) {}
  TORCH_ARG(Surrogate, surrogate);
  TORCH_ARG(SugarVariant, variant) = SugarVariant::kEverywhere;
};

// ReLU with a surrogate gradient, as a module. No parameters, no buffers.
class SugarImpl : public torch::nn::Module {
 public:
  explicit SugarImpl(SugarOptions options) : options_(std::move(options)) {}
  torch::Tensor forward(const torch::Tensor& x) {
    return SugarRelu(x, options_.surrogate(), options_.variant());
  }
  const SugarOptions& options() const { return options_; }
  void pretty_print(std::ostream& stream) const override;

 private:
  SugarOptions options_;
};
TORCH_MODULE(Sugar);

}  // namespace actsearch
