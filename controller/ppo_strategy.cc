#include "controller/ppo_strategy.h"

#include <stdexcept>

namespace actsearch::controller {

PpoStrategy::PpoStrategy(const Space* space, PpoOptions options)
    : space_(space),
      options_(options),
      policy_(nullptr),
      generator_(at::detail::createCPUGenerator(options.seed)) {
  torch::manual_seed(options.seed);  // the policy's initial weights
  policy_ = Policy(space_, options_.policy);
  optimizer_ = std::make_unique<torch::optim::Adam>(
      policy_->parameters(), torch::optim::AdamOptions(options_.learning_rate));
}

std::optional<Proposal> PpoStrategy::Propose() {
  // A batch at a time, from the policy as it is now: each sample keeps the log-probability it
  // was drawn with, so the importance ratio stays right after later updates.
  if (drawn_.empty()) drawn_ = policy_->Draw(options_.batch_size, generator_);
  PolicyImpl::Sample sample = std::move(drawn_.back());
  drawn_.pop_back();
  const uint64_t id = next_id_++;
  Proposal proposal{id, sample.tokens};
  pending_.emplace(id, std::move(sample));
  return proposal;
}

void PpoStrategy::Observe(uint64_t proposal_id, double reward) {
  const auto it = pending_.find(proposal_id);
  if (it == pending_.end()) {
    throw std::invalid_argument("no pending proposal " + std::to_string(proposal_id));
  }
  if (!baseline_set_) {
    baseline_ = reward;
    baseline_set_ = true;
  }
  batch_.push_back({std::move(it->second.tokens), it->second.log_prob, reward - baseline_});
  pending_.erase(it);
  baseline_ = options_.baseline_decay * baseline_ + (1 - options_.baseline_decay) * reward;
  if (static_cast<int64_t>(batch_.size()) >= options_.batch_size) Update();
}

void PpoStrategy::Update() {
  const int64_t n = static_cast<int64_t>(batch_.size());
  torch::Tensor tokens = torch::empty({n, space_->num_steps()}, torch::kLong);
  torch::Tensor old_log_prob = torch::empty({n});
  torch::Tensor advantage = torch::empty({n});
  for (int64_t i = 0; i < n; ++i) {
    for (int step = 0; step < space_->num_steps(); ++step) tokens[i][step] = batch_[i].tokens[step];
    old_log_prob[i] = batch_[i].old_log_prob;
    advantage[i] = batch_[i].advantage;
  }
  for (int64_t epoch = 0; epoch < options_.epochs; ++epoch) {
    const auto [log_prob, entropy] = policy_->Evaluate(tokens);
    const torch::Tensor ratio = (log_prob - old_log_prob).exp();
    const torch::Tensor clipped = ratio.clamp(1 - options_.clip, 1 + options_.clip);
    const torch::Tensor objective = torch::min(ratio * advantage, clipped * advantage).mean();
    const torch::Tensor loss = -objective - options_.entropy_weight * entropy.mean();
    optimizer_->zero_grad();
    loss.backward();
    optimizer_->step();
  }
  batch_.clear();
  ++updates_;
}

}  // namespace actsearch::controller
