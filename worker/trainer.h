// Trains one child network with a candidate activation and reports the search's reward: its
// validation accuracy. Divergence and time-outs are outcomes, never crashes.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "worker/dataset.h"
#include "worker/training_profile.h"
#include "worker/trial_outcome.h"

namespace actsearch::worker {

struct TrainOptions {
  std::string activation = "relu";  // "relu" or an expression of the grammar
  TrainingProfile profile = ProfileByName("quick");
  std::string model = "resnet20";  // a name of the model registry (worker/model_registry.h)
  std::string device = "cpu";      // cpu, cuda, cuda:N
  uint64_t seed = 0;               // initialisation, shuffling and augmentation
  double time_limit_seconds = 0;   // 0: none
  bool channels_last = true;
  bool bf16 = true;  // autocast on CUDA (ignored on the CPU)
  // The training step as a CUDA graph on CUDA with LibTorch 2.x (worker/training_step.h);
  // ignored elsewhere. The result says whether it was used.
  bool cuda_graph = true;
  int threads = 0;  // CPU threads; 0: every core
  // Steps (ascending, below the budget) where the child is evaluated on the validation split
  // and the progress callback is called with the accuracy: the search's early stopping.
  std::vector<int64_t> evaluate_at;
  // Evaluations during the budget judge a running average of the weights, BatchNorm statistics
  // recomputed for it (worker/weight_average.h), not the current weights; the curve keeps the
  // current weights' accuracy beside it. The result at the end is the current weights' either way.
  bool evaluate_averaged_weights = false;
};

struct Progress {
  int64_t step = 0;
  int64_t total_steps = 0;
  double loss = 0;
  std::optional<double> validation_accuracy;
  double elapsed_seconds = 0;
  // Training, or the final evaluation on the validation and test sets after the last step.
  enum class Phase { kTraining, kEvaluating } phase = Phase::kTraining;
};
// Called every profile.progress_every steps, and once as the final evaluation starts;
// returning false during training stops the trial (status stopped).
using ProgressCallback = std::function<bool(const Progress&)>;

// Throws ParseError for a malformed activation and std::invalid_argument for bad options (an
// unknown model among them); everything the candidate does during training is reported in the
// result.
TrainResult TrainChild(const DatasetSplits& data, const TrainOptions& options,
                       const ProgressCallback& progress = nullptr);

// Accuracy of `model` on `data` (eval mode, no gradients), or nullopt if its outputs are not
// finite.
std::optional<double> Evaluate(torch::nn::AnyModule& model, const Dataset& data,
                               const torch::Tensor& mean, const torch::Tensor& std,
                               int64_t batch_size, bool channels_last);

// The parameters weight decay applies to: the weights of convolutions and linear layers. Their
// biases, BatchNorm and every parameter of any other module (the activations' betas, a PWLU's
// points) are left alone, since decaying them would pull each candidate towards a different
// fixed shape (Swish towards x/2) and bias the comparison.
std::vector<torch::Tensor> WeightDecayedParameters(const torch::nn::Module& model);

}  // namespace actsearch::worker
