// Read-side queries about trials: a search's trials with filters (`actsearch trials`), one trial
// whole (`actsearch trial`), and every trial of a search for export. No user should need SQL
// to learn why a trial failed or what its learning curve looked like.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"

namespace actsearch::storage {

// A trial with its candidate, its worker and its result (if it has one).
struct TrialInfo {
  int64_t trial_id = 0;
  int64_t search_id = 0;
  std::string state;
  std::string expression;
  std::string fingerprint;
  std::string tokens;
  std::string proposed_by;
  std::string screen_reason;  // why a screened candidate was not trained
  int64_t attempt = 0;
  int64_t seed = 0;
  std::string model;   // the child network when not its search's (a re-evaluation's run), else ''
  std::string worker;  // the name of the worker that holds or last held it
  double created_at = 0;
  std::optional<double> started_at;   // its latest lease
  std::optional<double> finished_at;  // its result
  std::optional<double> validation_accuracy, test_accuracy, loss;
  int64_t steps = 0;             // the fidelity its result reached
  bool pruned = false;           // stopped by its search's early stopping (docs/early-stopping.md)
  std::optional<double> reward;  // what the strategy got; absent before schema version 6
  double wall_seconds = 0;
  std::string device;
  // The result's error, else the error of the last failed attempt (a requeued trial).
  std::string error;
  std::string learning_curve = "[]";  // JSON: [[step, loss, validation_accuracy|null], ...]
};

struct TrialFilter {
  std::optional<int64_t> search_id;  // all searches when unset
  std::vector<std::string> states;   // any state when empty
  std::string worker;                // this worker's trials only, when set
  std::string expression_contains;   // candidates whose expression contains this text
  enum class Order { kId, kReward } order = Order::kId;
  int64_t limit = 0;  // 0: all
};

// Throws sql::Error for an unknown trial state.
std::vector<TrialInfo> ListTrials(sql::Database& db, const TrialFilter& filter);
std::optional<TrialInfo> FindTrial(sql::Database& db, int64_t trial_id);

}  // namespace actsearch::storage
