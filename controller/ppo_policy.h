// The controller's policy: a one-layer LSTM that emits a candidate's tokens one step at a
// time, each step's choice fed back as the next input, illegal tokens masked out.
#pragma once

#include <torch/torch.h>

#include "search_space/space.h"

namespace actsearch::controller {

struct PolicyOptions {
  int64_t hidden = 100;     // NASNet: one layer of 100 units
  double init_range = 0.1;  // weights uniform in [-0.1, 0.1]
};

class PolicyImpl : public torch::nn::Module {
 public:
  // `space` must outlive the policy.
  PolicyImpl(const Space* space, PolicyOptions options = {});

  struct Sample {
    std::vector<int> tokens;
    double log_prob = 0;  // of the whole sequence under the policy that drew it
  };
  // Draws `count` sequences at once (no gradients): one pass of the LSTM for the whole batch.
  std::vector<Sample> Draw(int64_t count, torch::Generator& generator);

  // For a batch of sequences [B, steps]: their log-probabilities [B] and the entropy of the
  // policy's choices along them [B], with gradients.
  std::pair<torch::Tensor, torch::Tensor> Evaluate(const torch::Tensor& tokens);

 private:
  // One step of the LSTM: feeds `input` (the previous tokens), advances `state`, returns the
  // masked log-probabilities of this step's tokens [B, vocabulary].
  torch::Tensor Step(int step, const torch::Tensor& input,
                     std::tuple<torch::Tensor, torch::Tensor>& state);

  const Space* space_;
  int64_t start_token_;
  torch::nn::Embedding embed_{nullptr};
  torch::nn::LSTMCell cell_{nullptr};
  torch::nn::Linear head_{nullptr};
  torch::Tensor masks_;  // [steps, vocabulary]: 0 where legal, -inf where not
};
TORCH_MODULE(Policy);

}  // namespace actsearch::controller
