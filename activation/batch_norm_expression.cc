#include "activation/batch_norm_expression.h"

#include <vector>

#include "activation/batch_norm_common.h"

namespace actsearch {
namespace {

using namespace batch_norm;

// The expression's per-element beta arrays for a block of rows. Interleaved blocks all start on
// a row, so one set of arrays serves every block; planes have one channel each, so their
// arrays are filled plane by plane.
class BlockBetas {
 public:
  BlockBetas(const torch::Tensor& betas, const Layout& layout, const Blocks& blocks)
      : betas_(betas.data_ptr<float>()),
        count_(betas.size(0)),
        channels_(layout.channels),
        interleaved_(layout.kind == Layout::kInterleaved),
        shared_(count_) {
    if (!interleaved_) return;
    const int64_t n = blocks.rows_per_block * channels_;
    for (int64_t k = 0; k < count_; ++k) {
      shared_[k].resize(n);
      for (int64_t i = 0; i < n; i += channels_) {
        std::copy(betas_ + k * channels_, betas_ + (k + 1) * channels_, shared_[k].begin() + i);
      }
      pointers_.push_back(shared_[k].data());
    }
  }
  int64_t count() const { return count_; }
  // Interleaved: the arrays of any block.
  const float* const* Interleaved() const { return pointers_.data(); }
  // Planar: the arrays for one plane of channel c, n elements, in the caller's buffers.
  const float* const* Plane(int64_t c, int64_t n, std::vector<std::vector<float>>& arrays,
                            std::vector<const float*>& pointers) const {
    arrays.resize(count_);
    pointers.resize(count_);
    for (int64_t k = 0; k < count_; ++k) {
      arrays[k].assign(n, betas_[k * channels_ + c]);
      pointers[k] = arrays[k].data();
    }
    return pointers.data();
  }

 private:
  const float* betas_;
  int64_t count_, channels_;
  bool interleaved_;
  std::vector<std::vector<float>> shared_;
  std::vector<const float*> pointers_;
};

// The per-thread buffers of one block: the normalised input, and the betas' per-element
// gradients. One per thread, shared by forward and backward (ThreadScratch).
struct Scratch {
  std::vector<float> normalized;
  std::vector<std::vector<float>> beta_grad, plane_betas;
  std::vector<float*> beta_grad_pointers;
  std::vector<const float*> plane_beta_pointers;
  // Grows the buffers to a block of `elements` with `betas` betas; never shrinks them, so that
  // a thread's forward and backward calls reuse one allocation.
  void Reserve(int64_t elements, int64_t betas) {
    if (static_cast<int64_t>(normalized.size()) < elements) normalized.resize(elements);
    if (static_cast<int64_t>(beta_grad.size()) < betas) beta_grad.resize(betas);
    beta_grad_pointers.resize(betas);
    for (int64_t k = 0; k < betas; ++k) {
      if (static_cast<int64_t>(beta_grad[k].size()) < elements) beta_grad[k].resize(elements);
    }
  }
  // The betas' gradient arrays from element `offset` of the block on.
  float* const* BetaGradsFrom(int64_t offset) {
    for (size_t k = 0; k < beta_grad_pointers.size(); ++k) {
      beta_grad_pointers[k] = beta_grad[k].data() + offset;
    }
    return beta_grad_pointers.data();
  }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

struct Fused {
  static torch::Tensor Forward(torch::autograd::AutogradContext* ctx,
                               const c10::intrusive_ptr<CompiledExpression>& compiled,
                               const torch::Tensor& betas, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& residual, torch::Tensor running_mean,
                               torch::Tensor running_var, double momentum, double eps) {
    const BatchNormForward n(x, weight, bias, residual, running_mean, running_var, momentum, eps);
    const Layout& layout = n.layout;
    const Blocks& blocks = n.blocks;
    const int64_t channels = layout.channels;
    const torch::Tensor& r = n.residual;
    const torch::Tensor b = betas.to(torch::kFloat).contiguous();
    const BlockBetas block_betas(b, layout, blocks);
    const Program& program = compiled->program;

    torch::Tensor y = torch::empty_like(x, n.format);
    const float* xp = x.data_ptr<float>();
    const float* rp = r.defined() ? r.data_ptr<float>() : nullptr;
    float* yp = y.data_ptr<float>();
    blocks.ForEach([&](int64_t, int64_t begin, int64_t end) {
      Scratch& scratch = ThreadScratch();
      scratch.Reserve(blocks.elements(begin, end), 0);
      float* u = scratch.normalized.data();
      Normalize(layout, xp, rp, n.Row(kScale), n.Row(kShift), u, begin, end);
      if (layout.kind == Layout::kInterleaved) {
        program.Forward<float>(blocks.elements(begin, end), u, block_betas.Interleaved(),
                               yp + begin * layout.row);
        return;
      }
      for (int64_t plane = begin; plane < end; ++plane) {
        const float* const* plane_betas = block_betas.Plane(
            plane % channels, layout.row, scratch.plane_betas, scratch.plane_beta_pointers);
        program.Forward<float>(layout.row, u + (plane - begin) * layout.row, plane_betas,
                               yp + plane * layout.row);
      }
    });

    ctx->save_for_backward(r.defined() ? torch::autograd::variable_list{x, b, r}
                                       : torch::autograd::variable_list{x, b});
    ctx->saved_data["per_channel"] = n.per_channel;
    ctx->saved_data["compiled"] = c10::IValue::make_capsule(compiled);
    return y;
  }

  // grad x, grad betas, grad weight, grad bias, grad residual (undefined without one).
  static torch::autograd::variable_list Backward(
      torch::autograd::AutogradContext* ctx, const torch::autograd::variable_list& grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& b = saved[1];
    const bool has_residual = saved.size() > 2;
    const torch::Tensor per_channel = ctx->saved_data["per_channel"].toTensor();
    const auto compiled = c10::static_intrusive_pointer_cast<CompiledExpression>(
        ctx->saved_data["compiled"].toCapsule());
    const Program& program = compiled->program;
    const Layout layout = LayoutOf(x);
    const Blocks blocks(layout);
    const BlockBetas block_betas(b, layout, blocks);
    const int64_t channels = layout.channels, num_betas = block_betas.count();
    const float* row = per_channel.data_ptr<float>();
    const float* mean = row + kMean * channels;
    const torch::MemoryFormat format = FormatOf(x);
    const torch::Tensor g = grad_outputs[0].to(torch::kFloat).contiguous(format);

    // m, the gradient past the expression: the residual's gradient when there is one.
    const torch::Tensor m = torch::empty_like(x, format);
    const float* xp = x.data_ptr<float>();
    const float* rp = has_residual ? saved[2].data_ptr<float>() : nullptr;
    const float* gp = g.data_ptr<float>();
    float* mp = m.data_ptr<float>();
    std::vector<double> sum_m(blocks.count * channels), sum_mx(blocks.count * channels);
    std::vector<double> beta_sums(blocks.count * num_betas * channels, 0.0);
    blocks.ForEach([&](int64_t block, int64_t begin, int64_t end) {
      Scratch& scratch = ThreadScratch();
      scratch.Reserve(blocks.elements(begin, end), num_betas);
      float* u = scratch.normalized.data();
      Normalize(layout, xp, rp, row + kScale * channels, row + kShift * channels, u, begin, end);
      const int64_t first = begin * layout.row;
      if (layout.kind == Layout::kInterleaved) {
        program.Backward<float>(blocks.elements(begin, end), u, block_betas.Interleaved(),
                                gp + first, mp + first, scratch.BetaGradsFrom(0));
      } else {
        for (int64_t plane = begin; plane < end; ++plane) {
          const int64_t offset = (plane - begin) * layout.row;
          program.Backward<float>(
              layout.row, u + offset,
              block_betas.Plane(plane % channels, layout.row, scratch.plane_betas,
                                scratch.plane_beta_pointers),
              gp + first + offset, mp + first + offset, scratch.BetaGradsFrom(offset));
        }
      }
      for (int64_t k = 0; k < num_betas; ++k) {
        AddPerChannel(layout, scratch.beta_grad[k].data(), begin, end,
                      &beta_sums[(block * num_betas + k) * channels]);
      }
      BlockNormalizationSums(layout, xp, mp, mean, begin, end, &sum_m[block * channels],
                             &sum_mx[block * channels]);
    });
    const NormalizationGradients grads(per_channel, sum_m, sum_mx, blocks.count,
                                       x.numel() / channels);

    torch::Tensor grad_x = torch::empty_like(x, format);
    float* gxp = grad_x.data_ptr<float>();
    blocks.ForEach([&](int64_t, int64_t begin, int64_t end) {
      NormalizationBackward(layout, xp, mp, mean, grads.a.data(), grads.b.data(), grads.d.data(),
                            gxp, begin, end);
    });
    torch::Tensor grad_betas = torch::zeros({num_betas, channels}, torch::kDouble);
    double* gb = grad_betas.data_ptr<double>();
    for (int64_t block = 0; block < blocks.count; ++block) {
      for (int64_t i = 0; i < num_betas * channels; ++i) {
        gb[i] += beta_sums[block * num_betas * channels + i];
      }
    }
    return {grad_x, grad_betas.to(torch::kFloat), grads.grad_weight, grads.grad_bias,
            has_residual ? m : torch::Tensor()};
  }
};

// Gradients for: compiled, betas, x, weight, bias, [residual], running_mean, running_var,
// momentum, eps.
torch::autograd::variable_list ArrangeGradients(const torch::autograd::variable_list& grads,
                                                bool residual) {
  torch::autograd::variable_list out = {torch::Tensor(), grads[1], grads[0], grads[2], grads[3]};
  if (residual) out.push_back(grads[4]);
  out.resize(out.size() + 4);
  return out;
}

class BatchNormExpressionFunction : public torch::autograd::Function<BatchNormExpressionFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               c10::intrusive_ptr<CompiledExpression> compiled,
                               const torch::Tensor& betas, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               double momentum, double eps) {
    return Fused::Forward(ctx, compiled, betas, x, weight, bias, {}, running_mean, running_var,
                          momentum, eps);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    return ArrangeGradients(Fused::Backward(ctx, grad_outputs), false);
  }
};

class BatchNormAddExpressionFunction
    : public torch::autograd::Function<BatchNormAddExpressionFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               c10::intrusive_ptr<CompiledExpression> compiled,
                               const torch::Tensor& betas, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& residual, torch::Tensor running_mean,
                               torch::Tensor running_var, double momentum, double eps) {
    return Fused::Forward(ctx, compiled, betas, x, weight, bias, residual, running_mean,
                          running_var, momentum, eps);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    return ArrangeGradients(Fused::Backward(ctx, grad_outputs), true);
  }
};

}  // namespace

bool CanFuseBatchNormExpression(const torch::Tensor& x, const torch::Tensor& residual) {
  return batch_norm::CanFuse(x, residual);
}

torch::Tensor BatchNormExpression(const c10::intrusive_ptr<CompiledExpression>& compiled,
                                  const torch::Tensor& betas, const torch::Tensor& x,
                                  const torch::Tensor& weight, const torch::Tensor& bias,
                                  const torch::Tensor& residual, torch::Tensor running_mean,
                                  torch::Tensor running_var, double momentum, double eps) {
  TORCH_CHECK(CanFuseBatchNormExpression(x, residual),
              "BatchNormExpression needs 4-d float CPU tensors, dense, the residual of x's shape");
  TORCH_CHECK(betas.dim() == 2 && betas.size(0) == compiled->program.num_betas() &&
                  betas.size(1) == x.size(1),
              "BatchNormExpression: betas must be [", compiled->program.num_betas(), ", ",
              x.size(1), "], got ", betas.sizes());
  if (!residual.defined()) {
    return BatchNormExpressionFunction::apply(compiled, betas, x, weight, bias, running_mean,
                                              running_var, momentum, eps);
  }
  return BatchNormAddExpressionFunction::apply(compiled, betas, x, weight, bias, residual,
                                               running_mean, running_var, momentum, eps);
}

}  // namespace actsearch
