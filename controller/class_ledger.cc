#include "controller/class_ledger.h"

namespace actsearch::controller {

Ruling ClassLedger::Rule(const CandidateAnalysis& candidate) const {
  const auto known = rewards_.find(candidate.fingerprint);
  if (!candidate.screen.accepted()) {
    return {known == rewards_.end() ? Ruling::Kind::kScreened : Ruling::Kind::kScreenedRepeat};
  }
  if (known != rewards_.end()) return {Ruling::Kind::kKnown, known->second};
  if (const auto training = training_.find(candidate.fingerprint); training != training_.end()) {
    return {Ruling::Kind::kInFlight, 0, training->second};
  }
  return {Ruling::Kind::kTrain};
}

void ClassLedger::SetReward(Fingerprint fingerprint, double reward) {
  rewards_[fingerprint] = reward;
}

void ClassLedger::StartTraining(Fingerprint fingerprint, int64_t trial) {
  training_[fingerprint] = trial;
  trials_[trial] = fingerprint;
}

std::optional<Fingerprint> ClassLedger::FinishTraining(int64_t trial, double reward) {
  const auto it = trials_.find(trial);
  if (it == trials_.end()) return std::nullopt;
  const Fingerprint fingerprint = it->second;
  trials_.erase(it);
  if (const auto training = training_.find(fingerprint);
      training != training_.end() && training->second == trial) {
    training_.erase(training);
  }
  rewards_[fingerprint] = reward;
  return fingerprint;
}

}  // namespace actsearch::controller
