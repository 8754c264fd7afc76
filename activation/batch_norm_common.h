// What the fused BatchNorm + activation functions share (batch_norm_relu.cc,
// batch_norm_expression.cc): how a tensor is cut into blocks, the batch statistics with the
// running-statistics update, and BatchNorm's backward coefficients. Internal to activation/.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "activation/batch_norm_kernel.h"

namespace actsearch::batch_norm {

// Whether the fused functions take these inputs: 4-d float32 CPU tensors, contiguous (NCHW) or
// channels-last, more than one value per channel, the residual (if defined) of x's shape.
bool CanFuse(const torch::Tensor& x, const torch::Tensor& residual);

torch::MemoryFormat FormatOf(const torch::Tensor& x);
Layout LayoutOf(const torch::Tensor& x);

// Blocks of whole rows, fixed by the shape alone: per-block sums are added up in block order,
// so results do not depend on the number of threads. A block is read twice in a row (the
// statistics), from the cache the second time.
struct Blocks {
  explicit Blocks(const Layout& layout);
  // body(block, first row, end row) for every block, blocks shared out over the threads.
  template <class Body>
  void ForEach(const Body& body) const {
    at::parallel_for(0, count, 1, [&](int64_t first, int64_t last) {
      for (int64_t b = first; b < last; ++b) {
        body(b, b * rows_per_block, std::min(rows, (b + 1) * rows_per_block));
      }
    });
  }
  int64_t elements(int64_t begin, int64_t end) const { return (end - begin) * row; }
  int64_t rows_per_block, count, rows, row;
};

// Rows of the per-channel values kept for backward, in one float tensor [kRows, C].
enum SavedRow : int64_t { kMean, kInvStd, kScale, kShift, kWeight, kRows };

// The batch statistics of x, as torch::batch_norm computes them in training mode (biased
// variance for normalising), with running_mean and running_var (unbiased) updated in place by
// `momentum`. weight, bias and the running statistics must be contiguous float32 CPU vectors.
// Returns the [kRows, C] values: scale = weight * invstd, shift = bias - mean * scale.
torch::Tensor BatchStatistics(const torch::Tensor& x, const Layout& layout, const Blocks& blocks,
                              const torch::Tensor& weight, const torch::Tensor& bias,
                              torch::Tensor& running_mean, torch::Tensor& running_var,
                              double momentum, double eps);

// What both fused functions' forward starts from: x's layout and blocks, its batch statistics
// (running statistics updated, as BatchStatistics) and the residual, if any, in x's memory
// format.
struct BatchNormForward {
  BatchNormForward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                   const torch::Tensor& residual, torch::Tensor& running_mean,
                   torch::Tensor& running_var, double momentum, double eps);
  // Row r of the per-channel values.
  const float* Row(SavedRow r) const { return per_channel.data_ptr<float>() + r * layout.channels; }
  Layout layout;
  Blocks blocks;
  torch::Tensor per_channel;  // [kRows, C]
  torch::MemoryFormat format;
  torch::Tensor residual;  // undefined without one
};

// BatchNorm's backward from the per-block sums of m (the gradient past the activation) and of
// m (x - mean): grad_x = a m + b (x - mean) + d per channel, and the parameters' gradients.
struct NormalizationGradients {
  NormalizationGradients(const torch::Tensor& per_channel, const std::vector<double>& sum_m,
                         const std::vector<double>& sum_mx, int64_t blocks, int64_t count);
  torch::Tensor grad_weight, grad_bias;  // float [C]
  std::vector<float> a, b, d;
};

}  // namespace actsearch::batch_norm
