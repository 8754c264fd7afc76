// Training-mode BatchNorm followed by ReLU, with an optional residual added in between, as one
// operation on the CPU: relu(batch_norm(x) + residual).
//
// As separate operators, LibTorch goes over the whole activation tensor four times forward
// (statistics, normalise, add, ReLU) and three times backward (threshold_backward, then
// BatchNorm's two); this goes over it twice each way: the statistics, then everything else
// forward; the per-channel sums, then the gradients backward. The ReLU baseline of every search,
// and every child whose activation is ReLU, trains through it (worker/model_layers.h picks it).
#pragma once

#include <torch/torch.h>

namespace actsearch {

// Whether BatchNormRelu takes these inputs: 4-d float32 CPU tensors, contiguous (NCHW) or
// channels-last, the residual (if defined) of x's shape.
bool CanFuseBatchNormRelu(const torch::Tensor& x, const torch::Tensor& residual);

// relu(batch_norm(x) + residual) with batch statistics, as torch::batch_norm in training mode:
// normalises with the biased variance, updates running_mean and running_var (unbiased) in place
// with `momentum`. residual may be undefined. Gradients flow to x, weight, bias and residual;
// the output keeps x's memory format. Requires CanFuseBatchNormRelu(x, residual), and weight,
// bias and the running statistics as contiguous float32 CPU vectors (BatchNorm2d's own).
torch::Tensor BatchNormRelu(const torch::Tensor& x, const torch::Tensor& weight,
                            const torch::Tensor& bias, const torch::Tensor& residual,
                            torch::Tensor running_mean, torch::Tensor running_var, double momentum,
                            double eps);

}  // namespace actsearch
