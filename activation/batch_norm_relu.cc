#include "activation/batch_norm_relu.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

#include "activation/batch_norm_relu_kernel.h"
#include "activation/torch_compat.h"

namespace actsearch {
namespace {

using batch_norm_relu::Layout;
using batch_norm_relu::Moments;

// Elements per block: a block is read twice in a row, from the L2 cache the second time.
constexpr int64_t kBlockElements = 16384;

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

// Blocks of whole rows, fixed by the shape alone: the per-block sums are added up in block
// order, so results do not depend on the number of threads.
struct Blocks {
  explicit Blocks(const Layout& layout)
      : rows_per_block(std::max<int64_t>(1, kBlockElements / layout.row)),
        count((layout.rows + rows_per_block - 1) / rows_per_block),
        rows(layout.rows) {}
  template <class Body>
  void ForEach(const Body& body) const {
    at::parallel_for(0, count, 1, [&](int64_t first, int64_t last) {
      for (int64_t b = first; b < last; ++b) {
        body(b, b * rows_per_block, std::min(rows, (b + 1) * rows_per_block));
      }
    });
  }
  int64_t rows_per_block, count, rows;
};

// A per-channel float vector's values (weight, bias, running statistics: float32 on the CPU).
const float* Values(const torch::Tensor& t, int64_t channels, const char* what) {
  TORCH_CHECK(t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat &&
                  t.is_contiguous() && t.numel() == channels,
              "BatchNormRelu: ", what, " must be a contiguous float32 CPU vector of ", channels,
              " values");
  return t.data_ptr<float>();
}

// Rows of the per-channel values saved for backward, in one float tensor [kRows, C].
enum SavedRow : int64_t { kMean, kInvStd, kScale, kShift, kWeight, kRows };

// The work of the two autograd functions below, which differ in whether a residual is added
// (LibTorch 1.13's custom functions take no undefined tensor). Per-channel arithmetic runs on
// plain arrays, not as LibTorch operators: a ResNet-20 step calls this 19 times, and a dozen
// small operators each would cost more than the arithmetic.
struct Fused {
  static torch::Tensor Forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& residual, torch::Tensor running_mean,
                               torch::Tensor running_var, double momentum, double eps) {
    const Layout layout = LayoutOf(x);
    const Blocks blocks(layout);
    const int64_t channels = layout.channels;
    const float* xp = x.data_ptr<float>();
    const float* w = Values(weight, channels, "weight");
    const float* b = Values(bias, channels, "bias");
    float* running_m = const_cast<float*>(Values(running_mean, channels, "running_mean"));
    float* running_v = const_cast<float*>(Values(running_var, channels, "running_var"));

    std::vector<Moments> partial(blocks.count * channels);
    blocks.ForEach([&](int64_t block, int64_t begin, int64_t end) {
      batch_norm_relu::BlockMoments(layout, xp, begin, end, &partial[block * channels]);
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
      running_v[c] = static_cast<float>((1 - momentum) * running_v[c] +
                                        momentum * var * count / (count - 1));
    }

    const torch::MemoryFormat format = FormatOf(x);
    const torch::Tensor r = residual.defined() ? residual.contiguous(format) : residual;
    torch::Tensor y = torch::empty_like(x, format);
    const float* rp = r.defined() ? r.data_ptr<float>() : nullptr;
    float* yp = y.data_ptr<float>();
    blocks.ForEach([&](int64_t, int64_t begin, int64_t end) {
      batch_norm_relu::Forward(layout, xp, rp, &at(kScale, 0), &at(kShift, 0), yp, begin, end);
    });

    // Without a residual, backward finds ReLU's mask from x, scale and shift instead of y.
    ctx->save_for_backward(r.defined() ? torch::autograd::variable_list{x, y}
                                       : torch::autograd::variable_list{x});
    ctx->saved_data["per_channel"] = saved;
    ctx->saved_data["has_residual"] = r.defined();
    return y;
  }

  // grad x, grad weight, grad bias, grad residual (undefined without one).
  static torch::autograd::variable_list Backward(torch::autograd::AutogradContext* ctx,
                                                 const torch::autograd::variable_list& grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const bool has_residual = ctx->saved_data["has_residual"].toBool();
    const torch::Tensor per_channel = ctx->saved_data["per_channel"].toTensor();
    const Layout layout = LayoutOf(x);
    const Blocks blocks(layout);
    const int64_t channels = layout.channels;
    const float* row = per_channel.data_ptr<float>();
    auto at = [&](SavedRow r) { return row + r * channels; };
    const torch::Tensor g = grad_outputs[0].to(torch::kFloat).contiguous(FormatOf(x));
    const float* xp = x.data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    batch_norm_relu::ReluMask mask;
    if (has_residual) {
      mask.y = saved[1].data_ptr<float>();
    } else {
      mask.scale = at(kScale);
      mask.shift = at(kShift);
    }

    std::vector<double> partial_g(blocks.count * channels), partial_gx(blocks.count * channels);
    blocks.ForEach([&](int64_t block, int64_t begin, int64_t end) {
      batch_norm_relu::BlockGradientSums(layout, xp, mask, gp, at(kMean), begin, end,
                                         &partial_g[block * channels],
                                         &partial_gx[block * channels]);
    });
    torch::Tensor grad_weight = torch::empty({channels}, torch::kFloat);
    torch::Tensor grad_bias = torch::empty({channels}, torch::kFloat);
    std::vector<float> a(channels), b(channels), d(channels);
    // With m the gradient past the ReLU and h = (x - mean) invstd:
    // dx = w invstd (m - sum(m) / n - h sum(m h) / n).
    const double n = static_cast<double>(x.numel() / channels);
    for (int64_t c = 0; c < channels; ++c) {
      double sum_m = 0, sum_mx = 0;
      for (int64_t block = 0; block < blocks.count; ++block) {
        sum_m += partial_g[block * channels + c];
        sum_mx += partial_gx[block * channels + c];
      }
      const double invstd = at(kInvStd)[c], sum_mh = sum_mx * invstd;
      const double scale = at(kWeight)[c] * invstd;
      grad_weight.data_ptr<float>()[c] = static_cast<float>(sum_mh);
      grad_bias.data_ptr<float>()[c] = static_cast<float>(sum_m);
      a[c] = static_cast<float>(scale);
      b[c] = static_cast<float>(-scale * invstd * sum_mh / n);
      d[c] = static_cast<float>(-scale * sum_m / n);
    }

    torch::Tensor grad_x = torch::empty_like(x, FormatOf(x));
    torch::Tensor grad_residual =
        has_residual ? torch::empty_like(x, FormatOf(x)) : torch::Tensor();
    float* gxp = grad_x.data_ptr<float>();
    float* grp = has_residual ? grad_residual.data_ptr<float>() : nullptr;
    blocks.ForEach([&](int64_t, int64_t begin, int64_t end) {
      batch_norm_relu::Backward(layout, xp, mask, gp, at(kMean), a.data(), b.data(), d.data(),
                                gxp, grp, begin, end);
    });
    return {grad_x, grad_weight, grad_bias, grad_residual};
  }
};

class BatchNormReluFunction : public torch::autograd::Function<BatchNormReluFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               double momentum, double eps) {
    return Fused::Forward(ctx, x, weight, bias, {}, running_mean, running_var, momentum, eps);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    auto grads = Fused::Backward(ctx, grad_outputs);
    grads.resize(7);  // the running statistics, momentum and eps have none
    return grads;
  }
};

class BatchNormAddReluFunction : public torch::autograd::Function<BatchNormAddReluFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& residual, torch::Tensor running_mean,
                               torch::Tensor running_var, double momentum, double eps) {
    return Fused::Forward(ctx, x, weight, bias, residual, running_mean, running_var, momentum,
                          eps);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    auto grads = Fused::Backward(ctx, grad_outputs);
    grads.resize(8);
    return grads;
  }
};

}  // namespace

bool CanFuseBatchNormRelu(const torch::Tensor& x, const torch::Tensor& residual) {
  const bool dense = x.is_contiguous() || compat::IsChannelsLast(x);
  if (!x.defined() || x.dim() != 4 || !x.device().is_cpu() || x.scalar_type() != torch::kFloat ||
      !dense || x.numel() == 0 || x.numel() / x.size(1) < 2) {
    return false;
  }
  return !residual.defined() ||
         (residual.sizes() == x.sizes() && residual.scalar_type() == torch::kFloat &&
          residual.device().is_cpu());
}

torch::Tensor BatchNormRelu(const torch::Tensor& x, const torch::Tensor& weight,
                            const torch::Tensor& bias, const torch::Tensor& residual,
                            torch::Tensor running_mean, torch::Tensor running_var,
                            double momentum, double eps) {
  TORCH_CHECK(CanFuseBatchNormRelu(x, residual),
              "BatchNormRelu needs 4-d float CPU tensors, dense, the residual of x's shape");
  if (!residual.defined()) {
    return BatchNormReluFunction::apply(x, weight, bias, running_mean, running_var, momentum,
                                        eps);
  }
  return BatchNormAddReluFunction::apply(x, weight, bias, residual, running_mean, running_var,
                                         momentum, eps);
}

}  // namespace actsearch
