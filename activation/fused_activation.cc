#include "activation/fused_activation.h"

#include <iostream>
#include <string>

#include "activation/cpu_kernel.h"
#include "activation/primitive_ops.h"
#include "search_space/printer.h"
#ifdef ACTSEARCH_GENERATED_KERNELS
#include "activation/generated_kernels.h"
#endif

namespace actsearch {

namespace {

// Betas (float parameters) cast to x's dtype, so that under bf16 autocast the activation's
// output stays bf16 instead of being promoted to float and doubling the memory traffic. The
// cast is differentiable: the betas' gradient comes back in float.
torch::Tensor InDtypeOf(const torch::Tensor& x, const torch::Tensor& betas) {
  return betas.scalar_type() == x.scalar_type() ? betas : betas.to(x.scalar_type());
}

#ifdef ACTSEARCH_GENERATED_KERNELS
// The expression's generated kernels for x's device, or null: x is not a layout they take,
// ACTSEARCH_GENERATED_KERNELS=0 turns them off (for comparisons), or they cannot be built,
// which is said once per expression and device.
GeneratedKernels* KernelsFor(CompiledExpression& compiled, const torch::Tensor& x) {
  if (!GeneratedKernels::Supports(x) || !GeneratedKernelsEnabled()) return nullptr;
  const std::lock_guard<std::mutex> lock(compiled.cuda_mutex);
  const int device = x.device().index();
  auto found = compiled.cuda_kernels.find(device);
  if (found == compiled.cuda_kernels.end()) {
    std::string why_not;
    found = compiled.cuda_kernels
                .emplace(device, GeneratedKernels::Load(compiled.expr, x.device(), &why_not))
                .first;
    if (!found->second) {
      std::cerr << "actsearch: no generated CUDA kernels for " << ToString(compiled.expr) << " ("
                << why_not << "); using LibTorch operators\n";
    }
  }
  return found->second.get();
}
#endif

class FusedFunction : public torch::autograd::Function<FusedFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& betas,
                               c10::intrusive_ptr<CompiledExpression> compiled) {
    ctx->save_for_backward({x, betas});
    ctx->saved_data["compiled"] = c10::IValue::make_capsule(compiled);
    if (CpuKernelSupports(x)) return FusedForwardCpu(compiled->program, x, betas);
#ifdef ACTSEARCH_GENERATED_KERNELS
    if (GeneratedKernels* kernels = KernelsFor(*compiled, x)) return kernels->Forward(x, betas);
#endif
    torch::NoGradGuard no_grad;
    return EvaluateWithTorchOps(compiled->expr, x, BroadcastBetas(InDtypeOf(x, betas), x));
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& betas = saved[1];
    const auto compiled = c10::static_intrusive_pointer_cast<CompiledExpression>(
        ctx->saved_data["compiled"].toCapsule());
    if (CpuKernelSupports(x)) {
      FusedGradients g = FusedBackwardCpu(compiled->program, x, betas, grads[0]);
      return {g.x, g.betas, torch::Tensor()};
    }
#ifdef ACTSEARCH_GENERATED_KERNELS
    if (GeneratedKernels* kernels = KernelsFor(*compiled, x)) {
      auto [grad_x, grad_betas] = kernels->Backward(x, betas, grads[0]);
      return {grad_x, grad_betas, torch::Tensor()};
    }
#endif
    // Other devices: rebuild the expression's graph for this backward only.
    torch::AutoGradMode enable(true);
    const torch::Tensor x_leaf = x.detach().requires_grad_(true);
    const torch::Tensor betas_leaf = betas.detach().requires_grad_(true);
    const torch::Tensor y = EvaluateWithTorchOps(
        compiled->expr, x_leaf, BroadcastBetas(InDtypeOf(x_leaf, betas_leaf), x_leaf));
    std::vector<torch::Tensor> inputs = {x_leaf};
    if (betas.numel() > 0) inputs.push_back(betas_leaf);
    auto g = torch::autograd::grad({y}, inputs, {grads[0]}, /*retain_graph=*/false,
                                   /*create_graph=*/false, /*allow_unused=*/true);
    torch::Tensor grad_betas =
        betas.numel() > 0 && g[1].defined() ? g[1] : torch::zeros_like(betas);
    torch::Tensor grad_x = g[0].defined() ? g[0] : torch::zeros_like(x);
    return {grad_x, grad_betas, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor FusedActivation(const c10::intrusive_ptr<CompiledExpression>& compiled,
                              const torch::Tensor& x, const torch::Tensor& betas) {
  return FusedFunction::apply(x, betas, compiled);
}

}  // namespace actsearch
