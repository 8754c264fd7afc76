#include "controller/ppo_policy.h"

#include <limits>

namespace actsearch::controller {

PolicyImpl::PolicyImpl(const Space* space, PolicyOptions options)
    : space_(space), start_token_(static_cast<int64_t>(space->vocabulary().size())) {
  const int64_t vocabulary = start_token_;
  embed_ = register_module("embed", torch::nn::Embedding(vocabulary + 1, options.hidden));
  cell_ = register_module("cell", torch::nn::LSTMCell(options.hidden, options.hidden));
  head_ = register_module("head", torch::nn::Linear(options.hidden, vocabulary));
  {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : parameters()) p.uniform_(-options.init_range, options.init_range);
  }
  masks_ = torch::full({space->num_steps(), vocabulary}, -std::numeric_limits<float>::infinity());
  for (int step = 0; step < space->num_steps(); ++step) {
    for (int id : space->choices(step)) masks_[step][id] = 0.0f;
  }
}

torch::Tensor PolicyImpl::Step(int step, const torch::Tensor& input,
                               std::tuple<torch::Tensor, torch::Tensor>& state) {
  state = step == 0 ? cell_->forward(embed_->forward(input))
                    : cell_->forward(embed_->forward(input), state);
  return torch::log_softmax(head_->forward(std::get<0>(state)) + masks_[step], -1);
}

std::vector<PolicyImpl::Sample> PolicyImpl::Draw(int64_t count, torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  torch::Tensor input = torch::full({count}, start_token_, torch::kLong);
  torch::Tensor tokens = torch::empty({count, space_->num_steps()}, torch::kLong);
  torch::Tensor log_prob = torch::zeros({count}, torch::kDouble);
  std::tuple<torch::Tensor, torch::Tensor> state;
  for (int step = 0; step < space_->num_steps(); ++step) {
    const torch::Tensor log_probs = Step(step, input, state);
    const torch::Tensor chosen =
        torch::multinomial(log_probs.exp(), 1, /*replacement=*/false, generator).squeeze(1);
    tokens.select(1, step).copy_(chosen);
    log_prob += log_probs.gather(1, chosen.unsqueeze(1)).squeeze(1).to(torch::kDouble);
    input = chosen;
  }
  std::vector<Sample> samples(count);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t* row = tokens[i].data_ptr<int64_t>();
    samples[i].tokens.assign(row, row + space_->num_steps());
    samples[i].log_prob = log_prob[i].item<double>();
  }
  return samples;
}

std::pair<torch::Tensor, torch::Tensor> PolicyImpl::Evaluate(const torch::Tensor& tokens) {
  const int64_t batch = tokens.size(0);
  torch::Tensor input = torch::full({batch}, start_token_, torch::kLong);
  torch::Tensor log_prob = torch::zeros({batch});
  torch::Tensor entropy = torch::zeros({batch});
  std::tuple<torch::Tensor, torch::Tensor> state;
  for (int step = 0; step < space_->num_steps(); ++step) {
    const torch::Tensor log_probs = Step(step, input, state);
    const torch::Tensor chosen = tokens.select(1, step);
    log_prob = log_prob + log_probs.gather(1, chosen.unsqueeze(1)).squeeze(1);
    // Illegal tokens have probability 0 and log-probability -inf: their terms are 0, and the
    // -inf is replaced before the product so that no 0 * inf turns a gradient into NaN.
    const torch::Tensor probs = log_probs.exp();
    entropy = entropy - (probs * log_probs.masked_fill(probs == 0, 0)).sum(1);
    input = chosen;
  }
  return {log_prob, entropy};
}

}  // namespace actsearch::controller
