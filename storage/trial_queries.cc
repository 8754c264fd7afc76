#include "storage/trial_queries.h"

#include "storage/results_store.h"

namespace actsearch::storage {
namespace {

// Columns as ReadTrial reads them; followed by the WHERE conditions.
constexpr const char* kTrials = R"sql(
SELECT t.id, c.search_id, t.state, c.expression, c.fingerprint, c.tokens, c.proposed_by,
  c.screen_reason, t.attempt, t.seed, COALESCE(w.name, ''), t.created_at, t.started_at,
  r.recorded_at, r.validation_accuracy, r.test_accuracy, r.loss, COALESCE(r.steps, 0),
  COALESCE(r.wall_seconds, 0), COALESCE(r.device, ''),
  CASE WHEN COALESCE(r.error, '') <> '' THEN r.error ELSE t.last_error END,
  COALESCE(r.learning_curve, '[]'), COALESCE(r.pruned, 0), r.reward, t.model
FROM trials t
JOIN candidates c ON c.id = t.candidate_id
LEFT JOIN results r ON r.trial_id = t.id
LEFT JOIN workers w ON w.id = t.worker_id
WHERE 1
)sql";

TrialInfo ReadTrial(const sql::Statement& q) {
  TrialInfo t;
  t.trial_id = q.Int(0);
  t.search_id = q.Int(1);
  t.state = q.Text(2);
  t.expression = q.Text(3);
  t.fingerprint = q.Text(4);
  t.tokens = q.Text(5);
  t.proposed_by = q.Text(6);
  t.screen_reason = q.Text(7);
  t.attempt = q.Int(8);
  t.seed = q.Int(9);
  t.worker = q.Text(10);
  t.created_at = q.Double(11);
  t.started_at = q.OptionalDouble(12);
  t.finished_at = q.OptionalDouble(13);
  t.validation_accuracy = q.OptionalDouble(14);
  t.test_accuracy = q.OptionalDouble(15);
  t.loss = q.OptionalDouble(16);
  t.steps = q.Int(17);
  t.wall_seconds = q.Double(18);
  t.device = q.Text(19);
  t.error = q.Text(20);
  t.learning_curve = q.Text(21);
  t.pruned = q.Int(22) != 0;
  t.reward = q.OptionalDouble(23);
  t.model = q.Text(24);
  return t;
}

}  // namespace

std::vector<TrialInfo> ListTrials(sql::Database& db, const TrialFilter& filter) {
  std::string states;
  for (const std::string& state : filter.states) {
    if (!TrialStateFromName(state)) {
      throw sql::Error("unknown trial state '" + state +
                           "' (queued, leased, done, failed, diverged, screened, stopped_early)",
                       0);
    }
    states += (states.empty() ? "'" : ", '") + state + "'";  // checked names: safe to inline
  }
  std::string sql = kTrials;
  if (filter.search_id) sql += " AND c.search_id = ?1";
  if (!states.empty()) sql += " AND t.state IN (" + states + ")";
  if (!filter.worker.empty()) sql += " AND w.name = ?2";
  if (!filter.expression_contains.empty()) sql += " AND instr(c.expression, ?3) > 0";
  sql += filter.order == TrialFilter::Order::kReward
             ? " ORDER BY r.validation_accuracy IS NULL, r.validation_accuracy DESC, t.id"
             : " ORDER BY t.id";
  if (filter.limit > 0) sql += " LIMIT ?4";
  sql::Statement query = db.Prepare(sql);
  if (filter.search_id) query.Bind(1, *filter.search_id);
  if (!filter.worker.empty()) query.Bind(2, filter.worker);
  if (!filter.expression_contains.empty()) query.Bind(3, filter.expression_contains);
  if (filter.limit > 0) query.Bind(4, filter.limit);
  std::vector<TrialInfo> trials;
  while (query.Step()) trials.push_back(ReadTrial(query));
  return trials;
}

std::optional<TrialInfo> FindTrial(sql::Database& db, int64_t trial_id) {
  sql::Statement query = db.Prepare(std::string(kTrials) + " AND t.id = ?1");
  query.Bind(1, trial_id);
  if (!query.Step()) return std::nullopt;
  return ReadTrial(query);
}

}  // namespace actsearch::storage
