#include "activation/batch_norm_relu.h"

#include <vector>

#include "activation/batch_norm_common.h"

namespace actsearch {
namespace {

using namespace batch_norm;

// The work of the two autograd functions below, which differ in whether a residual is added
// (LibTorch 1.13's custom functions take no undefined tensor). Per-channel arithmetic runs on
// plain arrays, not as LibTorch operators: a ResNet-20 step calls this 19 times, and a dozen
// small operators each would cost more than the arithmetic.
struct Fused {
  static torch::Tensor Forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& residual, torch::Tensor running_mean,
                               torch::Tensor running_var, double momentum, double eps) {
    const BatchNormForward n(x, weight, bias, residual, running_mean, running_var, momentum, eps);
    const torch::Tensor& r = n.residual;
    torch::Tensor y = torch::empty_like(x, n.format);
    const float* xp = x.data_ptr<float>();
    const float* rp = r.defined() ? r.data_ptr<float>() : nullptr;
    float* yp = y.data_ptr<float>();
    n.blocks.ForEach([&](int64_t, int64_t begin, int64_t end) {
      batch_norm::Forward(n.layout, xp, rp, n.Row(kScale), n.Row(kShift), yp, begin, end);
    });

    // Without a residual, backward finds ReLU's mask from x, scale and shift instead of y.
    ctx->save_for_backward(r.defined() ? torch::autograd::variable_list{x, y}
                                       : torch::autograd::variable_list{x});
    ctx->saved_data["per_channel"] = n.per_channel;
    ctx->saved_data["has_residual"] = r.defined();
    return y;
  }

  // grad x, grad weight, grad bias, grad residual (undefined without one).
  static torch::autograd::variable_list Backward(
      torch::autograd::AutogradContext* ctx, const torch::autograd::variable_list& grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const bool has_residual = ctx->saved_data["has_residual"].toBool();
    const torch::Tensor per_channel = ctx->saved_data["per_channel"].toTensor();
    const Layout layout = LayoutOf(x);
    const Blocks blocks(layout);
    const int64_t channels = layout.channels;
    const float* row = per_channel.data_ptr<float>();
    const float* mean = row + kMean * channels;
    const torch::Tensor g = grad_outputs[0].to(torch::kFloat).contiguous(FormatOf(x));
    const float* xp = x.data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    ReluMask mask;
    if (has_residual) {
      mask.y = saved[1].data_ptr<float>();
    } else {
      mask.scale = row + kScale * channels;
      mask.shift = row + kShift * channels;
    }

    std::vector<double> sum_m(blocks.count * channels), sum_mx(blocks.count * channels);
    blocks.ForEach([&](int64_t block, int64_t begin, int64_t end) {
      BlockGradientSums(layout, xp, mask, gp, mean, begin, end, &sum_m[block * channels],
                        &sum_mx[block * channels]);
    });
    const NormalizationGradients grads(per_channel, sum_m, sum_mx, blocks.count,
                                       x.numel() / channels);

    torch::Tensor grad_x = torch::empty_like(x, FormatOf(x));
    torch::Tensor grad_residual =
        has_residual ? torch::empty_like(x, FormatOf(x)) : torch::Tensor();
    float* gxp = grad_x.data_ptr<float>();
    float* grp = has_residual ? grad_residual.data_ptr<float>() : nullptr;
    blocks.ForEach([&](int64_t, int64_t begin, int64_t end) {
      batch_norm::Backward(layout, xp, mask, gp, mean, grads.a.data(), grads.b.data(),
                           grads.d.data(), gxp, grp, begin, end);
    });
    return {grad_x, grads.grad_weight, grads.grad_bias, grad_residual};
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
    return Fused::Forward(ctx, x, weight, bias, residual, running_mean, running_var, momentum, eps);
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
  return batch_norm::CanFuse(x, residual);
}

torch::Tensor BatchNormRelu(const torch::Tensor& x, const torch::Tensor& weight,
                            const torch::Tensor& bias, const torch::Tensor& residual,
                            torch::Tensor running_mean, torch::Tensor running_var, double momentum,
                            double eps) {
  TORCH_CHECK(CanFuseBatchNormRelu(x, residual),
              "BatchNormRelu needs 4-d float CPU tensors, dense, the residual of x's shape");
  if (!residual.defined()) {
    return BatchNormReluFunction::apply(x, weight, bias, running_mean, running_var, momentum, eps);
  }
  return BatchNormAddReluFunction::apply(x, weight, bias, residual, running_mean, running_var,
                                         momentum, eps);
}

}  // namespace actsearch
