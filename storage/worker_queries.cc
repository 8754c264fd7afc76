#include "storage/worker_queries.h"

namespace actsearch::storage {
namespace {

// ?1: the search (NULL: every search), ?2: an hour before now.
constexpr const char* kWorkers = R"sql(
WITH mine AS (
  SELECT t.id, t.worker_id, t.state, c.expression
  FROM trials t JOIN candidates c ON c.id = t.candidate_id
  WHERE ?1 IS NULL OR c.search_id = ?1
)
SELECT w.id, w.name, w.capabilities, w.registered_at, w.last_seen,
  (SELECT m.id FROM mine m WHERE m.worker_id = w.id AND m.state = 'leased'
   ORDER BY m.id DESC LIMIT 1),
  (SELECT m.expression FROM mine m WHERE m.worker_id = w.id AND m.state = 'leased'
   ORDER BY m.id DESC LIMIT 1),
  (SELECT COUNT(*) FROM results r JOIN mine m ON m.id = r.trial_id WHERE m.worker_id = w.id),
  (SELECT COUNT(*) FROM results r JOIN mine m ON m.id = r.trial_id
   WHERE m.worker_id = w.id AND r.recorded_at >= ?2),
  (SELECT MIN(l.leased_at) FROM leases l JOIN mine m ON m.id = l.trial_id
   WHERE l.worker_id = w.id),
  (SELECT MAX(r.recorded_at) FROM results r JOIN mine m ON m.id = r.trial_id
   WHERE m.worker_id = w.id)
FROM workers w
WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM leases l JOIN mine m ON m.id = l.trial_id
                            WHERE l.worker_id = w.id)
ORDER BY w.name
)sql";

}  // namespace

std::vector<WorkerInfo> ListWorkers(sql::Database& db, std::optional<int64_t> search_id,
                                    double now) {
  sql::Statement query = db.Prepare(kWorkers);
  if (search_id) query.Bind(1, *search_id);
  query.Bind(2, now - 3600);
  std::vector<WorkerInfo> workers;
  while (query.Step()) {
    WorkerInfo w;
    w.id = query.Int(0);
    w.name = query.Text(1);
    w.capabilities = query.Text(2);
    w.registered_at = query.Double(3);
    w.last_seen = query.Double(4);
    w.current_trial = query.OptionalInt(5);
    w.current_expression = query.IsNull(6) ? "" : query.Text(6);
    w.finished = query.Int(7);
    w.finished_last_hour = query.Int(8);
    w.first_lease = query.OptionalDouble(9);
    w.last_result = query.OptionalDouble(10);
    workers.push_back(std::move(w));
  }
  return workers;
}

}  // namespace actsearch::storage
