// A LibTorch module that applies a searched activation function: per-channel betas as
// parameters (every instance its own), fused forward/backward by default.
#pragma once

#include <torch/torch.h>

#include "activation/fused_activation.h"
#include "search_space/expr.h"

namespace actsearch {

struct ExpressionActivationOptions {
  ExpressionActivationOptions(Expr expr, int64_t channels)
      : expr_(std::move(expr)), channels_(channels) {}
  TORCH_ARG(Expr, expr);
  TORCH_ARG(int64_t, channels);
  // false: autograd through one LibTorch operator per tree node (the reference path).
  TORCH_ARG(bool, fused) = true;
};

class ExpressionActivationImpl : public torch::nn::Module {
 public:
  explicit ExpressionActivationImpl(ExpressionActivationOptions options);

  // x: [N, C, ...] with C = channels.
  torch::Tensor forward(const torch::Tensor& x);

  const ExpressionActivationOptions& options() const { return options_; }
  // [K, C]: row k is the k-th beta of the expression (post-order), one value per channel.
  const torch::Tensor& betas() const { return betas_; }
  const c10::intrusive_ptr<CompiledExpression>& compiled() const { return compiled_; }

 private:
  ExpressionActivationOptions options_;
  c10::intrusive_ptr<CompiledExpression> compiled_;
  torch::Tensor betas_;
};
TORCH_MODULE(ExpressionActivation);

}  // namespace actsearch
