// The few places where Debian's LibTorch 1.13 and the LibTorch 2.x of current PyTorch wheels
// differ. Everything version-dependent goes through here.
#pragma once

#include <torch/torch.h>

#if !defined(TORCH_VERSION_MAJOR)
#include <torch/version.h>
#endif

namespace actsearch::compat {

inline constexpr bool kTorch2 = TORCH_VERSION_MAJOR >= 2;

inline std::string TorchVersion() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

// The memory format a tensor is densely laid out in, if it is one of the two we handle.
inline bool IsChannelsLast(const torch::Tensor& t) {
  return t.dim() == 4 && t.is_contiguous(torch::MemoryFormat::ChannelsLast) && !t.is_contiguous();
}

}  // namespace actsearch::compat
