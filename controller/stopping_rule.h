// A search's early stopping (multi-fidelity search): where children are evaluated during their
// budget, and the rule that decides at each evaluation whether a child goes on. The controller's
// scheduler and the landscape replay (bench/landscape_replay.cc) both decide through this class.
//
// Rules (docs/early-stopping.md):
//   median  a child below the median of the other children's accuracies at the same step is
//           stopped, once past the grace steps and with at least min_peers of them;
//   asha    asynchronous successive halving, as a stopping rule: at each rung (r, r * eta, ...
//           below the budget) a child goes on when it ranks in the top ceil(n / eta) of the n
//           children evaluated there so far, itself included; no child waits for a full rung.
//           With B brackets (asynchronous Hyperband), trial t is in bracket t mod B, which
//           decides from rung t mod B on and ranks a child among its own bracket only.
// Every child trains under the schedule of the whole budget, so a child that is never stopped
// ends exactly as it would have without early stopping.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proto/search_config.pb.h"

namespace actsearch::controller {

// The early stopping of a search with its defaults applied.
struct StoppingSettings {
  enum class Rule { kNone, kMedian, kAsha } rule = Rule::kNone;
  int64_t budget = 0;                // the child's steps
  std::vector<int64_t> evaluate_at;  // ascending, each below the budget
  std::vector<int64_t> decide_at;    // where the rule decides: the rungs, or past the grace
  int min_peers = 5;                 // median
  double eta = 3;                    // asha
  int brackets = 1;                  // asha: bracket b decides at decide_at[b], [b + 1], ...
};
// The settings of `config` (its child's budget and its early_stopping, which may be absent:
// rule none, nothing evaluated). Throws ConfigError naming a field that is out of range.
StoppingSettings StoppingSettingsOf(const proto::SearchConfig& config);

enum class Verdict { kContinue, kStop };

class StoppingRule {
 public:
  explicit StoppingRule(StoppingSettings settings);

  const StoppingSettings& settings() const { return settings_; }
  bool evaluates_at(int64_t step) const;
  bool decides_at(int64_t trial, int64_t step) const;  // the rule decides this evaluation

  // `trial` was evaluated at `step` (one of evaluate_at): the verdict, kept. Asked again for
  // the same trial and step (a heartbeat repeated, a retried attempt reaching the step again),
  // it gives the verdict it gave the first time.
  Verdict Evaluate(int64_t trial, int64_t step, double accuracy);
  // The verdict Evaluate would give, without keeping it: the controller stores it first.
  Verdict Judge(int64_t trial, int64_t step, double accuracy) const;
  // Keeps an evaluation and its verdict (as judged, or as the store recorded them when a
  // controller resumes).
  void Restore(int64_t trial, int64_t step, double accuracy, Verdict verdict);
  // The verdict given to `trial` at `step`, if any.
  std::optional<Verdict> VerdictAt(int64_t trial, int64_t step) const;
  // `trial` trained its whole budget, ending at `accuracy`.
  void Finish(int64_t trial, double accuracy);

  // The reward of a child stopped at `step` with `accuracy`, on the full budget's scale: its
  // accuracy plus the median gain from that step to the end of the children that trained to
  // the end (none yet: its accuracy). A stopped child is then judged by how far it trailed its
  // peers, not punished for the training it did not do.
  double StoppedReward(int64_t step, double accuracy) const;

 private:
  int BracketOf(int64_t trial) const;

  StoppingSettings settings_;
  // step -> trial -> accuracy, and the verdicts given
  std::map<int64_t, std::map<int64_t, double>> at_step_;
  std::map<std::pair<int64_t, int64_t>, Verdict> verdicts_;  // (trial, step)
  std::map<int64_t, double> finals_;                         // trial -> accuracy at the budget
};

}  // namespace actsearch::controller
