#include "storage/search_queries.h"

#include <signal.h>

#include <cerrno>
#include <stdexcept>

namespace actsearch::storage {
namespace {

// Columns as ReadSummary reads them; followed by an optional WHERE on s.id and the grouping.
constexpr const char* kSearchSummaries = R"sql(
SELECT s.id, s.name, s.kind, s.status, s.config, s.end_reason, s.seed, s.started_at,
  s.ended_at, s.active_seconds, s.controller_host, s.controller_pid, s.controller_address, s.heartbeat_at,
  s.stop_requested_at IS NOT NULL,
  (SELECT COUNT(*) FROM candidates c WHERE c.search_id = s.id),
  COALESCE(SUM(t.state = 'queued'), 0),
  COALESCE(SUM(t.state = 'leased'), 0),
  COALESCE(SUM(t.state = 'done'), 0),
  COALESCE(SUM(t.state = 'diverged'), 0),
  COALESCE(SUM(t.state = 'stopped_early'), 0),
  COALESCE(SUM(t.state = 'failed'), 0),
  COALESCE(SUM(t.state = 'screened'), 0),
  (SELECT MAX(r.validation_accuracy) FROM results r JOIN trials t2 ON t2.id = r.trial_id
     JOIN candidates c2 ON c2.id = t2.candidate_id
   WHERE c2.search_id = s.id AND t2.state = 'done')
FROM searches s
LEFT JOIN candidates c ON c.search_id = s.id
LEFT JOIN trials t ON t.candidate_id = c.id
)sql";

constexpr const char* kSearchById = "SELECT id FROM searches WHERE id = ?1";
constexpr const char* kSearchByName = "SELECT id FROM searches WHERE name = ?1 ORDER BY id LIMIT 1";
constexpr const char* kSearchNames = "SELECT id, name FROM searches ORDER BY id";
constexpr const char* kLatestSearch =
    "SELECT id FROM searches WHERE kind <> ?1 ORDER BY started_at DESC, id DESC LIMIT 1";
constexpr const char* kRequestStop =
    "UPDATE searches SET stop_requested_at = ?2 WHERE id = ?1 AND status = 'running'";

SearchSummary ReadSummary(const sql::Statement& q) {
  SearchSummary s;
  s.id = q.Int(0);
  s.name = q.Text(1);
  s.kind = q.Text(2);
  s.status = q.Text(3);
  s.config = q.Text(4);
  s.end_reason = q.Text(5);
  s.seed = q.Int(6);
  s.started_at = q.Double(7);
  s.ended_at = q.OptionalDouble(8);
  s.active_seconds = q.Double(9);
  s.controller_host = q.Text(10);
  s.controller_pid = q.Int(11);
  s.controller_address = q.Text(12);
  s.heartbeat_at = q.OptionalDouble(13);
  s.stop_requested = q.Int(14) != 0;
  s.candidates = q.Int(15);
  s.trials.queued = q.Int(16);
  s.trials.leased = q.Int(17);
  s.trials.done = q.Int(18);
  s.trials.diverged = q.Int(19);
  s.trials.stopped_early = q.Int(20);
  s.trials.failed = q.Int(21);
  s.trials.screened = q.Int(22);
  s.best_validation = q.OptionalDouble(23);
  return s;
}

bool ProcessIsGone(int64_t pid) {
  return pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

std::vector<SearchSummary> ListSearches(sql::Database& db) {
  sql::Statement query = db.Prepare(std::string(kSearchSummaries) + "GROUP BY s.id ORDER BY s.id");
  std::vector<SearchSummary> out;
  while (query.Step()) out.push_back(ReadSummary(query));
  return out;
}

std::optional<SearchSummary> FindSearchSummary(sql::Database& db, int64_t search_id) {
  sql::Statement query =
      db.Prepare(std::string(kSearchSummaries) + "WHERE s.id = ?1 GROUP BY s.id");
  query.Bind(1, search_id);
  if (!query.Step()) return std::nullopt;
  return ReadSummary(query);
}

std::string LiveStatus(const SearchSummary& s, double now) {
  if (s.status != SearchStatusName(SearchStatus::kRunning) || s.kind != kSearchKindSearch) {
    return s.status;
  }
  const bool silent = !s.heartbeat_at || now - *s.heartbeat_at > kControllerSilenceSeconds;
  const bool gone_here = s.controller_host == HostName() && ProcessIsGone(s.controller_pid);
  if (silent || gone_here) return "interrupted";
  return s.stop_requested ? "stopping" : "running";
}

double ActiveSeconds(const SearchSummary& s, double now) {
  if (s.kind != kSearchKindSearch) return s.ended_at.value_or(now) - s.started_at;
  if (LiveStatus(s, now) == "running" || LiveStatus(s, now) == "stopping") {
    return s.active_seconds + (now - s.heartbeat_at.value_or(now));
  }
  return s.active_seconds;
}

int64_t ResolveSearch(sql::Database& db, const std::string& name_or_id) {
  const bool is_id = !name_or_id.empty() &&
                     name_or_id.find_first_not_of("0123456789") == std::string::npos &&
                     name_or_id.size() < 19;
  sql::Statement find = db.Prepare(is_id ? kSearchById : kSearchByName);
  if (is_id) {
    find.Bind(1, static_cast<int64_t>(std::stoll(name_or_id)));
  } else {
    find.Bind(1, name_or_id);
  }
  if (find.Step()) return find.Int(0);
  std::string known;
  for (const auto& [id, name] : SearchNames(db)) {
    known += (known.empty() ? "" : ", ") + std::to_string(id) + " '" + name + "'";
  }
  throw std::runtime_error(db.path() + ": no search " +
                           (is_id ? "with id " + name_or_id : "named '" + name_or_id + "'") +
                           (known.empty() ? " (it holds none)" : " (it holds " + known + ")"));
}

std::vector<std::pair<int64_t, std::string>> SearchNames(sql::Database& db) {
  std::vector<std::pair<int64_t, std::string>> names;
  sql::Statement query = db.Prepare(kSearchNames);
  while (query.Step()) names.emplace_back(query.Int(0), query.Text(1));
  return names;
}

std::optional<int64_t> LatestSearch(sql::Database& db, const std::string& excluded_kind) {
  sql::Statement latest = db.Prepare(kLatestSearch);
  latest.Bind(1, excluded_kind);
  if (!latest.Step()) return std::nullopt;
  return latest.Int(0);
}

bool RequestStop(const std::string& db_path, int64_t search_id) {
  sql::Database db(db_path, sql::OpenMode::kReadWrite);
  db.Prepare(kRequestStop).Bind(1, search_id).Bind(2, NowSeconds()).Run();
  return db.Changes() == 1;
}

std::vector<PolicyUpdateRow> ListPolicyUpdates(sql::Database& db, int64_t search_id) {
  sql::Statement query = db.Prepare(
      "SELECT update_index, entropy, baseline, mean_reward, batch_size, recorded_at "
      "FROM policy_updates WHERE search_id = ?1 ORDER BY update_index");
  query.Bind(1, search_id);
  std::vector<PolicyUpdateRow> updates;
  while (query.Step()) {
    updates.push_back({query.Int(0), query.Double(1), query.Double(2), query.Double(3),
                       query.Int(4), query.Double(5)});
  }
  return updates;
}

std::optional<std::vector<uint8_t>> LatestCheckpointData(sql::Database& db, int64_t search_id,
                                                         const std::string& kind) {
  sql::Statement query = db.Prepare(
      "SELECT data FROM checkpoints WHERE search_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1");
  query.Bind(1, search_id).Bind(2, kind);
  if (!query.Step()) return std::nullopt;
  return query.Blob(0);
}

}  // namespace actsearch::storage
