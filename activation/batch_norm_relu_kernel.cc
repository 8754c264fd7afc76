#include "activation/batch_norm_relu_kernel.h"

#include <algorithm>
#include <vector>

#include "activation/vector_clones.h"

// Everything below inlines into the cloned entry points, so that each build vectorises it.
#define BN_INLINE inline __attribute__((always_inline))

namespace actsearch::batch_norm_relu {
namespace {

// Independent partial sums for a plane's reductions: one AVX-512 vector of floats. Without
// -ffast-math the compiler keeps a single float sum in order and does not vectorise it.
constexpr int kLanes = 16;
// Interleaved rows go in tiles of whole rows of about this many elements: one flat loop over a
// tile, with per-element copies of the per-channel values, vectorises; a loop of C channels per
// row does not, and pays its set-up on every row.
constexpr int64_t kTileElements = 256;

template <class Term>
BN_INLINE float LaneSum(int64_t n, Term term) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) lanes[k] += term(i + k);
  }
  float sum = 0;
  for (; i < n; ++i) sum += term(i);
  for (int k = 0; k < kLanes; ++k) sum += lanes[k];
  return sum;
}

// ReLU that lets NaN through, as LibTorch's does: a diverging child must stay visible.
BN_INLINE float Relu(float v) { return v < 0 ? 0.0f : v; }
// The gradient past ReLU given its output (or its input), as LibTorch's threshold_backward.
BN_INLINE float PastRelu(float y, float g) { return y <= 0 ? 0.0f : g; }

// The tiles of an interleaved block of rows.
class Tiles {
 public:
  Tiles(const Layout& layout, int64_t begin, int64_t end)
      : channels_(layout.channels),
        size_(std::max<int64_t>(1, kTileElements / channels_) * channels_),
        begin_(begin * channels_),
        end_(end * channels_) {}
  int64_t size() const { return size_; }
  // Per-element copies over a tile of a per-channel array.
  std::vector<float> Spread(const float* per_channel) const {
    std::vector<float> out(size_);
    for (int64_t row = 0; row < size_; row += channels_) {  // no modulo: it costs ~30 cycles
      std::copy(per_channel, per_channel + channels_, out.begin() + row);
    }
    return out;
  }
  // Adds tile lanes into per-channel sums.
  template <class T>
  void Fold(const std::vector<float>& lanes, T* per_channel) const {
    for (int64_t row = 0; row < size_; row += channels_) {
      for (int64_t c = 0; c < channels_; ++c) per_channel[c] += lanes[row + c];
    }
  }
  // body(offset, length) for each tile; the last one may be shorter, still whole rows.
  template <class Body>
  BN_INLINE void ForEach(Body body) const {
    for (int64_t o = begin_; o < end_; o += size_) body(o, std::min(size_, end_ - o));
  }

 private:
  int64_t channels_, size_, begin_, end_;
};

// m, the gradient past ReLU at element i, from the output y or from x and the channel's scale
// and shift.
template <bool kFromOutput>
struct Mask {
  BN_INLINE float Apply(const float* y, int64_t i, float x, float scale, float shift,
                        float g) const {
    if constexpr (kFromOutput) {
      return PastRelu(y[i], g);
    } else {
      return PastRelu(x * scale + shift, g);
    }
  }
};

template <bool kFromOutput>
BN_INLINE void GradientSums(const Layout& layout, const float* x, const ReluMask& mask,
                            const float* g, const float* mean, int64_t begin, int64_t end,
                            double* sum_g, double* sum_gx) {
  const Mask<kFromOutput> pass;
  const int64_t channels = layout.channels;
  for (int64_t c = 0; c < channels; ++c) sum_g[c] = sum_gx[c] = 0;
  if (layout.kind == Layout::kInterleaved) {
    const Tiles tiles(layout, begin, end);
    const std::vector<float> mu = tiles.Spread(mean);
    std::vector<float> scale, shift;
    if (!kFromOutput) {
      scale = tiles.Spread(mask.scale);
      shift = tiles.Spread(mask.shift);
    }
    std::vector<float> sg(tiles.size(), 0.0f), sgx(tiles.size(), 0.0f);
    tiles.ForEach([&](int64_t o, int64_t n) {
      for (int64_t k = 0; k < n; ++k) {
        const float m = pass.Apply(mask.y, o + k, x[o + k], kFromOutput ? 0 : scale[k],
                                   kFromOutput ? 0 : shift[k], g[o + k]);
        sg[k] += m;
        sgx[k] += m * (x[o + k] - mu[k]);
      }
    });
    tiles.Fold(sg, sum_g);
    tiles.Fold(sgx, sum_gx);
    return;
  }
  const int64_t n = layout.row;
  for (int64_t r = begin; r < end; ++r) {
    const int64_t c = r % channels, o = r * n;
    const float mu = mean[c];
    const float scale = kFromOutput ? 0 : mask.scale[c], shift = kFromOutput ? 0 : mask.shift[c];
    auto m = [&](int64_t i) {
      return pass.Apply(mask.y, o + i, x[o + i], scale, shift, g[o + i]);
    };
    sum_g[c] += LaneSum(n, m);
    sum_gx[c] += LaneSum(n, [&](int64_t i) { return m(i) * (x[o + i] - mu); });
  }
}

template <bool kFromOutput>
BN_INLINE void BackwardRows(const Layout& layout, const float* x, const ReluMask& mask,
                            const float* g, const float* mean, const float* a, const float* b,
                            const float* d, float* grad_x, float* grad_residual, int64_t begin,
                            int64_t end) {
  const Mask<kFromOutput> pass;
  const int64_t channels = layout.channels;
  if (layout.kind == Layout::kInterleaved) {
    const Tiles tiles(layout, begin, end);
    const std::vector<float> mu = tiles.Spread(mean), at = tiles.Spread(a), bt = tiles.Spread(b),
                             dt = tiles.Spread(d);
    std::vector<float> scale, shift;
    if (!kFromOutput) {
      scale = tiles.Spread(mask.scale);
      shift = tiles.Spread(mask.shift);
    }
    tiles.ForEach([&](int64_t o, int64_t n) {
      for (int64_t k = 0; k < n; ++k) {
        const float m = pass.Apply(mask.y, o + k, x[o + k], kFromOutput ? 0 : scale[k],
                                   kFromOutput ? 0 : shift[k], g[o + k]);
        grad_x[o + k] = at[k] * m + bt[k] * (x[o + k] - mu[k]) + dt[k];
        if (grad_residual) grad_residual[o + k] = m;
      }
    });
    return;
  }
  const int64_t n = layout.row;
  for (int64_t r = begin; r < end; ++r) {
    const int64_t c = r % channels, o = r * n;
    const float ac = a[c], bc = b[c], dc = d[c], mu = mean[c];
    const float scale = kFromOutput ? 0 : mask.scale[c], shift = kFromOutput ? 0 : mask.shift[c];
    for (int64_t i = o; i < o + n; ++i) {
      const float m = pass.Apply(mask.y, i, x[i], scale, shift, g[i]);
      grad_x[i] = ac * m + bc * (x[i] - mu) + dc;
      if (grad_residual) grad_residual[i] = m;
    }
  }
}

}  // namespace

ACTSEARCH_VECTOR_CLONES
void BlockMoments(const Layout& layout, const float* x, int64_t begin, int64_t end,
                  Moments* moments) {
  const int64_t channels = layout.channels;
  if (layout.kind == Layout::kInterleaved) {
    const Tiles tiles(layout, begin, end);
    std::vector<float> lanes(tiles.size(), 0.0f);
    tiles.ForEach([&](int64_t o, int64_t n) {
      for (int64_t k = 0; k < n; ++k) lanes[k] += x[o + k];
    });
    std::vector<float> mean(channels, 0.0f), m2(channels, 0.0f);
    tiles.Fold(lanes, mean.data());
    const float count = static_cast<float>(end - begin);
    for (int64_t c = 0; c < channels; ++c) mean[c] /= count;
    const std::vector<float> mu = tiles.Spread(mean.data());
    std::fill(lanes.begin(), lanes.end(), 0.0f);
    tiles.ForEach([&](int64_t o, int64_t n) {
      for (int64_t k = 0; k < n; ++k) {
        const float d = x[o + k] - mu[k];
        lanes[k] += d * d;
      }
    });
    tiles.Fold(lanes, m2.data());
    for (int64_t c = 0; c < channels; ++c) moments[c] = {count, mean[c], m2[c]};
    return;
  }
  for (int64_t c = 0; c < channels; ++c) moments[c] = {};
  const int64_t n = layout.row;
  for (int64_t r = begin; r < end; ++r) {
    const float* plane = x + r * n;
    const float mean = LaneSum(n, [&](int64_t i) { return plane[i]; }) / static_cast<float>(n);
    const float m2 = LaneSum(n, [&](int64_t i) {
      const float d = plane[i] - mean;
      return d * d;
    });
    Merge(moments[r % channels], {static_cast<double>(n), mean, m2});
  }
}

ACTSEARCH_VECTOR_CLONES
void Forward(const Layout& layout, const float* x, const float* residual, const float* scale,
             const float* shift, float* y, int64_t begin, int64_t end) {
  const int64_t channels = layout.channels;
  if (layout.kind == Layout::kInterleaved) {
    const Tiles tiles(layout, begin, end);
    const std::vector<float> st = tiles.Spread(scale), ht = tiles.Spread(shift);
    tiles.ForEach([&](int64_t o, int64_t n) {
      if (residual) {
        for (int64_t k = 0; k < n; ++k) {
          y[o + k] = Relu(x[o + k] * st[k] + ht[k] + residual[o + k]);
        }
      } else {
        for (int64_t k = 0; k < n; ++k) y[o + k] = Relu(x[o + k] * st[k] + ht[k]);
      }
    });
    return;
  }
  const int64_t n = layout.row;
  for (int64_t r = begin; r < end; ++r) {
    const float a = scale[r % channels], b = shift[r % channels];
    const int64_t o = r * n;
    if (residual) {
      for (int64_t i = o; i < o + n; ++i) y[i] = Relu(x[i] * a + b + residual[i]);
    } else {
      for (int64_t i = o; i < o + n; ++i) y[i] = Relu(x[i] * a + b);
    }
  }
}

ACTSEARCH_VECTOR_CLONES
void BlockGradientSums(const Layout& layout, const float* x, const ReluMask& mask, const float* g,
                       const float* mean, int64_t begin, int64_t end, double* sum_g,
                       double* sum_gx) {
  if (mask.y) {
    GradientSums<true>(layout, x, mask, g, mean, begin, end, sum_g, sum_gx);
  } else {
    GradientSums<false>(layout, x, mask, g, mean, begin, end, sum_g, sum_gx);
  }
}

ACTSEARCH_VECTOR_CLONES
void Backward(const Layout& layout, const float* x, const ReluMask& mask, const float* g,
              const float* mean, const float* a, const float* b, const float* d, float* grad_x,
              float* grad_residual, int64_t begin, int64_t end) {
  if (mask.y) {
    BackwardRows<true>(layout, x, mask, g, mean, a, b, d, grad_x, grad_residual, begin, end);
  } else {
    BackwardRows<false>(layout, x, mask, g, mean, a, b, d, grad_x, grad_residual, begin, end);
  }
}

}  // namespace actsearch::batch_norm_relu
