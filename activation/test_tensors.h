// Helpers the activation tests share for comparing a float computation with a double reference.
#pragma once

#include <torch/torch.h>

#include <algorithm>

namespace actsearch::test_tensors {

// t in NCHW (contiguous) or channels-last memory.
inline torch::Tensor InFormat(const torch::Tensor& t, bool channels_last) {
  return t.contiguous(channels_last ? torch::MemoryFormat::ChannelsLast
                                    : torch::MemoryFormat::Contiguous);
}

// Largest |a - b| relative to the scale of b (at least 1).
inline double RelativeError(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor bd = b.to(torch::kDouble);
  const double scale = std::max(1.0, bd.abs().max().item<double>());
  return (a.to(torch::kDouble) - bd).abs().max().item<double>() / scale;
}

}  // namespace actsearch::test_tensors
