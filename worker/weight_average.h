// A running average of a network's weights, evaluated in place of its current weights at a
// search's evaluation steps (docs/early-stopping.md, "Judging averaged weights").
//
// Mid-schedule, at a high learning rate, a child's current weights jump from step to step and
// its validation accuracy with them; the average of its recent weights is close to where a
// decayed learning rate would settle, and ranks children closer to their final order. The
// average is polynomial-decay averaging (Shamir and Zhang 2013): after step t it weighs the
// step-s weights in proportion to about s^power, a window that grows with t and forgets the
// initialisation. Only parameters are averaged: BatchNorm's running statistics describe the
// current weights' activations, so the caller recomputes them for the average
// (RecomputeBatchNormStatistics) before it evaluates.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace actsearch::worker {

class WeightAverage {
 public:
  // Averages the weights of steps 1 .. last_step, the last evaluation that judges the average
  // (LastEvaluationStep); later steps are not folded in, since nothing reads them. power 0 is
  // the plain mean of every step's weights; larger powers forget faster.
  WeightAverage(torch::nn::Module& network, int64_t last_step, double power = 4);

  // Folds in the network's weights after one more optimizer step, up to last_step.
  void Update();

  // Puts the average into the network's parameters for its lifetime, and the network's own
  // parameters and buffers back, bit for bit, when it ends.
  class Swapped {
   public:
    explicit Swapped(WeightAverage& average);
    ~Swapped();
    Swapped(const Swapped&) = delete;
    Swapped& operator=(const Swapped&) = delete;

   private:
    WeightAverage& average_;
    std::vector<torch::Tensor> own_;  // parameters, then buffers
  };

 private:
  double power_;
  int64_t last_step_;
  int64_t steps_ = 0;
  std::vector<torch::Tensor> parameters_;
  std::vector<torch::Tensor> buffers_;
  std::vector<torch::Tensor> average_;  // one per parameter
};

// The last step before a budget of `steps` at which a child is evaluated: the last of
// `evaluate_at` below it, or of the multiples of `every` (0: none) below it; 0 if there is none.
int64_t LastEvaluationStep(int64_t steps, const std::vector<int64_t>& evaluate_at,
                           int64_t every = 0);

// Sets the running statistics of every BatchNorm in `model` to the mean and variance of its
// inputs over `batches` (normalised images) under the current weights, as stochastic weight
// averaging does: forward passes in training mode, no gradients, the model left in training
// mode.
void RecomputeBatchNormStatistics(torch::nn::AnyModule& model,
                                  const std::vector<torch::Tensor>& batches);

}  // namespace actsearch::worker
