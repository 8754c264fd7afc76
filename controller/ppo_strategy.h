// The paper's controller: an LSTM policy trained with PPO (clipped ratio, entropy bonus,
// several epochs per batch) against an exponential moving average baseline of the rewards.
// Samples keep the log-probability they were drawn with, so rewards that arrive late, after
// the policy has moved on, still give a correct importance ratio.
#pragma once

#include <map>
#include <memory>

#include "controller/ppo_policy.h"
#include "controller/strategy.h"

namespace actsearch::controller {

// Defaults: NASNet's controller settings (../shared/REFERENCE.md section 1) and PPO's usual clip.
struct PpoOptions {
  PolicyOptions policy;
  double learning_rate = 0.00035;  // Adam
  double entropy_weight = 1e-5;
  double baseline_decay = 0.95;  // EMA of rewards
  double clip = 0.2;
  int64_t batch_size = 20;  // rewards per policy update
  int64_t epochs = 4;       // passes over each batch
  uint64_t seed = 0;
};

class PpoStrategy : public Strategy {
 public:
  // `space` must outlive the strategy.
  PpoStrategy(const Space* space, PpoOptions options = {});

  std::string name() const override { return "ppo"; }
  std::optional<Proposal> Propose() override;
  void Observe(uint64_t proposal_id, double reward) override;
  // Policy weights, Adam's state (its settings included), the baseline, the sampling
  // generator, ids, the update count, the pending, drawn and batched samples.
  std::string SaveState() const override;
  void RestoreState(const std::string& bytes) override;

  int64_t updates() const { return updates_; }
  double baseline() const { return baseline_; }
  Policy& policy() { return policy_; }

 private:
  struct Observed {
    std::vector<int> tokens;
    double old_log_prob;
    double advantage;
  };
  void Update();
  std::unique_ptr<torch::optim::Adam> NewOptimizer() const;

  const Space* space_;
  PpoOptions options_;
  Policy policy_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  torch::Generator generator_;
  std::vector<PolicyImpl::Sample> drawn_;  // drawn together, proposed one by one
  std::map<uint64_t, PolicyImpl::Sample> pending_;
  std::vector<Observed> batch_;
  double baseline_ = 0;
  bool baseline_set_ = false;
  uint64_t next_id_ = 1;
  int64_t updates_ = 0;
};

}  // namespace actsearch::controller
