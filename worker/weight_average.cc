#include "worker/weight_average.h"

#include <algorithm>

namespace actsearch::worker {

WeightAverage::WeightAverage(torch::nn::Module& network, int64_t last_step, double power)
    : power_(power),
      last_step_(last_step),
      parameters_(network.parameters()),
      buffers_(network.buffers()) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& p : parameters_) average_.push_back(p.detach().clone());
}

void WeightAverage::Update() {
  if (steps_ >= last_step_) return;
  torch::NoGradGuard no_grad;
  ++steps_;
  // The weight of the newest weights: 1 at the first step (nothing of the initialisation
  // stays), then (power + 1) / (t + power).
  const double newest = (power_ + 1) / (static_cast<double>(steps_) + power_);
  for (size_t i = 0; i < parameters_.size(); ++i) average_[i].lerp_(parameters_[i], newest);
}

WeightAverage::Swapped::Swapped(WeightAverage& average) : average_(average) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& p : average_.parameters_) own_.push_back(p.detach().clone());
  for (const torch::Tensor& b : average_.buffers_) own_.push_back(b.detach().clone());
  for (size_t i = 0; i < average_.parameters_.size(); ++i) {
    average_.parameters_[i].detach().copy_(average_.average_[i]);
  }
}

WeightAverage::Swapped::~Swapped() {
  torch::NoGradGuard no_grad;
  const size_t n = average_.parameters_.size();
  for (size_t i = 0; i < n; ++i) average_.parameters_[i].detach().copy_(own_[i]);
  for (size_t i = 0; i < average_.buffers_.size(); ++i) {
    average_.buffers_[i].detach().copy_(own_[n + i]);
  }
}

int64_t LastEvaluationStep(int64_t steps, const std::vector<int64_t>& evaluate_at, int64_t every) {
  int64_t last = every > 0 ? (steps - 1) / every * every : 0;
  for (int64_t step : evaluate_at) {
    if (step < steps) last = std::max(last, step);
  }
  return last;
}

namespace {

// Every BatchNorm of one kind in a module tree, with the momentum it trains with.
template <typename Impl>
std::vector<std::pair<std::shared_ptr<Impl>, c10::optional<double>>> NormsOf(
    torch::nn::Module& model) {
  std::vector<std::pair<std::shared_ptr<Impl>, c10::optional<double>>> norms;
  for (const auto& module : model.modules(/*include_self=*/true)) {
    if (auto norm = std::dynamic_pointer_cast<Impl>(module)) {
      norms.emplace_back(norm, norm->options.momentum());
    }
  }
  return norms;
}

// Without momentum, each running statistic becomes the plain mean over the batches that
// follow; the momentum comes back with Restore.
template <typename Norms>
void ResetToPlainMean(Norms& norms) {
  for (auto& [norm, momentum] : norms) {
    norm->reset_running_stats();
    norm->options.momentum(c10::nullopt);
  }
}

template <typename Norms>
void Restore(Norms& norms) {
  for (auto& [norm, momentum] : norms) norm->options.momentum(momentum);
}

}  // namespace

void RecomputeBatchNormStatistics(torch::nn::AnyModule& model,
                                  const std::vector<torch::Tensor>& batches) {
  torch::NoGradGuard no_grad;
  auto norms1d = NormsOf<torch::nn::BatchNorm1dImpl>(*model.ptr());
  auto norms2d = NormsOf<torch::nn::BatchNorm2dImpl>(*model.ptr());
  if (norms1d.empty() && norms2d.empty()) return;
  ResetToPlainMean(norms1d);
  ResetToPlainMean(norms2d);
  model.ptr()->train();
  for (const torch::Tensor& images : batches) model.forward(images);
  Restore(norms1d);
  Restore(norms2d);
}

}  // namespace actsearch::worker
