// The CPU loops of the fused training-mode BatchNorm + activation over plain float arrays: the
// statistics, the normalisation, and BatchNorm's backward, with ReLU folded in or with the
// gradient past any other activation given. No LibTorch here: the file is built with
// vectorising flags and its loops are cloned for AVX2 and AVX-512. batch_norm_relu.cc and
// batch_norm_expression.cc split the work into blocks and wrap it as autograd functions.
#pragma once

#include <cstdint>

namespace actsearch::batch_norm {

// How x's elements map to channels, in rows; a block of rows is the unit of parallel work.
// kPlanar: contiguous NCHW; a row is one (n, c) plane, all of channel (row % channels).
// kInterleaved: channels-last; a row holds one value of each channel, in channel order.
struct Layout {
  enum Kind { kPlanar, kInterleaved } kind;
  int64_t row;       // elements per row
  int64_t rows;      // rows in x
  int64_t channels;  // C
};

// Per-channel count, mean and sum of squared deviations (M2) of one block, for Chan's merge.
struct Moments {
  double count = 0;
  double mean = 0;
  double m2 = 0;
};

// Adds b's values to `into` (Chan et al.'s pairwise update).
inline void Merge(Moments& into, const Moments& b) {
  if (b.count == 0) return;
  if (into.count == 0) {
    into = b;
    return;
  }
  const double count = into.count + b.count;
  const double delta = b.mean - into.mean;
  into.mean += delta * b.count / count;
  into.m2 += b.m2 + delta * delta * into.count * b.count / count;
  into.count = count;
}

// The moments of rows [begin, end) of x, one per channel, written to moments[0..C). Each
// channel's values are centred on the block's own mean (the block is in cache for the second
// look), so the variance does not suffer the cancellation of a sum of squares.
void BlockMoments(const Layout& layout, const float* x, int64_t begin, int64_t end,
                  Moments* moments);

// y = max(0, x * scale[c] + shift[c] + residual) over rows [begin, end); residual may be null.
void Forward(const Layout& layout, const float* x, const float* residual, const float* scale,
             const float* shift, float* y, int64_t begin, int64_t end);

// u = x * scale[c] + shift[c] + residual over rows [begin, end), written from u[0] (u is a
// buffer for those rows alone); residual may be null.
void Normalize(const Layout& layout, const float* x, const float* residual, const float* scale,
               const float* shift, float* u, int64_t begin, int64_t end);

// Over rows [begin, end), per channel, written to sum_m[0..C) and sum_mx[0..C): the sums of m
// (the gradient past the activation, indexed like x) and of m (x - mean[c]).
void BlockNormalizationSums(const Layout& layout, const float* x, const float* m, const float* mean,
                            int64_t begin, int64_t end, double* sum_m, double* sum_mx);

// grad_x = a[c] m + b[c] (x - mean[c]) + d[c] over rows [begin, end); grad_x must not overlap m.
void NormalizationBackward(const Layout& layout, const float* x, const float* m, const float* mean,
                           const float* a, const float* b, const float* d, float* grad_x,
                           int64_t begin, int64_t end);

// sums[c] += the sum over rows [begin, end) of the values of channel c, values indexed from the
// first element of row `begin` (a buffer for those rows alone).
void AddPerChannel(const Layout& layout, const float* values, int64_t begin, int64_t end,
                   double* sums);

// Where ReLU's gradient passes: y > 0. The output itself, or, when no residual was added, x
// again (y > 0 exactly where x * scale + shift > 0), which saves reading y.
struct ReluMask {
  const float* y = nullptr;      // the output, or null
  const float* scale = nullptr;  // per channel, when y is null
  const float* shift = nullptr;
};

// Over rows [begin, end), per channel, written to sum_g[0..C) and sum_gx[0..C): the sum of
// m = g where the mask passes (the gradient past the ReLU), and the sum of m (x - mean[c]).
void BlockGradientSums(const Layout& layout, const float* x, const ReluMask& mask, const float* g,
                       const float* mean, int64_t begin, int64_t end, double* sum_g,
                       double* sum_gx);

// Over rows [begin, end), with m = g where the mask passes and 0 elsewhere:
// grad_x = a[c] m + b[c] (x - mean[c]) + d[c], and grad_residual = m where it is not null.
void Backward(const Layout& layout, const float* x, const ReluMask& mask, const float* g,
              const float* mean, const float* a, const float* b, const float* d, float* grad_x,
              float* grad_residual, int64_t begin, int64_t end);

}  // namespace actsearch::batch_norm
