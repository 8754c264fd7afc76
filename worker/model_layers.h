// Pieces every child network shares: its convolutions, its weight initialisation, and the
// activation slots that take whatever ActivationFactory the search hands in.
#pragma once

#include <torch/torch.h>

#include <string>

#include "worker/resnet.h"

namespace actsearch::worker {

// Bias-free (a BatchNorm follows), "same" padding.
torch::nn::Conv2d Conv3x3(int64_t in_channels, int64_t out_channels, int64_t stride);
// The projection shortcut of the ResNets that change width with a convolution.
torch::nn::Conv2d Conv1x1(int64_t in_channels, int64_t out_channels, int64_t stride);

// Makes an activation for `channels` channels and registers it under `name`, so that its
// parameters (betas, PWLU points) are the owner's parameters. Each call is a new instance.
torch::nn::AnyModule AddActivation(torch::nn::Module& owner, const std::string& name,
                                   const ActivationFactory& activation, int64_t channels);

// activation(bn(x) + residual); residual may be undefined. When the layer trains on a CPU and
// the activation is LibTorch's ReLU or a (fused) expression, one fused operation does it all
// (activation/batch_norm_relu.h, activation/batch_norm_expression.h): the same result in fewer
// passes over memory. SUGAR and PWLU run as BatchNorm, then their own module.
torch::Tensor NormalizeAndActivate(torch::nn::BatchNorm2d& bn, torch::nn::AnyModule& activation,
                                   const torch::Tensor& x, const torch::Tensor& residual = {});

// Turns that fusion off or on for the whole process (on by default): for benchmarks and tests
// that compare the two paths.
void SetBatchNormFusion(bool enabled);

// He et al. (2015) initialisation as the ResNet, Wide-ResNet and torchvision VGG code use it:
// convolution weights Kaiming-normal with fan_out and the ReLU gain, convolution biases 0,
// BatchNorm scale 1 and shift 0. Linear layers keep LibTorch's default.
void InitializeConvAndBatchNorm(torch::nn::Module& model);

}  // namespace actsearch::worker
