// The results store: one SQLite file holds a search's whole memory. The controller is its one
// writer; every state change of a trial is one committed transaction, so a crash at any moment
// loses nothing that was committed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"

namespace actsearch::storage {

enum class TrialState { kQueued, kLeased, kDone, kFailed, kDiverged, kScreened, kStoppedEarly };
const char* TrialStateName(TrialState state);  // as stored: "queued", "stopped_early", ...
std::optional<TrialState> TrialStateFromName(const std::string& name);

// A search's trials by state, the one way progress is counted: by the controller's progress
// lines, `actsearch searches` and the budget alike.
struct TrialCounts {
  int64_t queued = 0, leased = 0, done = 0, diverged = 0, stopped_early = 0, failed = 0,
          screened = 0;
  void Add(TrialState state, int64_t n = 1);
  // Trials that used a training (the budget's max_trials counts these); screened ones did not.
  int64_t trained() const { return done + diverged + stopped_early + failed; }
};

enum class SearchStatus { kRunning, kFinished, kStopped, kFailed };
const char* SearchStatusName(SearchStatus status);

// What a search row holds: a controller's search (with its config), the runs of a
// re-evaluation, or standalone runs (`actsearch train --db`).
inline constexpr const char* kSearchKindSearch = "search";
inline constexpr const char* kSearchKindReevaluation = "reevaluation";
inline constexpr const char* kSearchKindRuns = "runs";

// The checkpoint kind of the controller's scheduler (proto::SchedulerCheckpoint): its strategy,
// proposals and repeats.
inline constexpr const char* kSchedulerCheckpointKind = "scheduler";

// How often a live controller says so in its search's row, and how long a silence means it is
// gone (`actsearch searches` shows the search as interrupted).
inline constexpr double kControllerHeartbeatSeconds = 2;
inline constexpr double kControllerSilenceSeconds = 15;

struct NewCandidate {
  int64_t search_id = 0;
  std::string expression;   // canonical printed form
  std::string fingerprint;  // functional class, hex
  std::string tokens;       // token sequence, space separated ("" if not from a space)
  std::string proposed_by;  // ppo, random, exhaustive, manual, ...
  std::string screen = "accepted";
  std::string screen_reason;
  std::vector<std::string> operators;  // operator names the expression uses
};

struct TrialResult {
  TrialState state = TrialState::kDone;  // done, diverged, failed or stopped_early
  std::optional<double> validation_accuracy;
  std::optional<double> test_accuracy;
  std::optional<double> loss;
  std::string learning_curve = "[]";  // JSON: [[step, loss, validation_accuracy|null], ...]
  int64_t steps = 0;
  double wall_seconds = 0;
  std::string device;
  std::string error;
  bool pruned = false;  // stopped_early by the search's early-stopping rule
  // What the strategy got for it (set by the controller); absent: the validation accuracy.
  std::optional<double> reward;
};

// A child's validation evaluation during its budget, and the early-stopping rule's verdict.
struct EvaluationRow {
  int64_t trial_id = 0;
  int64_t step = 0;
  double validation_accuracy = 0;
  std::string verdict;  // "continue", "stop", or "" where no rule decided
};

// What one update of a learned policy saw: the policy's mean entropy over its batch before
// the update, the reward baseline after it, and the batch's mean reward.
struct PolicyUpdateRow {
  int64_t index = 0;  // 1, 2, ... in the order of the updates
  double entropy = 0;
  double baseline = 0;
  double mean_reward = 0;
  int64_t batch_size = 0;
  double recorded_at = 0;  // set by the store
};

// A trial with what the controller needs to know of it.
struct TrialRow {
  int64_t trial_id = 0;
  TrialState state = TrialState::kQueued;
  int64_t attempt = 0;
  int64_t seed = 0;
  std::string expression;
  std::string fingerprint;
  std::optional<double> validation_accuracy;  // from its result, if it has one
  std::optional<double> reward;               // from its result, if recorded with one
  bool pruned = false;                        // its result was cut short by early stopping
  std::string model;  // the child network it trains when not its search's; '' for the search's
};

struct SearchRow {
  int64_t id = 0;
  std::string config;
  double started_at = 0;
  double active_seconds = 0;    // how long controllers have run it, up to their last heartbeat
  int fingerprint_version = 0;  // of its candidates' classes (search_space/fingerprint.h)
};

// A registered worker's identity for one process: every call it makes carries the session.
struct WorkerSession {
  int64_t worker_id = 0;
  std::string session;  // a random secret, new at each registration
};

struct WorkerRow {
  int64_t id = 0;
  double last_seen = 0;      // registering, leasing, renewing
  bool holds_lease = false;  // a trial is leased to it now
};

// Who a trial belongs to, for checking a worker's report.
struct TrialHolder {
  int64_t search_id = 0;
  TrialState state = TrialState::kQueued;
  std::optional<int64_t> worker_id;  // the worker holding its lease
};

struct Checkpoint {
  int64_t step = 0;
  std::vector<uint8_t> data;
};

double NowSeconds();               // Unix time
std::string HostName();            // this machine's, as a controller records it
std::string RandomHex(int bytes);  // from std::random_device: secrets, tokens

class ResultsStore {
 public:
  // Opens the file as its writer, creating it if needed and migrating it to the latest schema.
  explicit ResultsStore(const std::string& path);

  sql::Database& database() { return db_; }

  int64_t CreateSearch(const std::string& name, const std::string& config, int64_t seed,
                       const std::string& kind = kSearchKindSearch);
  // Recomputes the fingerprints of a search's candidates from their expressions with
  // `fingerprint_of` (this build's fingerprint, as hex), and records `version`, in one
  // transaction: the classes of a search made by an older build, before it resumes. Returns
  // how many candidates changed class.
  int64_t UpdateFingerprints(
      int64_t search_id, int version,
      const std::function<std::string(const std::string& expression)>& fingerprint_of);
  // The id of the oldest search with this name, created (seed 0, empty config, this kind) if
  // none exists: where standalone runs and re-evaluations are recorded.
  int64_t FindOrCreateSearch(const std::string& name, const std::string& kind);
  // Ends the search: its status, why (empty for a normal end), and no live controller.
  void FinishSearch(int64_t search_id, SearchStatus status, const std::string& reason = "");
  // Running again (a controller resumed it, or a re-evaluation recorded more runs).
  void MarkSearchRunning(int64_t search_id);
  // This process, a controller serving on `address`, takes the search: running, its host, pid
  // and address recorded, its heartbeat now, and any earlier stop request cleared.
  void ClaimSearch(int64_t search_id, const std::string& address);
  // The live controller's heartbeat, which also adds the time since the last one to the
  // search's active seconds; true when `actsearch stop` asked it to stop.
  bool ControllerHeartbeat(int64_t search_id);
  // A resumed search whose budget or dispatch settings were changed.
  void UpdateSearchConfig(int64_t search_id, const std::string& config);

  // Returns the candidate's id; an expression already in the search keeps its first row.
  int64_t AddCandidate(const NewCandidate& candidate);
  // `model`: the child network the trial trains, when not its search's (a re-evaluation's run).
  int64_t QueueTrial(int64_t candidate_id, int64_t seed, const std::string& model = "");
  // A screened candidate's trial: recorded with reward 0, never trained.
  int64_t RecordScreenedTrial(int64_t candidate_id);

  // Registers a worker by name (again after a restart: same id) and returns its id.
  int64_t RegisterWorker(const std::string& name, const std::string& capabilities);
  // The worker registered under `name`, if any.
  std::optional<WorkerRow> FindWorker(const std::string& name);
  // Registers a worker by name with a fresh session secret, which ends the name's earlier
  // session (its process can no longer call).
  WorkerSession OpenWorkerSession(const std::string& name, const std::string& capabilities);
  // The worker's current session secret; nullopt for a worker that does not exist.
  std::optional<std::string> SessionOf(int64_t worker_id);
  // The trial's search, state and lease holder; nullopt for a trial that does not exist.
  std::optional<TrialHolder> HolderOf(int64_t trial_id);
  // True when this worker held a lease of the trial at some attempt (a late report of an
  // expired lease comes from such a worker).
  bool HeldLease(int64_t trial_id, int64_t worker_id);

  // queued -> leased (attempt + 1, started now). False if the trial is not queued.
  bool LeaseTrial(int64_t trial_id, int64_t worker_id, double deadline);
  // Extends a live lease held by this worker. False if it is no longer this worker's.
  bool RenewLease(int64_t trial_id, int64_t worker_id, double deadline);
  // Leases past their deadline go back to the queue, or fail after max_attempts attempts.
  // Returns the trials touched.
  std::vector<int64_t> ExpireLeases(double now, int max_attempts);
  // A leased trial whose worker could not train it (not the candidate's fault: missing data,
  // a lost device): back to the queue with `failure.error` kept as its last error, or, once
  // max_attempts attempts are used, failed with `failure` as its result. The new state, or
  // nullopt (nothing changed) when the lease is not this worker's.
  std::optional<TrialState> RequeueOrFail(int64_t trial_id, int64_t worker_id,
                                          const TrialResult& failure, int max_attempts);

  // Stores a trial's outcome and moves it to result.state. Idempotent: a trial that already
  // has a result keeps it, and false is returned. Non-finite numbers are stored as NULL.
  bool RecordResult(int64_t trial_id, const TrialResult& result);

  // A child's evaluation during its budget; an evaluation of the same trial and step again (a
  // retried attempt) replaces it.
  void RecordEvaluation(const EvaluationRow& evaluation);
  // Every evaluation of the search's trials, in the order they were recorded.
  std::vector<EvaluationRow> EvaluationsOfSearch(int64_t search_id);

  void SaveCheckpoint(int64_t search_id, const std::string& kind, int64_t step,
                      const std::vector<uint8_t>& data);
  // One update of the search's learned policy (PPO); a resumed search that repeats an update
  // index replaces it.
  void RecordPolicyUpdate(int64_t search_id, const PolicyUpdateRow& update);
  std::optional<Checkpoint> LatestCheckpoint(int64_t search_id, const std::string& kind);
  // Every kept checkpoint of this kind, the newest first.
  std::vector<Checkpoint> Checkpoints(int64_t search_id, const std::string& kind);

  std::optional<TrialState> StateOf(int64_t trial_id);
  std::optional<TrialRow> Trial(int64_t trial_id);
  // The search's trials in id order, all of them or those in `state`.
  std::vector<TrialRow> TrialsOfSearch(int64_t search_id,
                                       std::optional<TrialState> state = std::nullopt);
  // The oldest search with this name.
  std::optional<SearchRow> FindSearch(const std::string& name);

  // leased -> queued without using up an attempt: the worker gave the trial back (a graceful
  // shutdown). False if the lease is not this worker's.
  bool ReleaseLease(int64_t trial_id, int64_t worker_id);
  // Keeps the newest `keep` checkpoints of this kind.
  void PruneCheckpoints(int64_t search_id, const std::string& kind, int64_t keep);

 private:
  // Inserts a result row unless the trial has one; true if inserted. Inside a transaction.
  bool InsertResult(int64_t trial_id, const TrialResult& result, double now);
  // Runs a lease statement (?1 trial, ?2 worker, ?3 deadline, ?4 now) and marks the worker
  // seen; true if the statement changed the trial. Inside a transaction.
  bool RunLeaseStatement(const char* statement, int64_t trial_id, int64_t worker_id,
                         double deadline);
  // The worker's row, created or updated; its id. Inside a transaction.
  int64_t UpsertWorker(const std::string& name, const std::string& capabilities);

  sql::Database db_;
};

}  // namespace actsearch::storage
