#include "worker/model_layers.h"

#include <atomic>

#include "activation/batch_norm_expression.h"
#include "activation/batch_norm_relu.h"
#include "activation/expression_activation.h"

namespace actsearch::worker {
namespace {

std::atomic<bool> batch_norm_fusion{true};

}  // namespace

torch::nn::Conv2d Conv3x3(int64_t in_channels, int64_t out_channels, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, /*kernel_size=*/3)
                               .stride(stride)
                               .padding(1)
                               .bias(false));
}

torch::nn::Conv2d Conv1x1(int64_t in_channels, int64_t out_channels, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, /*kernel_size=*/1)
                               .stride(stride)
                               .bias(false));
}

torch::nn::AnyModule AddActivation(torch::nn::Module& owner, const std::string& name,
                                   const ActivationFactory& activation, int64_t channels) {
  torch::nn::AnyModule module = activation(channels);
  owner.register_module(name, module.ptr());
  return module;
}

torch::Tensor NormalizeAndActivate(torch::nn::BatchNorm2d& bn, torch::nn::AnyModule& activation,
                                   const torch::Tensor& x, const torch::Tensor& residual) {
  const auto& options = bn->options;
  const bool fusable = batch_norm_fusion && bn->is_training() && options.affine() &&
                       options.track_running_stats() && options.momentum().has_value() &&
                       CanFuseBatchNormRelu(x, residual);  // as CanFuseBatchNormExpression
  const bool relu = fusable && activation.ptr()->as<torch::nn::ReLU>() != nullptr;
  auto* expression = fusable ? activation.ptr()->as<ExpressionActivation>() : nullptr;
  if (!relu && !(expression && expression->options().fused())) {
    const torch::Tensor normalized = bn->forward(x);
    return activation.forward(residual.defined() ? normalized + residual : normalized);
  }
  {
    torch::NoGradGuard no_grad;
    bn->num_batches_tracked += 1;  // as BatchNorm2d's own forward counts them
  }
  if (relu) {
    return BatchNormRelu(x, bn->weight, bn->bias, residual, bn->running_mean, bn->running_var,
                         *options.momentum(), options.eps());
  }
  return BatchNormExpression(expression->compiled(), expression->betas(), x, bn->weight, bn->bias,
                             residual, bn->running_mean, bn->running_var, *options.momentum(),
                             options.eps());
}

void SetBatchNormFusion(bool enabled) { batch_norm_fusion = enabled; }

void InitializeConvAndBatchNorm(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (const auto& child : model.modules(/*include_self=*/false)) {
    if (auto* conv = child->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    } else if (auto* bn = child->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
}

}  // namespace actsearch::worker
