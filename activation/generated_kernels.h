// A candidate's generated CUDA kernels (activation/kernel_source.h), and SUGAR's, compiled by
// NVRTC for the device at hand and launched on PyTorch's current stream. Built in the CUDA
// configuration.
//
// Compiled binaries are cached by the source's content: in memory per device, and on disk
// under $ACTSEARCH_KERNEL_CACHE (default ~/.cache/actsearch/kernels), so the second child of a
// class, or of a rerun, loads without compiling. When they cannot be built (no NVRTC, a
// compile error, a driver that refuses the binary), Load says why, and the caller falls back
// to the LibTorch operators with that reason logged once.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>

#include "activation/surrogate_kernels.h"
#include "search_space/expr.h"

namespace actsearch {

struct KernelModule;  // a generated source loaded on one device (generated_kernels.cc)

// False when ACTSEARCH_GENERATED_KERNELS=0 (for comparisons): the LibTorch operators run.
bool GeneratedKernelsEnabled();

class GeneratedKernels {
 public:
  // The kernels of `e` on `device` (a CUDA device), or nullptr with `*why_not` set.
  static std::shared_ptr<GeneratedKernels> Load(const Expr& e, const torch::Device& device,
                                                std::string* why_not);

  // What the kernels take: float or bf16, 2-D [N, C] or contiguous NCHW, or 4-D channels-last.
  static bool Supports(const torch::Tensor& x);

  // x: [N, C, ...]; betas: [K, C].
  torch::Tensor Forward(const torch::Tensor& x, const torch::Tensor& betas) const;
  // (grad_x, grad_betas), grad_betas in betas' dtype.
  std::pair<torch::Tensor, torch::Tensor> Backward(const torch::Tensor& x,
                                                   const torch::Tensor& betas,
                                                   const torch::Tensor& grad_y) const;

  GeneratedKernels(std::shared_ptr<const KernelModule> module, int num_betas)
      : module_(std::move(module)), num_betas_(num_betas) {}

 private:
  std::shared_ptr<const KernelModule> module_;
  int num_betas_;
};

// SUGAR's generated surrogate backward (GenerateSurrogateSource), loaded the same way.
class GeneratedSurrogate {
 public:
  // The kernels of the surrogate on `device`, or nullptr with `*why_not` set.
  static std::shared_ptr<GeneratedSurrogate> Load(SurrogateKind kind, double alpha,
                                                  const Expr& expression,
                                                  const torch::Device& device,
                                                  std::string* why_not);

  // Float or bf16, any dense layout.
  static bool Supports(const torch::Tensor& x);

  // grad_y * f'(x); with negative_only, grad_y where x > 0.
  torch::Tensor Backward(const torch::Tensor& x, const torch::Tensor& grad_y,
                         bool negative_only) const;

  explicit GeneratedSurrogate(std::shared_ptr<const KernelModule> module)
      : module_(std::move(module)) {}

 private:
  std::shared_ptr<const KernelModule> module_;
};

// PWLU's generated kernels (GeneratePwluSource) for N intervals, loaded the same way.
class GeneratedPwlu {
 public:
  static std::shared_ptr<GeneratedPwlu> Load(int intervals, const torch::Device& device,
                                             std::string* why_not);

  // Float or bf16, [N, C, ...] contiguous or 4-D channels-last; `units` is 1 or C. The
  // channels-last backward puts a block's threads on every channel: C must fit in a block.
  static bool Supports(const torch::Tensor& x, int64_t units, int intervals);

  // Tables as in activation/pwlu.h, on x's device: [G] bounds and slopes, [G, N + 1] points.
  torch::Tensor Forward(const torch::Tensor& x, const torch::Tensor& left,
                        const torch::Tensor& right, const torch::Tensor& left_slope,
                        const torch::Tensor& right_slope, const torch::Tensor& points) const;
  // (grad_x, records): records [G, RecordWidth(N)] float, pwlu_kernel.h's layout, summed.
  std::pair<torch::Tensor, torch::Tensor> Backward(
      const torch::Tensor& x, const torch::Tensor& left, const torch::Tensor& right,
      const torch::Tensor& left_slope, const torch::Tensor& right_slope,
      const torch::Tensor& points, const torch::Tensor& grad_y) const;

  GeneratedPwlu(std::shared_ptr<const KernelModule> module, int intervals)
      : module_(std::move(module)), intervals_(intervals) {}

 private:
  std::shared_ptr<const KernelModule> module_;
  int intervals_;
};

}  // namespace actsearch
