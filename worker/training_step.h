// One optimisation step of a child: forward (under bf16 autocast on CUDA when asked), cross
// entropy, backward and the optimizer's update, with the loss added to a sum on the device so
// that nothing in the step waits for the GPU.
//
// On CUDA (LibTorch 2.x) the step becomes a CUDA graph: after a few eager steps (cuDNN's
// algorithm search, the generated kernels' loading, PWLU's alignment), one step is captured
// with static input buffers and the learning rate in a device tensor, and every later step
// copies its batch into the buffers and replays the graph: one launch instead of hundreds.
// When capture is impossible (an operator that synchronises, a module with host-side state),
// the step stays eager and graph_problem() says why.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "worker/nesterov_sgd.h"

namespace actsearch::worker {

struct StepSettings {
  bool autocast = false;    // bf16 autocast (CUDA only)
  bool cuda_graph = false;  // capture the step as a CUDA graph (CUDA, LibTorch 2.x)
  // Whether the model may be captured now: false while a module still changes host-side
  // state in its forward (PWLU before its alignment).
  std::function<bool()> ready_to_capture;
};

class TrainingStep {
 public:
  TrainingStep(torch::nn::AnyModule model, NesterovSgd& optimizer, StepSettings settings,
               const torch::Device& device);
  ~TrainingStep();
  TrainingStep(const TrainingStep&) = delete;
  TrainingStep& operator=(const TrainingStep&) = delete;

  // One step on a batch (normalised float images in the model's layout, labels) at learning
  // rate `lr`. Returns the step's loss, a device scalar valid until the next call.
  torch::Tensor Run(const torch::Tensor& images, const torch::Tensor& labels, double lr);

  // The losses of the steps since the last ResetLossSum, summed on the device.
  const torch::Tensor& loss_sum() const { return loss_sum_; }
  void ResetLossSum() { loss_sum_.zero_(); }

  bool graphed() const { return graph_ != nullptr; }
  // Why the step is not a graph: empty while it may still become one.
  const std::string& graph_problem() const { return graph_problem_; }

 private:
  // The step's work, the learning rate as a double (eager) or a device tensor (graph).
  torch::Tensor Body(const torch::Tensor& images, const torch::Tensor& labels, double lr,
                     const torch::Tensor* lr_tensor);
  bool Capture(const torch::Tensor& images, const torch::Tensor& labels, double lr);

  torch::nn::AnyModule model_;
  NesterovSgd& optimizer_;
  StepSettings settings_;
  torch::Tensor loss_sum_;
  int64_t eager_steps_ = 0;
  std::string graph_problem_;
  struct Graph;  // the captured graph and its static buffers (training_step.cc)
  std::unique_ptr<Graph> graph_;
};

}  // namespace actsearch::worker
