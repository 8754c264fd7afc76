#include "activation/expression_activation.h"

#include "activation/primitive_ops.h"

namespace actsearch {

ExpressionActivationImpl::ExpressionActivationImpl(ExpressionActivationOptions options)
    : options_(std::move(options)),
      compiled_(c10::make_intrusive<CompiledExpression>(options_.expr())) {
  const std::vector<double>& initial = compiled_->program.initial_betas();
  torch::Tensor betas = torch::empty({static_cast<int64_t>(initial.size()), options_.channels()});
  for (size_t k = 0; k < initial.size(); ++k) betas[k].fill_(initial[k]);
  // A parameter with no elements would only clutter optimizers and checkpoints.
  betas_ = initial.empty() ? betas : register_parameter("betas", betas);
}

torch::Tensor ExpressionActivationImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() >= 2 && x.size(1) == options_.channels(), "expected [N, ",
              options_.channels(), ", ...] input, got ", x.sizes());
  if (options_.fused()) return FusedActivation(compiled_, x, betas_);
  return EvaluateWithTorchOps(options_.expr(), x, BroadcastBetas(betas_, x));
}

}  // namespace actsearch
