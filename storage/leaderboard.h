// The leaderboard of functionally distinct candidates, a read-side query that runs on a
// read-only connection beside a live writer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"

namespace actsearch::storage {

struct LeaderboardFilter {
  std::optional<int64_t> search_id;  // all searches when unset
  // Trial states whose results count: children trained to their end, and children stopped
  // before it (by early stopping or a time limit), which rank below them by fidelity.
  std::vector<std::string> states = {"done", "stopped_early"};
  std::vector<std::string> operators;  // candidates using all of these
  int64_t min_trials = 1;              // repeats (seeds) a class needs
  int64_t min_steps = 0;               // fidelity: results of at least this many steps
  int64_t top = 20;
  enum class RankBy { kMean, kBest } rank_by = RankBy::kMean;
};

// One functional class (fingerprint) on one child model: its best-scoring expression, and its
// results' mean, sample standard deviation, best and count over repeats and equal rewritings.
struct LeaderboardRow {
  int64_t rank = 0;
  std::string fingerprint;
  std::string expression;
  int64_t trials = 0;
  double mean = 0;
  double stddev = 0;  // 0 with one trial
  double best = 0;
  std::optional<double> mean_test;
  int64_t steps = 0;  // the highest fidelity among its results: training steps reached
  // The model a re-evaluation run named (trials.model); empty: the search's own child.
  std::string model;
};

// Throws sql::Error for an unknown search id or an unknown trial state.
std::vector<LeaderboardRow> QueryLeaderboard(sql::Database& db, const LeaderboardFilter& filter);

}  // namespace actsearch::storage
