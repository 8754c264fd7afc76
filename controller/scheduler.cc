#include "controller/scheduler.h"

#include "proto/controller.pb.h"
#include "storage/candidate_record.h"

namespace actsearch::controller {
namespace {

constexpr const char* kCheckpointKind = storage::kSchedulerCheckpointKind;
constexpr int64_t kCheckpointsKept = 3;
// Proposals one Acquire may go through before answering "wait": it stays responsive while a
// strategy proposes long runs of known classes.
constexpr int kProposalsPerAcquire = 1000;

bool HasResult(storage::TrialState state) {
  return state != storage::TrialState::kQueued && state != storage::TrialState::kLeased;
}

double RewardOfRow(const storage::TrialRow& row) {
  if (row.reward) return *row.reward;
  if (row.state == storage::TrialState::kDiverged || row.state == storage::TrialState::kFailed ||
      row.state == storage::TrialState::kScreened) {
    return 0;
  }
  return row.validation_accuracy.value_or(0.0);
}

}  // namespace

storage::NewCandidate Scheduler::Row(const CandidateAnalysis& candidate,
                                     const Proposal& proposal) const {
  return storage::CandidateRow(options_.search_id, candidate, strategy_.name(),
                               space_.TokensToString(proposal.tokens));
}

double RewardOf(const storage::TrialResult& result) {
  if (result.reward) return *result.reward;
  if (result.state == storage::TrialState::kDiverged ||
      result.state == storage::TrialState::kFailed) {
    return 0;
  }
  return result.validation_accuracy.value_or(0.0);
}

Scheduler::Scheduler(storage::ResultsStore& store, const Space& space, Strategy& strategy,
                     SchedulerOptions options, double search_started_at)
    : store_(store),
      space_(space),
      strategy_(strategy),
      options_(std::move(options)),
      started_at_(search_started_at),
      rule_(options_.stopping) {
  for (const storage::EvaluationRow& e : store_.EvaluationsOfSearch(options_.search_id)) {
    rule_.Restore(e.trial_id, e.step, e.validation_accuracy,
                  e.verdict == "stop" ? Verdict::kStop : Verdict::kContinue);
  }
  for (const storage::TrialRow& row : store_.TrialsOfSearch(options_.search_id)) {
    const Fingerprint fingerprint = FingerprintFromHex(row.fingerprint);
    if (row.state == storage::TrialState::kScreened) {
      ledger_.SetReward(fingerprint, 0);
      finished_.Add(row.state);
    } else if (HasResult(row.state)) {
      ledger_.SetReward(fingerprint, RewardOfRow(row));
      if (row.state == storage::TrialState::kDone && row.validation_accuracy) {
        rule_.Finish(row.trial_id, *row.validation_accuracy);
      }
      finished_.Add(row.state);
      // The best is a child that trained on: a pruned one's reward is an estimate.
      if (!row.pruned && (RewardOfRow(row) > best_reward_ || best_expression_.empty())) {
        best_reward_ = RewardOfRow(row);
        best_expression_ = row.expression;
      }
    } else {
      ledger_.StartTraining(fingerprint, row.trial_id);
      if (row.state == storage::TrialState::kQueued) queued_.insert(row.trial_id);
    }
  }
  RestoreCheckpoint();
}

void Scheduler::RestoreCheckpoint() {
  // The newest checkpoint the strategy takes; a corrupt one (a disk fault, a bug of an older
  // build) is passed over for the one before it, and the note says so.
  const std::vector<storage::Checkpoint> checkpoints =
      store_.Checkpoints(options_.search_id, kCheckpointKind);
  if (checkpoints.empty()) return;
  proto::SchedulerCheckpoint saved;
  std::string first_problem;
  for (const storage::Checkpoint& checkpoint : checkpoints) {
    std::string problem;
    if (!saved.ParseFromArray(checkpoint.data.data(), static_cast<int>(checkpoint.data.size()))) {
      problem = "it does not parse";
    } else {
      try {
        strategy_.RestoreState(saved.strategy());
      } catch (const StrategyStateError& error) {
        problem = error.what();
      }
    }
    if (problem.empty()) {
      if (!first_problem.empty()) {
        restore_note_ = "the latest checkpoint is corrupt (" + first_problem +
                        "): resumed from an older one, at proposal " +
                        std::to_string(checkpoint.step) + " (later proposals are drawn again)";
      }
      break;
    }
    if (first_problem.empty()) first_problem = problem;
    if (&checkpoint == &checkpoints.back()) {
      throw StrategyStateError("every kept checkpoint of the search is corrupt; the latest: " +
                               first_problem);
    }
  }
  proposed_ = saved.proposed();
  repeats_ = saved.repeats();
  consecutive_repeats_ = saved.consecutive_repeats();
  exhausted_ = saved.exhausted();
  for (const auto& waiting : saved.waiting()) {
    const std::optional<storage::TrialRow> trial = store_.Trial(waiting.trial_id());
    if (!trial) continue;
    if (HasResult(trial->state)) {
      // Finished after the checkpoint: the restored strategy still waits for its reward.
      for (uint64_t proposal : waiting.proposal_ids()) ObserveReward(proposal, RewardOfRow(*trial));
    } else {
      waiting_[waiting.trial_id()].assign(waiting.proposal_ids().begin(),
                                          waiting.proposal_ids().end());
    }
  }
}

void Scheduler::SaveCheckpoint() {
  proto::SchedulerCheckpoint saved;
  saved.set_strategy(strategy_.SaveState());
  for (const auto& [trial, proposals] : waiting_) {
    auto* waiting = saved.add_waiting();
    waiting->set_trial_id(trial);
    for (uint64_t proposal : proposals) waiting->add_proposal_ids(proposal);
  }
  saved.set_proposed(proposed_);
  saved.set_repeats(repeats_);
  saved.set_consecutive_repeats(consecutive_repeats_);
  saved.set_exhausted(exhausted_);
  const std::string bytes = saved.SerializeAsString();
  store_.SaveCheckpoint(options_.search_id, kCheckpointKind, proposed_,
                        std::vector<uint8_t>(bytes.begin(), bytes.end()));
  store_.PruneCheckpoints(options_.search_id, kCheckpointKind, kCheckpointsKept);
}

bool Scheduler::OutOfTime(double now) const {
  return options_.max_seconds > 0 && now - started_at_ >= options_.max_seconds;
}

bool Scheduler::MayStartTraining(double now) const {
  const int64_t unfinished = ledger_.in_training();
  return !exhausted_ && !OutOfTime(now) &&
         (options_.max_trials == 0 || finished_.trained() + unfinished < options_.max_trials) &&
         (options_.max_proposals == 0 || proposed_ < options_.max_proposals);
}

bool Scheduler::finished(double now) const {
  return ledger_.in_training() == 0 && !MayStartTraining(now);
}

Assignment Scheduler::Acquire(int64_t worker_id, double now) {
  if (shutting_down_) return {Assignment::Kind::kStopping, {}};
  if (finished(now)) return {Assignment::Kind::kFinished, {}};
  if (failing()) return {Assignment::Kind::kWait, {}};  // the controller is about to stop
  if (std::optional<storage::TrialRow> trial = LeaseQueued(queued_, worker_id, now)) {
    return {Assignment::Kind::kTrial, *trial};
  }
  if (std::optional<int64_t> trial_id = ProposeUntilNewClass(now)) {
    queued_.insert(*trial_id);
    if (std::optional<storage::TrialRow> trial = LeaseQueued(queued_, worker_id, now)) {
      return {Assignment::Kind::kTrial, *trial};
    }
  }
  if (std::optional<storage::TrialRow> trial = LeaseQueued(retry_later_, worker_id, now)) {
    return {Assignment::Kind::kTrial, *trial};
  }
  return {finished(now) ? Assignment::Kind::kFinished : Assignment::Kind::kWait, {}};
}

std::optional<storage::TrialRow> Scheduler::LeaseQueued(std::set<int64_t>& queue, int64_t worker_id,
                                                        double now) {
  while (!queue.empty()) {
    const int64_t trial_id = *queue.begin();
    // Off the queue only once the database has answered: if the lease throws (an unknown
    // worker, a full disk), the trial stays queued here as it does there.
    const bool leased = store_.LeaseTrial(trial_id, worker_id, now + options_.lease_seconds);
    queue.erase(trial_id);
    if (leased) {
      ++leases_granted_;
      return store_.Trial(trial_id);
    }
  }
  return std::nullopt;
}

std::optional<int64_t> Scheduler::ProposeUntilNewClass(double now) {
  for (int i = 0; i < kProposalsPerAcquire && MayStartTraining(now); ++i) {
    const std::optional<Proposal> proposal = strategy_.Propose();
    if (!proposal) {
      exhausted_ = true;
      return std::nullopt;
    }
    ++proposed_;
    const CandidateAnalysis candidate = AnalyzeExpression(space_.Decode(proposal->tokens));
    const Ruling ruling = ledger_.Rule(candidate);
    if (ruling.kind == Ruling::Kind::kScreened) {  // recorded once per class
      ledger_.SetReward(candidate.fingerprint, 0);
      store_.RecordScreenedTrial(store_.AddCandidate(Row(candidate, *proposal)));
      finished_.Add(storage::TrialState::kScreened);
      ObserveReward(proposal->id, 0);
      continue;
    }
    if (ruling.kind == Ruling::Kind::kScreenedRepeat) {
      ++repeats_;
      ObserveReward(proposal->id, 0);
      continue;
    }
    if (ruling.kind == Ruling::Kind::kKnown || ruling.kind == Ruling::Kind::kInFlight) {
      ++repeats_;
      if (++consecutive_repeats_ >= options_.max_consecutive_repeats) exhausted_ = true;
      if (ruling.kind == Ruling::Kind::kKnown) {
        ObserveReward(proposal->id, ruling.reward);
      } else {
        waiting_[ruling.trial].push_back(proposal->id);
      }
      continue;
    }
    consecutive_repeats_ = 0;
    // Every child of a search gets the same seed (initialisation, data order): common random
    // numbers, so that rewards differ by the activation and not by luck of the draw.
    const int64_t seed = static_cast<int64_t>(options_.seed & 0x7fffffff);
    const int64_t trial_id =
        store_.QueueTrial(store_.AddCandidate(Row(candidate, *proposal)), seed);
    ledger_.StartTraining(candidate.fingerprint, trial_id);
    waiting_[trial_id].push_back(proposal->id);
    return trial_id;
  }
  return std::nullopt;
}

HeartbeatAction Scheduler::Heartbeat(int64_t worker_id, int64_t trial_id, double now,
                                     const std::optional<Evaluation>& evaluation) {
  if (shutting_down_) {
    Release(worker_id, trial_id);
    return HeartbeatAction::kRelease;
  }
  if (!store_.RenewLease(trial_id, worker_id, now + options_.lease_seconds)) {
    return HeartbeatAction::kStop;
  }
  if (!evaluation || !rule_.evaluates_at(evaluation->step)) return HeartbeatAction::kContinue;
  const int64_t step = evaluation->step;
  // Asked again (a repeated heartbeat, a retried attempt): the verdict given the first time.
  std::optional<Verdict> verdict = rule_.VerdictAt(trial_id, step);
  if (!verdict) {
    verdict = rule_.Judge(trial_id, step, evaluation->accuracy);
    // Stored before it is kept or answered: a resumed controller rebuilds what it answered.
    store_.RecordEvaluation({trial_id, step, evaluation->accuracy,
                             !rule_.decides_at(trial_id, step) ? ""
                             : *verdict == Verdict::kContinue  ? "continue"
                                                               : "stop"});
    rule_.Restore(trial_id, step, evaluation->accuracy, *verdict);
  }
  return *verdict == Verdict::kStop ? HeartbeatAction::kEarlyStop : HeartbeatAction::kContinue;
}

bool Scheduler::Release(int64_t worker_id, int64_t trial_id) {
  if (!store_.ReleaseLease(trial_id, worker_id)) return false;
  queued_.insert(trial_id);
  return true;
}

ReportReceipt Scheduler::Report(int64_t worker_id, int64_t trial_id,
                                const storage::TrialResult& result, Blame blame) {
  ReportReceipt receipt;
  if (result.state == storage::TrialState::kFailed && blame == Blame::kEnvironment) {
    const std::optional<storage::TrialState> next =
        store_.RequeueOrFail(trial_id, worker_id, result, options_.max_attempts);
    if (!next) return receipt;
    receipt = {true, *next};
    ++consecutive_failures_;
    last_failure_ = result.error;
    if (*next == storage::TrialState::kQueued) {
      retry_later_.insert(trial_id);
    } else {
      Finish(trial_id, *next, 0);
    }
    return receipt;
  }
  // A pruned child's reward is put on the full budget's scale (StoppingRule::StoppedReward).
  storage::TrialResult recorded = result;
  if (result.pruned && result.validation_accuracy) {
    recorded.reward = rule_.StoppedReward(result.steps, *result.validation_accuracy);
  }
  recorded.reward = RewardOf(recorded);
  if (!store_.RecordResult(trial_id, recorded)) return receipt;
  consecutive_failures_ = 0;
  if (result.state == storage::TrialState::kDone && result.validation_accuracy) {
    rule_.Finish(trial_id, *result.validation_accuracy);
  }
  Finish(trial_id, result.state, *recorded.reward, result.pruned);
  return {true, result.state};
}

void Scheduler::ExpireLeases(double now) {
  for (int64_t trial_id : store_.ExpireLeases(now, options_.max_attempts)) {
    ++leases_expired_;
    const std::optional<storage::TrialState> state = store_.StateOf(trial_id);
    if (state == storage::TrialState::kQueued) {
      queued_.insert(trial_id);
    } else if (state == storage::TrialState::kFailed) {
      storage::TrialResult failed;
      failed.state = storage::TrialState::kFailed;
      failed.error = "no result after " + std::to_string(options_.max_attempts) +
                     " leases (workers died or lost the controller)";
      if (store_.RecordResult(trial_id, failed)) Finish(trial_id, failed.state, 0);
    }
  }
}

void Scheduler::Finish(int64_t trial_id, storage::TrialState state, double reward, bool pruned) {
  if (!ledger_.FinishTraining(trial_id, reward)) return;  // not a trial of this search
  queued_.erase(trial_id);
  retry_later_.erase(trial_id);
  finished_.Add(state);
  if (!pruned && (reward > best_reward_ || best_expression_.empty())) {
    best_reward_ = reward;
    if (std::optional<storage::TrialRow> trial = store_.Trial(trial_id)) {
      best_expression_ = trial->expression;
    }
  }
  const auto waiting = waiting_.find(trial_id);
  if (waiting != waiting_.end()) {
    for (uint64_t proposal : waiting->second) ObserveReward(proposal, reward);
    waiting_.erase(waiting);
  }
}

void Scheduler::ObserveReward(uint64_t proposal, double reward) {
  strategy_.Observe(proposal, reward);
  for (const storage::PolicyUpdateRow& update : strategy_.TakePolicyUpdates()) {
    store_.RecordPolicyUpdate(options_.search_id, update);
  }
}

bool Scheduler::failing() const {
  return options_.max_consecutive_failures > 0 &&
         consecutive_failures_ >= options_.max_consecutive_failures;
}

SchedulerStatus Scheduler::status(double now) const {
  SchedulerStatus s;
  s.trials = finished_;
  s.trials.queued = static_cast<int64_t>(queued_.size() + retry_later_.size());
  s.trials.leased = ledger_.in_training() - s.trials.queued;
  s.max_trials = options_.max_trials;
  s.proposed = proposed_;
  s.repeats = repeats_;
  s.leases_granted = leases_granted_;
  s.leases_expired = leases_expired_;
  s.policy_updates = strategy_.policy_updates();
  s.consecutive_failures = consecutive_failures_;
  s.last_failure = last_failure_;
  s.best_reward = best_reward_;
  s.best_expression = best_expression_;
  s.finished = finished(now);
  return s;
}

}  // namespace actsearch::controller
