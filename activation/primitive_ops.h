// An expression evaluated with ordinary LibTorch operators, one tensor per value. Autograd
// through these operators is the reference the fused path is tested against, and the path
// used on devices the fused kernel does not cover.
#pragma once

#include <torch/torch.h>

#include "search_space/expr.h"

namespace actsearch {

// `betas` has one tensor per beta of the expression (numbered as Program numbers them), each
// broadcastable to x.
torch::Tensor EvaluateWithTorchOps(const Expr& e, const torch::Tensor& x,
                                   const std::vector<torch::Tensor>& betas);

// Per-channel betas [K, C] as K tensors shaped to broadcast over x ([N, C, ...]).
std::vector<torch::Tensor> BroadcastBetas(const torch::Tensor& betas, const torch::Tensor& x);

}  // namespace actsearch
