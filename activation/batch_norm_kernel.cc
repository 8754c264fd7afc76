#include "activation/batch_norm_kernel.h"

#include <algorithm>
#include <vector>

#include "activation/vector_clones.h"

// Everything below inlines into the cloned entry points, so that each build vectorises it.
#define BN_INLINE inline __attribute__((always_inline))

namespace actsearch::batch_norm {
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

// Where the gradient past the activation comes from: g masked by ReLU's output y, g masked by
// ReLU of x * scale + shift, or g itself (already past another activation).
enum class Source { kReluOutput, kReluInput, kGiven };

// m, the gradient past the activation at element i.
template <Source kSource>
struct Mask {
  BN_INLINE float Apply(const float* y, int64_t i, float x, float scale, float shift,
                        float g) const {
    if constexpr (kSource == Source::kReluOutput) {
      return PastRelu(y[i], g);
    } else if constexpr (kSource == Source::kReluInput) {
      return PastRelu(x * scale + shift, g);
    } else {
      return g;
    }
  }
};

template <Source kSource>
BN_INLINE void GradientSums(const Layout& layout, const float* x, const ReluMask& mask,
                            const float* g, const float* mean, int64_t begin, int64_t end,
                            double* sum_g, double* sum_gx) {
  const Mask<kSource> pass;
  const int64_t channels = layout.channels;
  for (int64_t c = 0; c < channels; ++c) sum_g[c] = sum_gx[c] = 0;
  if (layout.kind == Layout::kInterleaved) {
    const Tiles tiles(layout, begin, end);
    const std::vector<float> mu = tiles.Spread(mean);
    std::vector<float> scale, shift;
    if (kSource == Source::kReluInput) {
      scale = tiles.Spread(mask.scale);
      shift = tiles.Spread(mask.shift);
    }
    std::vector<float> sg(tiles.size(), 0.0f), sgx(tiles.size(), 0.0f);
    tiles.ForEach([&](int64_t o, int64_t n) {
      for (int64_t k = 0; k < n; ++k) {
        const float m =
            pass.Apply(mask.y, o + k, x[o + k], kSource == Source::kReluInput ? scale[k] : 0,
                       kSource == Source::kReluInput ? shift[k] : 0, g[o + k]);
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
    const bool from_input = kSource == Source::kReluInput;
    const float scale = from_input ? mask.scale[c] : 0, shift = from_input ? mask.shift[c] : 0;
    auto m = [&](int64_t i) { return pass.Apply(mask.y, o + i, x[o + i], scale, shift, g[o + i]); };
    sum_g[c] += LaneSum(n, m);
    sum_gx[c] += LaneSum(n, [&](int64_t i) { return m(i) * (x[o + i] - mu); });
  }
}

template <Source kSource>
BN_INLINE void BackwardRows(const Layout& layout, const float* x, const ReluMask& mask,
                            const float* g, const float* mean, const float* a, const float* b,
                            const float* d, float* grad_x, float* grad_residual, int64_t begin,
                            int64_t end) {
  const Mask<kSource> pass;
  const int64_t channels = layout.channels;
  if (layout.kind == Layout::kInterleaved) {
    const Tiles tiles(layout, begin, end);
    const std::vector<float> mu = tiles.Spread(mean), at = tiles.Spread(a), bt = tiles.Spread(b),
                             dt = tiles.Spread(d);
    std::vector<float> scale, shift;
    if (kSource == Source::kReluInput) {
      scale = tiles.Spread(mask.scale);
      shift = tiles.Spread(mask.shift);
    }
    tiles.ForEach([&](int64_t o, int64_t n) {
      for (int64_t k = 0; k < n; ++k) {
        const float m =
            pass.Apply(mask.y, o + k, x[o + k], kSource == Source::kReluInput ? scale[k] : 0,
                       kSource == Source::kReluInput ? shift[k] : 0, g[o + k]);
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
    const bool from_input = kSource == Source::kReluInput;
    const float scale = from_input ? mask.scale[c] : 0, shift = from_input ? mask.shift[c] : 0;
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

// y = x * scale + shift + residual, then ReLU when kRelu; y[0] is element `offset`'s.
template <bool kRelu>
BN_INLINE void NormalizeRows(const Layout& layout, const float* x, const float* residual,
                             const float* scale, const float* shift, float* y, int64_t offset,
                             int64_t begin, int64_t end) {
  auto out = [](float v) { return kRelu ? Relu(v) : v; };
  const int64_t channels = layout.channels;
  if (layout.kind == Layout::kInterleaved) {
    const Tiles tiles(layout, begin, end);
    const std::vector<float> st = tiles.Spread(scale), ht = tiles.Spread(shift);
    tiles.ForEach([&](int64_t o, int64_t n) {
      float* to = y + (o - offset);
      if (residual) {
        for (int64_t k = 0; k < n; ++k) to[k] = out(x[o + k] * st[k] + ht[k] + residual[o + k]);
      } else {
        for (int64_t k = 0; k < n; ++k) to[k] = out(x[o + k] * st[k] + ht[k]);
      }
    });
    return;
  }
  const int64_t n = layout.row;
  for (int64_t r = begin; r < end; ++r) {
    const float a = scale[r % channels], b = shift[r % channels];
    const int64_t o = r * n;
    float* to = y + (o - offset);
    if (residual) {
      for (int64_t i = 0; i < n; ++i) to[i] = out(x[o + i] * a + b + residual[o + i]);
    } else {
      for (int64_t i = 0; i < n; ++i) to[i] = out(x[o + i] * a + b);
    }
  }
}

ACTSEARCH_VECTOR_CLONES
void Forward(const Layout& layout, const float* x, const float* residual, const float* scale,
             const float* shift, float* y, int64_t begin, int64_t end) {
  NormalizeRows<true>(layout, x, residual, scale, shift, y, 0, begin, end);
}

ACTSEARCH_VECTOR_CLONES
void Normalize(const Layout& layout, const float* x, const float* residual, const float* scale,
               const float* shift, float* u, int64_t begin, int64_t end) {
  NormalizeRows<false>(layout, x, residual, scale, shift, u, begin * layout.row, begin, end);
}

ACTSEARCH_VECTOR_CLONES
void AddPerChannel(const Layout& layout, const float* values, int64_t begin, int64_t end,
                   double* sums) {
  if (layout.kind == Layout::kInterleaved) {
    const Tiles tiles(layout, begin, end);
    const int64_t offset = begin * layout.channels;
    std::vector<float> lanes(tiles.size(), 0.0f);
    tiles.ForEach([&](int64_t o, int64_t n) {
      const float* v = values + (o - offset);
      for (int64_t k = 0; k < n; ++k) lanes[k] += v[k];
    });
    tiles.Fold(lanes, sums);
    return;
  }
  const int64_t n = layout.row;
  for (int64_t r = begin; r < end; ++r) {
    const float* v = values + (r - begin) * n;
    sums[r % layout.channels] += LaneSum(n, [&](int64_t i) { return v[i]; });
  }
}

ACTSEARCH_VECTOR_CLONES
void BlockNormalizationSums(const Layout& layout, const float* x, const float* m, const float* mean,
                            int64_t begin, int64_t end, double* sum_m, double* sum_mx) {
  GradientSums<Source::kGiven>(layout, x, {}, m, mean, begin, end, sum_m, sum_mx);
}

ACTSEARCH_VECTOR_CLONES
void NormalizationBackward(const Layout& layout, const float* x, const float* m, const float* mean,
                           const float* a, const float* b, const float* d, float* grad_x,
                           int64_t begin, int64_t end) {
  BackwardRows<Source::kGiven>(layout, x, {}, m, mean, a, b, d, grad_x, nullptr, begin, end);
}

ACTSEARCH_VECTOR_CLONES
void BlockGradientSums(const Layout& layout, const float* x, const ReluMask& mask, const float* g,
                       const float* mean, int64_t begin, int64_t end, double* sum_g,
                       double* sum_gx) {
  if (mask.y) {
    GradientSums<Source::kReluOutput>(layout, x, mask, g, mean, begin, end, sum_g, sum_gx);
  } else {
    GradientSums<Source::kReluInput>(layout, x, mask, g, mean, begin, end, sum_g, sum_gx);
  }
}

ACTSEARCH_VECTOR_CLONES
void Backward(const Layout& layout, const float* x, const ReluMask& mask, const float* g,
              const float* mean, const float* a, const float* b, const float* d, float* grad_x,
              float* grad_residual, int64_t begin, int64_t end) {
  if (mask.y) {
    BackwardRows<Source::kReluOutput>(layout, x, mask, g, mean, a, b, d, grad_x, grad_residual,
                                      begin, end);
  } else {
    BackwardRows<Source::kReluInput>(layout, x, mask, g, mean, a, b, d, grad_x, grad_residual,
                                     begin, end);
  }
}

}  // namespace actsearch::batch_norm
