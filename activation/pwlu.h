// PWLU, the piecewise linear unit (Zhou, Zhu, Zhong, ICCV 2021): N equal intervals on
// [B_L, B_R] with learnable point values Y_0..Y_N, linear outer pieces of learnable slopes
// K_L and K_R, learnable bounds; per channel or one unit per layer. The module aligns its
// bounds to its input's statistics by itself (two phases, docs/reevaluation.md).
#pragma once

#include <torch/torch.h>

#include "activation/fused_activation.h"
#include "search_space/expr.h"

namespace actsearch {

// The parameters of G units (G = channels, or 1 for one unit per layer), N intervals each.
struct PwluTables {
  torch::Tensor left_bound;   // [G]   B_L
  torch::Tensor right_bound;  // [G]   B_R
  torch::Tensor points;       // [G, N + 1]   Y_0..Y_N
  torch::Tensor left_slope;   // [G]   K_L
  torch::Tensor right_slope;  // [G]   K_R
};

// y = PWLU(x) for x [N, C, ...] with G = C (unit c serves channel c) or G = 1. Differentiable
// in x and every table. Dense float/double CPU input (contiguous or channels_last) runs the
// hand-written kernel: one pass forward; one pass backward whose table gradients are summed
// per unit in per-task accumulators, merged in a fixed order (seeded runs repeat bit for bit).
// On CUDA (float or bf16, dense) it runs generated kernels (activation/generated_kernels.h)
// where they can be built. Anything else runs PiecewiseLinearWithTorchOps.
torch::Tensor PiecewiseLinear(const torch::Tensor& x, const PwluTables& tables);

// The same function from LibTorch operators on any device, in float or double (bf16/half
// input is computed in float and the result cast back), with a written-out backward: the
// point gradients are one weighted histogram (bincount), the others per-unit sums.
torch::Tensor PiecewiseLinearWithTorchOps(const torch::Tensor& x, const PwluTables& tables);

// The same function again, differentiated by autograd through the LibTorch operators: the
// reference the tests hold the other two to.
torch::Tensor PiecewiseLinearReference(const torch::Tensor& x, const PwluTables& tables);

// Whether PiecewiseLinear runs the CPU kernel for x.
bool PwluKernelSupports(const torch::Tensor& x);

struct PwluOptions {
  explicit PwluOptions(int64_t channels) : channels_(channels) {}
  TORCH_ARG(int64_t, channels);
  // false: one unit shared by every channel of the layer.
  TORCH_ARG(bool, per_channel) = true;
  TORCH_ARG(int64_t, intervals) = 16;
  // Phase 1 length in training forward calls (= optimizer steps when each step runs the
  // layer once). The paper's 5 epochs are 5 * ceil(train examples / batch): 1760 for CIFAR-10
  // at 45k / 128. The default is shorter because our children train for 300-10k steps; with
  // momentum 0.9 the statistics forget their initial values within ~50 calls (0.9^50 < 1%).
  TORCH_ARG(int64_t, warmup_steps) = 100;
  // The shape the unit starts from and is resampled to at alignment: null for ReLU (the
  // paper), or an expression of the grammar at its initial betas.
  TORCH_ARG(Expr, init) = nullptr;
  // Weight of the old value in the running statistics: r = m * r + (1 - m) * batch.
  TORCH_ARG(double, momentum) = 0.9;
  // Bounds at mean -/+ this many running standard deviations.
  TORCH_ARG(double, bound_sigmas) = 3.0;
};

// Phase 1 (the first warmup_steps training forward calls): the unit computes its initial
// shape exactly (ReLU, or the init expression at its initial betas), its parameters unused
// (they get no gradient, so an optimizer leaves them alone), and it tracks the running mean
// and standard deviation of its input. At the next training call it aligns: B_L, B_R = mean
// -/+ 3 std, Y_i = shape(grid), K_L, K_R = shape'(B_L), shape'(B_R) (0 and 1 for ReLU), all
// written in place; from then on it is a PWLU with every parameter trained. Eval mode never
// updates the statistics or the phase.
class PwluImpl : public torch::nn::Module {
 public:
  explicit PwluImpl(PwluOptions options);

  // x: [N, C, ...] with C = channels.
  torch::Tensor forward(const torch::Tensor& x);

  const PwluOptions& options() const { return options_; }
  PwluTables tables() const {
    return {left_bound_, right_bound_, points_, left_slope_, right_slope_};
  }
  bool aligned() const { return aligned_; }
  int64_t tracked_steps() const { return tracked_steps_; }
  const torch::Tensor& running_mean() const { return running_mean_; }
  const torch::Tensor& running_std() const { return running_std_; }

  // Restores the phase along with the buffers that record it.
  void load(torch::serialize::InputArchive& archive) override;
  void pretty_print(std::ostream& stream) const override;

 private:
  int64_t units() const { return options_.per_channel() ? options_.channels() : 1; }
  torch::Tensor InitialShape(const torch::Tensor& x);
  void TrackStatistics(const torch::Tensor& x);
  void Align();
  // Sets the bounds to mean -/+ bound_sigmas * std (per unit, on the host) and resamples the
  // points and slopes from the initial shape, in place.
  void ResampleInitialShape(const std::vector<double>& mean, const std::vector<double>& stddev);

  PwluOptions options_;
  c10::intrusive_ptr<CompiledExpression> init_;  // null for ReLU
  torch::Tensor left_bound_, right_bound_, points_, left_slope_, right_slope_;
  torch::Tensor running_mean_, running_std_;
  // The phase, on the host so that forward never waits on the device to read it; mirrored in
  // the buffers `tracked_steps` and `aligned` for checkpoints.
  torch::Tensor tracked_steps_buffer_, aligned_buffer_;
  int64_t tracked_steps_ = 0;
  bool aligned_ = false;
};
TORCH_MODULE(Pwlu);

}  // namespace actsearch
