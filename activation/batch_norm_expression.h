// Training-mode BatchNorm followed by a searched activation, with an optional residual added in
// between, as one operation on the CPU: f(batch_norm(x) + residual) for a compiled expression f
// with per-channel betas.
//
// Forward reads x twice (the statistics, then normalising into a cache-sized buffer that the
// expression runs over) and writes y once; the normalised tensor is never stored. Backward
// normalises again block by block, runs the expression's backward there, and then BatchNorm's:
// three passes where the separate operators make about eight. Every child network whose
// activation is an expression trains through it on a CPU (worker/model_layers.h picks it).
#pragma once

#include <torch/torch.h>

#include "activation/fused_activation.h"

namespace actsearch {

// Whether BatchNormExpression takes these inputs: as CanFuseBatchNormRelu.
bool CanFuseBatchNormExpression(const torch::Tensor& x, const torch::Tensor& residual);

// f(batch_norm(x) + residual), BatchNorm as in BatchNormRelu (batch statistics, running
// statistics updated in place); betas: [K, C] float32, K = compiled->program.num_betas().
// Gradients flow to x, betas, weight, bias and residual.
torch::Tensor BatchNormExpression(const c10::intrusive_ptr<CompiledExpression>& compiled,
                                  const torch::Tensor& betas, const torch::Tensor& x,
                                  const torch::Tensor& weight, const torch::Tensor& bias,
                                  const torch::Tensor& residual, torch::Tensor running_mean,
                                  torch::Tensor running_var, double momentum, double eps);

}  // namespace actsearch
