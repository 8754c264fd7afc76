// The search's state machine: proposes candidates through the strategy, applies the rules of a
// search (controller/class_ledger.h), leases trials to workers, takes their results and feeds
// the rewards back. It is driven from one thread (the controller's strand), so it needs no locks.
//
// Every state change is committed to the results store before it is acted on, and the
// strategy is checkpointed there, so a controller restarted on the same database rebuilds this
// object: results already committed are kept, no trial is trained twice (a re-proposed class
// attaches to its existing trial), and the strategy continues from its checkpoint.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/class_ledger.h"
#include "controller/stopping_rule.h"
#include "controller/strategy.h"
#include "search_space/space.h"
#include "storage/results_store.h"

namespace actsearch::controller {

struct SchedulerOptions {
  int64_t search_id = 0;
  double lease_seconds = 120;
  int max_attempts = 3;
  int64_t max_trials = 0;     // trainings; 0: no limit
  double max_seconds = 0;     // since the search started; 0: no limit
  int64_t max_proposals = 0;  // 0: no limit
  uint64_t seed = 0;          // every child's seed
  // A strategy that proposes only known classes this many times in a row has exhausted what it
  // can find (random search on a small space never says so itself).
  int64_t max_consecutive_repeats = 20000;
  // Failures that are not the candidates' fault, in a row, that fail the search (0: never).
  int max_consecutive_failures = 5;
  // Where children are evaluated during their budget, and the rule that may stop them there.
  StoppingSettings stopping;
};

// A child's validation accuracy at a step of its budget, as a heartbeat carries it.
struct Evaluation {
  int64_t step = 0;
  double accuracy = 0;
};

struct Assignment {
  // kStopping: the controller is shutting down before the search's end.
  enum class Kind { kTrial, kWait, kFinished, kStopping } kind = Kind::kWait;
  storage::TrialRow trial;  // kTrial: the leased trial (attempt already counted)
};

// kStop: the lease is not the worker's any more; kEarlyStop: the search's early stopping
// stops the child at the evaluation the heartbeat carried.
enum class HeartbeatAction { kContinue, kStop, kRelease, kEarlyStop };

// Whose fault a failed training was. The candidate's (its expression cannot be built here):
// a final outcome with reward 0, like divergence. The environment's (data files missing, a
// device lost): the trial is requeued, and repeated environment failures fail the search.
enum class Blame { kCandidate, kEnvironment };

// What a worker's report did.
struct ReportReceipt {
  bool accepted = false;  // false: the trial already had a result, or is not this worker's
  storage::TrialState state = storage::TrialState::kQueued;  // the trial's state after it
};

struct SchedulerStatus {
  // Trials by state as the database holds them: trials.trained() is the budget used.
  storage::TrialCounts trials;
  int64_t max_trials = 0;  // 0: no limit
  int64_t proposed = 0, repeats = 0;
  // By this controller since it started: leases handed out (each an attempt of a trial), and
  // leases that expired without a heartbeat (their trials requeued or failed).
  int64_t leases_granted = 0, leases_expired = 0;
  int64_t policy_updates = 0;  // the strategy's (PPO's), since the search began
  double best_reward = 0;
  std::string best_expression;
  bool finished = false;
  int consecutive_failures = 0;  // environment failures since the last other result
  std::string last_failure;      // the error of the latest environment failure
};

class Scheduler {
 public:
  // Rebuilds the state from the store (trials of the search and its newest sound checkpoint).
  // `space` and `strategy` must outlive the scheduler. Throws StrategyStateError when no kept
  // checkpoint is one the strategy can take.
  Scheduler(storage::ResultsStore& store, const Space& space, Strategy& strategy,
            SchedulerOptions options, double search_started_at);

  // A trial for this worker: a queued one first (requeued after an expired lease, or left by a
  // previous controller), else the next candidate that needs training, else a trial requeued
  // after an environment failure: those go last, so that a broken environment fails several
  // trials once each (failing the search) rather than one trial until its attempts are spent.
  // Nothing is handed out while the search is failing().
  Assignment Acquire(int64_t worker_id, double now);
  // Renews the lease. An evaluation at one of the search's evaluation steps is recorded, and
  // the early-stopping rule's verdict on it answered (the same verdict when asked again).
  HeartbeatAction Heartbeat(int64_t worker_id, int64_t trial_id, double now,
                            const std::optional<Evaluation>& evaluation = std::nullopt);
  // The steps at which children are evaluated (Trial.evaluate_at).
  const std::vector<int64_t>& evaluate_at() const { return rule_.settings().evaluate_at; }
  // Whether the early stopping stopped `trial` at `step`: a report of it as pruned is true.
  bool StoppedAt(int64_t trial_id, int64_t step) const {
    return rule_.VerdictAt(trial_id, step) == Verdict::kStop;
  }
  // Records a trial's result. A failure blamed on the environment requeues the trial (one
  // attempt used) unless its attempts are spent; it must come from the worker holding the
  // lease. A trial that already has a result keeps it (accepted is false).
  ReportReceipt Report(int64_t worker_id, int64_t trial_id, const storage::TrialResult& result,
                       Blame blame = Blame::kCandidate);
  // Leases past their deadline go back to the queue, or fail after max_attempts.
  void ExpireLeases(double now);

  void SaveCheckpoint();
  // From now on, acquiring answers stopping, and a heartbeat answers release and puts its
  // trial back on the queue without using up an attempt.
  void BeginShutdown() { shutting_down_ = true; }
  // The worker gives its leased trial back (it is stopping): queued again, no attempt used.
  // False when the lease is not this worker's.
  bool Release(int64_t worker_id, int64_t trial_id);

  bool finished(double now) const;
  // Environment failures in a row have reached max_consecutive_failures: the search cannot
  // make progress, and its controller ends it as failed.
  bool failing() const;
  SchedulerStatus status(double now) const;
  // What the operator should know about the resume ("" when nothing): a corrupt latest
  // checkpoint passed over.
  const std::string& restore_note() const { return restore_note_; }

 private:
  bool MayStartTraining(double now) const;
  bool OutOfTime(double now) const;
  // Leases the first queued trial, from `queued_` or `retry_later_`.
  // The strategy hears a reward; the policy updates it makes are recorded in the store.
  void ObserveReward(uint64_t proposal, double reward);
  std::optional<storage::TrialRow> LeaseQueued(std::set<int64_t>& queue, int64_t worker_id,
                                               double now);
  // Proposes until a candidate needs training; its trial, queued, or nullopt.
  std::optional<int64_t> ProposeUntilNewClass(double now);
  storage::NewCandidate Row(const CandidateAnalysis& candidate, const Proposal& proposal) const;
  // A trial got its result (`state`): the class's reward reaches the waiting proposals. A
  // pruned child's reward is an estimate: it is never the search's best.
  void Finish(int64_t trial_id, storage::TrialState state, double reward, bool pruned = false);
  void RestoreCheckpoint();

  std::string restore_note_;
  storage::ResultsStore& store_;
  const Space& space_;
  Strategy& strategy_;
  SchedulerOptions options_;
  double started_at_;

  StoppingRule rule_;   // the early stopping: evaluations and verdicts
  ClassLedger ledger_;  // the search's rules: which classes are known, which in training
  std::map<int64_t, std::vector<uint64_t>> waiting_;  // trial -> proposals awaiting it
  std::set<int64_t> queued_;                          // unfinished trials not leased
  std::set<int64_t> retry_later_;  // queued after an environment failure: leased last
  storage::TrialCounts finished_;  // trials with a result (screened included), by state
  int64_t proposed_ = 0, repeats_ = 0, consecutive_repeats_ = 0;
  int64_t leases_granted_ = 0, leases_expired_ = 0;
  int consecutive_failures_ = 0;
  std::string last_failure_;
  bool exhausted_ = false;
  bool shutting_down_ = false;
  double best_reward_ = 0;
  std::string best_expression_;
};

// The reward of a result: the reward recorded with it, else its validation accuracy, 0 for
// diverged and failed trials.
double RewardOf(const storage::TrialResult& result);

}  // namespace actsearch::controller
