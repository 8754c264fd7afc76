#include "storage/leaderboard.h"

#include <cmath>

#include "storage/results_store.h"

namespace actsearch::storage {
namespace {

// Window functions: per class and child model, its results at its highest fidelity (the most
// steps any of its results reached: a class stopped early and trained in full elsewhere is
// judged by the full training), the statistics over them, and its best-scoring row (place 1),
// whose expression names the class. Classes are ranked by that fidelity first, then by score:
// a child stopped early never outranks one that trained further. A class re-evaluated on two
// models is two rows: accuracies on different networks are not samples of one quantity.
constexpr const char* kLeaderboard = R"sql(
WITH scored AS (
  SELECT c.fingerprint AS fp, c.expression AS expr,
         tr.model AS model, r.validation_accuracy AS v, r.test_accuracy AS t, r.steps AS steps
  FROM results r
  JOIN trials tr ON tr.id = r.trial_id
  JOIN candidates c ON c.id = tr.candidate_id
  WHERE r.validation_accuracy IS NOT NULL
    AND r.steps >= ?7
    AND tr.state IN (SELECT value FROM json_each(?1))
    AND (?2 IS NULL OR c.search_id = ?2)
    AND NOT EXISTS (
      SELECT 1 FROM json_each(?3) AS wanted
      WHERE NOT EXISTS (SELECT 1 FROM candidate_operators o
                        WHERE o.candidate_id = c.id AND o.operator = wanted.value))
),
at_fidelity AS (
  SELECT *, MAX(steps) OVER (PARTITION BY fp, model) AS top_steps FROM scored
),
classes AS (
  SELECT fp, model, expr,
         COUNT(*) OVER per_class AS n,
         AVG(v) OVER per_class AS mean,
         SUM(v * v) OVER per_class AS sum_squares,
         MAX(v) OVER per_class AS best,
         AVG(t) OVER per_class AS mean_test,
         MAX(steps) OVER per_class AS steps,
         ROW_NUMBER() OVER (PARTITION BY fp, model ORDER BY v DESC, expr) AS place
  FROM at_fidelity
  WHERE steps = top_steps
  WINDOW per_class AS (PARTITION BY fp, model)
)
SELECT fp, expr, n, mean, sum_squares, best, mean_test, steps, model
FROM classes
WHERE place = 1 AND n >= ?4
ORDER BY steps DESC, CASE WHEN ?6 = 'best' THEN best ELSE mean END DESC, best DESC, fp, model
LIMIT ?5
)sql";

constexpr const char* kSearchExists = "SELECT 1 FROM searches WHERE id = ?1";

std::string JsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ",";
    out += "\"";
    for (char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "]";
}

}  // namespace

std::vector<LeaderboardRow> QueryLeaderboard(sql::Database& db, const LeaderboardFilter& filter) {
  for (const std::string& state : filter.states) {
    if (!TrialStateFromName(state)) {
      throw sql::Error("unknown trial state '" + state +
                           "' (queued, leased, done, failed, diverged, screened, stopped_early)",
                       0);
    }
  }
  if (filter.search_id) {
    sql::Statement exists = db.Prepare(kSearchExists);
    exists.Bind(1, *filter.search_id);
    if (!exists.Step()) {
      throw sql::Error(db.path() + ": no search with id " + std::to_string(*filter.search_id), 0);
    }
  }
  sql::Statement query = db.Prepare(kLeaderboard);
  query.Bind(1, JsonList(filter.states))
      .Bind(2, filter.search_id)
      .Bind(3, JsonList(filter.operators))
      .Bind(4, filter.min_trials)
      .Bind(5, filter.top)
      .Bind(6, filter.rank_by == LeaderboardFilter::RankBy::kBest ? "best" : "mean")
      .Bind(7, filter.min_steps);
  std::vector<LeaderboardRow> rows;
  while (query.Step()) {
    LeaderboardRow row;
    row.rank = static_cast<int64_t>(rows.size()) + 1;
    row.fingerprint = query.Text(0);
    row.expression = query.Text(1);
    row.trials = query.Int(2);
    row.mean = query.Double(3);
    const double sum_squares = query.Double(4);
    if (row.trials > 1) {
      const double n = static_cast<double>(row.trials);
      row.stddev = std::sqrt(std::max(0.0, (sum_squares - n * row.mean * row.mean) / (n - 1)));
    }
    row.best = query.Double(5);
    row.mean_test = query.OptionalDouble(6);
    row.steps = query.Int(7);
    row.model = query.Text(8);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace actsearch::storage
