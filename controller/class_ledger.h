// The rules every search applies to a proposed candidate, in one place for the controller's
// scheduler and the in-process search (controller/local_search.h):
//   - a screened candidate gets reward 0 without training; its class is recorded once;
//   - a class with a result gives a later member that reward without training;
//   - a class whose training is under way makes a later member wait for its result;
//   - anything else is trained, once per class.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "search_space/candidate_analysis.h"

namespace actsearch::controller {

struct Ruling {
  enum class Kind {
    kScreened,        // the class's first screened member: record it, reward 0
    kScreenedRepeat,  // screened, and its class is recorded already: reward 0
    kKnown,           // a repeat of a class with a result: `reward`
    kInFlight,        // a repeat of a class under training: wait for `trial`
    kTrain,           // a new class: train it
  } kind = Kind::kTrain;
  double reward = 0;
  int64_t trial = -1;
};

class ClassLedger {
 public:
  Ruling Rule(const CandidateAnalysis& candidate) const;

  // The class has its reward: screened (0), or trained.
  void SetReward(Fingerprint fingerprint, double reward);
  // The class's training `trial` is under way.
  void StartTraining(Fingerprint fingerprint, int64_t trial);
  // `trial` ended with `reward`; its class, or nullopt when the trial is not one this ledger
  // started.
  std::optional<Fingerprint> FinishTraining(int64_t trial, double reward);

  // Trials under way (a re-evaluation trains several of one class, one per seed).
  int64_t in_training() const { return static_cast<int64_t>(trials_.size()); }

 private:
  std::unordered_map<Fingerprint, double> rewards_;    // classes with a result
  std::unordered_map<Fingerprint, int64_t> training_;  // class -> its unfinished trial
  std::unordered_map<int64_t, Fingerprint> trials_;    // unfinished trial -> its class
};

}  // namespace actsearch::controller
