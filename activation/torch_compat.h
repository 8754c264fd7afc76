// The few places where Debian's LibTorch 1.13 and the LibTorch 2.x of current PyTorch wheels
// differ. Everything version-dependent goes through here.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#if !defined(TORCH_VERSION_MAJOR)
#include <torch/version.h>
#endif

namespace actsearch::compat {

inline std::string TorchVersion() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

// The memory format a tensor is densely laid out in, if it is one of the two we handle.
inline bool IsChannelsLast(const torch::Tensor& t) {
  return t.dim() == 4 && t.is_contiguous(torch::MemoryFormat::ChannelsLast) && !t.is_contiguous();
}

// Turns CUDA autocast to `dtype` on or off for the calling thread. The API was renamed between
// LibTorch 1.13 (set_enabled, set_autocast_gpu_dtype) and 2.x (per-device calls).
inline void SetCudaAutocast(bool enabled, at::ScalarType dtype = at::kBFloat16) {
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
#else
  at::autocast::set_autocast_gpu_dtype(dtype);
  at::autocast::set_enabled(enabled);
#endif
  if (!enabled) at::autocast::clear_cache();
}

// Converts a module's 4-D parameters and buffers to channels_last in place (LibTorch's
// Module::to has no memory-format overload in C++).
inline void ToChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

// Drops the gradients instead of zeroing them: the next backward writes fresh tensors, which
// saves a pass over every parameter. (2.x does this by default; 1.13's zero_grad() zeroes.)
inline void ZeroGradToNone(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups()) {
    for (torch::Tensor& p : group.params()) p.mutable_grad().reset();
  }
}

}  // namespace actsearch::compat
