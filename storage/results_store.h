// The results store: one SQLite file holds a search's whole memory. The controller is its one
// writer; every state change of a trial is one committed transaction, so a crash at any moment
// loses nothing that was committed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"

namespace actsearch::storage {

enum class TrialState { kQueued, kLeased, kDone, kFailed, kDiverged, kScreened, kStoppedEarly };
const char* TrialStateName(TrialState state);  // as stored: "queued", "stopped_early", ...
std::optional<TrialState> TrialStateFromName(const std::string& name);

enum class SearchStatus { kRunning, kFinished, kStopped, kFailed };
const char* SearchStatusName(SearchStatus status);

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
};

struct SearchRow {
  int64_t id = 0;
  std::string config;
  double started_at = 0;
};

struct Checkpoint {
  int64_t step = 0;
  std::vector<uint8_t> data;
};

double NowSeconds();  // Unix time

class ResultsStore {
 public:
  // Opens the file as its writer, creating it if needed and migrating it to the latest schema.
  explicit ResultsStore(const std::string& path);

  sql::Database& database() { return db_; }

  int64_t CreateSearch(const std::string& name, const std::string& config, int64_t seed);
  // The id of the oldest search with this name, created (seed 0, empty config) if none exists:
  // where standalone runs (`actsearch train --db`) are recorded.
  int64_t FindOrCreateSearch(const std::string& name);
  void FinishSearch(int64_t search_id, SearchStatus status);
  // Running again (a controller resumed it).
  void MarkSearchRunning(int64_t search_id);

  // Returns the candidate's id; an expression already in the search keeps its first row.
  int64_t AddCandidate(const NewCandidate& candidate);
  int64_t QueueTrial(int64_t candidate_id, int64_t seed);
  // A screened candidate's trial: recorded with reward 0, never trained.
  int64_t RecordScreenedTrial(int64_t candidate_id);

  // Registers a worker by name (again after a restart: same id) and returns its id.
  int64_t RegisterWorker(const std::string& name, const std::string& capabilities);

  // queued -> leased (attempt + 1). False if the trial is not queued.
  bool LeaseTrial(int64_t trial_id, int64_t worker_id, double deadline);
  // Extends a live lease held by this worker. False if it is no longer this worker's.
  bool RenewLease(int64_t trial_id, int64_t worker_id, double deadline);
  // Leases past their deadline go back to the queue, or fail after max_attempts attempts.
  // Returns the trials touched.
  std::vector<int64_t> ExpireLeases(double now, int max_attempts);

  // Stores a trial's outcome and moves it to result.state. Idempotent: a trial that already
  // has a result keeps it, and false is returned. Non-finite numbers are stored as NULL.
  bool RecordResult(int64_t trial_id, const TrialResult& result);

  void SaveCheckpoint(int64_t search_id, const std::string& kind, int64_t step,
                      const std::vector<uint8_t>& data);
  std::optional<Checkpoint> LatestCheckpoint(int64_t search_id, const std::string& kind);

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
  // Runs a lease statement (?1 trial, ?2 worker, ?3 deadline, ?4 now) and marks the worker seen,
  // in one transaction; true if the statement changed the trial.
  // Inserts a result row unless the trial has one; true if inserted. Inside a transaction.
  bool InsertResult(int64_t trial_id, const TrialResult& result, double now);
  bool UpdateLease(const char* statement, int64_t trial_id, int64_t worker_id, double deadline);

  sql::Database db_;
};

}  // namespace actsearch::storage
