// The fused CPU kernel: a compiled expression run over a tensor in one pass, per-channel betas
// broadcast without materialising them, and beta gradients reduced per channel.
#pragma once

#include <torch/torch.h>

#include "search_space/program.h"

namespace actsearch {

// True for float or double CPU tensors [N, C, ...] laid out contiguously or channels_last.
bool CpuKernelSupports(const torch::Tensor& x);

// betas: [K, C] with K = program.num_betas(). Returns y with x's shape and layout.
torch::Tensor FusedForwardCpu(const Program& program, const torch::Tensor& x,
                              const torch::Tensor& betas);

struct FusedGradients {
  torch::Tensor x;      // like x
  torch::Tensor betas;  // [K, C], in the betas' dtype
};
FusedGradients FusedBackwardCpu(const Program& program, const torch::Tensor& x,
                                const torch::Tensor& betas, const torch::Tensor& grad_y);

}  // namespace actsearch
