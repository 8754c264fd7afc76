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

// Defaults: NASNet's controller settings (docs/papers.md section 1) and PPO's usual clip,
// every sample against the EMA baseline. docs/controller-strategies.md says when to change them.
struct PpoOptions {
  PolicyOptions policy;
  double learning_rate = 0.00035;  // Adam
  double entropy_weight = 1e-5;
  double baseline_decay = 0.95;  // EMA of rewards
  double clip = 0.2;
  int64_t batch_size = 20;  // rewards per policy update
  int64_t epochs = 4;       // passes over each batch
  // Below 1: only the samples of a batch at or above its (1 - top_fraction) quantile of rewards
  // teach the policy, with that quantile as their baseline (the risk-seeking policy gradient of
  // Petersen et al. 2021, "Deep symbolic regression"): the policy chases the best candidates
  // instead of a good average, which is what a search for the best function wants.
  double top_fraction = 1;
  // Scales each batch's advantages to unit standard deviation, so that the entropy bonus keeps
  // the same weight against them whether the batch's rewards are spread or close together.
  bool normalize_advantages = false;
  uint64_t seed = 0;
};

// PPO's clipped surrogate, to be minimised: the mean over samples of
// -min(ratio * advantage, clamp(ratio, 1 - clip, 1 + clip) * advantage), where ratio compares
// the current policy's log-probability with the one the sample was drawn with.
torch::Tensor ClippedSurrogateLoss(const torch::Tensor& log_prob, const torch::Tensor& old_log_prob,
                                   const torch::Tensor& advantage, double clip);

class PpoStrategy : public Strategy {
 public:
  // `space` must outlive the strategy. Throws std::invalid_argument for options out of range.
  PpoStrategy(const Space* space, PpoOptions options = {});

  std::string name() const override { return "ppo"; }
  std::optional<Proposal> Propose() override;
  void Observe(uint64_t proposal_id, double reward) override;
  // Policy weights, Adam's state (its settings included), the baseline, the sampling
  // generator, ids, the update count, the pending, drawn and batched samples.
  std::string SaveState() const override;
  void RestoreState(const std::string& bytes) override;

  int64_t updates() const { return updates_; }
  int64_t policy_updates() const override { return updates_; }
  std::vector<storage::PolicyUpdateRow> TakePolicyUpdates() override;
  // Updates undone because they made the policy's weights non-finite (a reward no training
  // produces slipped through): the policy stays as it was, and so do its checkpoints.
  int64_t refused_updates() const { return refused_updates_; }
  double baseline() const { return baseline_; }
  Policy& policy() { return policy_; }

 private:
  struct Observed {
    std::vector<int> tokens;
    double old_log_prob;
    double reward;
    double advantage;  // against the EMA baseline as it was when the reward came
  };
  void Update();
  // One PPO update of the batch: false when it produced a non-finite loss or weights.
  bool TryUpdate();
  std::vector<double> BatchAdvantages() const;
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
  std::vector<storage::PolicyUpdateRow> recent_updates_;  // not yet taken
  double batch_entropy_ = 0;  // the last TryUpdate's mean entropy before its first step
  int64_t refused_updates_ = 0;
};

}  // namespace actsearch::controller
