#include "activation/batch_norm_common.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "activation/torch_compat.h"

namespace actsearch::batch_norm {
namespace {

constexpr int64_t kBlockElements = 16384;

// A per-channel float vector's values (weight, bias, running statistics).
float* Values(const torch::Tensor& t, int64_t channels, const char* what) {
  TORCH_CHECK(t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat &&
                  t.is_contiguous() && t.numel() == channels,
              "fused BatchNorm: ", what, " must be a contiguous float32 CPU vector of ", channels,
              " values");
  return t.data_ptr<float>();
}

}  // namespace

bool CanFuse(const torch::Tensor& x, const torch::Tensor& residual) {
  if (!x.defined() || x.dim() != 4 || !x.device().is_cpu() || x.scalar_type() != torch::kFloat ||
      !(x.is_contiguous() || compat::IsChannelsLast(x)) || x.numel() == 0 ||
      x.numel() / x.size(1) < 2) {
    return false;
  }
  return !residual.defined() ||
         (residual.sizes() == x.sizes() && residual.scalar_type() == torch::kFloat &&
          residual.device().is_cpu());
}

torch::MemoryFormat FormatOf(const torch::Tensor& x) {
  return compat::IsChannelsLast(x) ? torch::MemoryFormat::ChannelsLast
                                   : torch::MemoryFormat::Contiguous;
}

Layout LayoutOf(const torch::Tensor& x) {
  const int64_t channels = x.size(1);
  if (compat::IsChannelsLast(x)) {
    return {Layout::kInterleaved, channels, x.numel() / channels, channels};
  }
  const int64_t plane = x.size(2) * x.size(3);
  return {Layout::kPlanar, plane, x.size(0) * channels, channels};
}

Blocks::Blocks(const Layout& layout)
    : rows_per_block(std::max<int64_t>(1, kBlockElements / layout.row)),
      count((layout.rows + rows_per_block - 1) / rows_per_block),
      rows(layout.rows),
      row(layout.row) {}

torch::Tensor BatchStatistics(const torch::Tensor& x, const Layout& layout, const Blocks& blocks,
                              const torch::Tensor& weight, const torch::Tensor& bias,
                              torch::Tensor& running_mean, torch::Tensor& running_var,
                              double momentum, double eps) {
  const int64_t channels = layout.channels;
  const float* w = Values(weight, channels, "weight");
  const float* b = Values(bias, channels, "bias");
  float* running_m = Values(running_mean, channels, "running_mean");
  float* running_v = Values(running_var, channels, "running_var");
  const float* xp = x.data_ptr<float>();

  std::vector<Moments> partial(blocks.count * channels);
  blocks.ForEach([&](int64_t block, int64_t begin, int64_t end) {
    BlockMoments(layout, xp, begin, end, &partial[block * channels]);
  });
  std::vector<Moments> total(channels);
  for (int64_t block = 0; block < blocks.count; ++block) {
    for (int64_t c = 0; c < channels; ++c) Merge(total[c], partial[block * channels + c]);
  }

  torch::Tensor saved = torch::empty({kRows, channels}, torch::kFloat);
  float* row = saved.data_ptr<float>();
  auto at = [&](SavedRow r, int64_t c) -> float& { return row[r * channels + c]; };
  const double count = total[0].count;
  for (int64_t c = 0; c < channels; ++c) {
    const double mean = total[c].mean, var = total[c].m2 / count;
    const double invstd = 1.0 / std::sqrt(var + eps), scale = w[c] * invstd;
    at(kMean, c) = static_cast<float>(mean);
    at(kInvStd, c) = static_cast<float>(invstd);
    at(kScale, c) = static_cast<float>(scale);
    at(kShift, c) = static_cast<float>(b[c] - mean * scale);
    at(kWeight, c) = w[c];
    // As torch::batch_norm: the running variance is the unbiased one.
    running_m[c] = static_cast<float>((1 - momentum) * running_m[c] + momentum * mean);
    running_v[c] =
        static_cast<float>((1 - momentum) * running_v[c] + momentum * var * count / (count - 1));
  }
  return saved;
}

BatchNormForward::BatchNormForward(const torch::Tensor& x, const torch::Tensor& weight,
                                   const torch::Tensor& bias, const torch::Tensor& residual,
                                   torch::Tensor& running_mean, torch::Tensor& running_var,
                                   double momentum, double eps)
    : layout(LayoutOf(x)),
      blocks(layout),
      per_channel(BatchStatistics(x, layout, blocks, weight, bias, running_mean, running_var,
                                  momentum, eps)),
      format(FormatOf(x)),
      residual(residual.defined() ? residual.contiguous(format) : residual) {}

NormalizationGradients::NormalizationGradients(const torch::Tensor& per_channel,
                                               const std::vector<double>& sum_m,
                                               const std::vector<double>& sum_mx, int64_t blocks,
                                               int64_t count) {
  const int64_t channels = per_channel.size(1);
  const float* row = per_channel.data_ptr<float>();
  grad_weight = torch::empty({channels}, torch::kFloat);
  grad_bias = torch::empty({channels}, torch::kFloat);
  a.resize(channels);
  b.resize(channels);
  d.resize(channels);
  // With h = (x - mean) invstd: dx = w invstd (m - sum(m) / n - h sum(m h) / n).
  const double n = static_cast<double>(count);
  for (int64_t c = 0; c < channels; ++c) {
    double total_m = 0, total_mx = 0;
    for (int64_t block = 0; block < blocks; ++block) {
      total_m += sum_m[block * channels + c];
      total_mx += sum_mx[block * channels + c];
    }
    const double invstd = row[kInvStd * channels + c], sum_mh = total_mx * invstd;
    const double scale = row[kWeight * channels + c] * invstd;
    grad_weight.data_ptr<float>()[c] = static_cast<float>(sum_mh);
    grad_bias.data_ptr<float>()[c] = static_cast<float>(total_m);
    a[c] = static_cast<float>(scale);
    b[c] = static_cast<float>(-scale * invstd * sum_mh / n);
    d[c] = static_cast<float>(-scale * total_m / n);
  }
}

}  // namespace actsearch::batch_norm
