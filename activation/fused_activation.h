// The fused activation as a torch::autograd::Function: it saves only the input and the betas,
// never the intermediate values of the expression, and backward recomputes what it needs.
// On CPU (float, double) it runs the fused kernel; on CUDA (float, bf16) the candidate's
// generated kernels where they can be built (activation/generated_kernels.h); elsewhere, and
// when they cannot, it recomputes with LibTorch operators inside backward.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <mutex>

#include "search_space/program.h"

namespace actsearch {

class GeneratedKernels;  // activation/generated_kernels.h, in the CUDA configuration

// An expression with its compiled Program. Reference-counted the LibTorch way so the autograd
// context can hold it: it stays alive until backward has run, even if its module is gone.
struct CompiledExpression : torch::CustomClassHolder {
  explicit CompiledExpression(Expr e) : expr(std::move(e)), program(expr) {}
  Expr expr;
  Program program;
  // Its generated CUDA kernels by device index, once tried (null where they are not to be had).
  std::mutex cuda_mutex;
  std::map<int, std::shared_ptr<GeneratedKernels>> cuda_kernels;
};

// x: [N, C, ...]; betas: [K, C] with K = compiled->program.num_betas() (K may be 0).
torch::Tensor FusedActivation(const c10::intrusive_ptr<CompiledExpression>& compiled,
                              const torch::Tensor& x, const torch::Tensor& betas);

}  // namespace actsearch
