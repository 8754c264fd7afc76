#include "storage/results_store.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <random>

#include "search_space/fingerprint.h"
#include "storage/schema.h"

namespace actsearch::storage {
namespace {

constexpr const char* kTrialStates[] = {"queued",   "leased",   "done",         "failed",
                                        "diverged", "screened", "stopped_early"};
constexpr const char* kSearchStatuses[] = {"running", "finished", "stopped", "failed"};

constexpr const char* kInsertSearch =
    "INSERT INTO searches (name, config, seed, started_at, status, kind, fingerprint_version) "
    "VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)";
constexpr const char* kSearchCandidates =
    "SELECT id, expression, fingerprint FROM candidates WHERE search_id = ?1";
constexpr const char* kSetFingerprint = "UPDATE candidates SET fingerprint = ?2 WHERE id = ?1";
constexpr const char* kSetFingerprintVersion =
    "UPDATE searches SET fingerprint_version = ?2 WHERE id = ?1";
constexpr const char* kFindSearch = "SELECT id FROM searches WHERE name = ?1 ORDER BY id LIMIT 1";
constexpr const char* kMarkSearchRunning =
    "UPDATE searches SET status = 'running', ended_at = NULL WHERE id = ?1";
constexpr const char* kFinishSearch =
    "UPDATE searches SET status = ?2, ended_at = ?3, end_reason = ?4, heartbeat_at = NULL, "
    "active_seconds = active_seconds + ?3 - COALESCE(heartbeat_at, ?3) WHERE id = ?1";
constexpr const char* kClaimSearch =
    "UPDATE searches SET status = 'running', ended_at = NULL, end_reason = '', "
    "controller_host = ?2, controller_pid = ?3, controller_address = ?4, heartbeat_at = ?5, "
    "stop_requested_at = NULL WHERE id = ?1";
constexpr const char* kControllerHeartbeat =
    "UPDATE searches SET active_seconds = active_seconds + ?2 - COALESCE(heartbeat_at, ?2), "
    "heartbeat_at = ?2 WHERE id = ?1 RETURNING stop_requested_at IS NOT NULL";
constexpr const char* kUpdateSearchConfig = "UPDATE searches SET config = ?2 WHERE id = ?1";
constexpr const char* kInsertCandidate =
    "INSERT INTO candidates (search_id, expression, fingerprint, tokens, proposed_by, screen, "
    "screen_reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT (search_id, expression) DO NOTHING";
constexpr const char* kFindCandidate =
    "SELECT id FROM candidates WHERE search_id = ?1 AND expression = ?2";
constexpr const char* kInsertOperator =
    "INSERT OR IGNORE INTO candidate_operators (candidate_id, operator) VALUES (?1, ?2)";
constexpr const char* kInsertTrial =
    "INSERT INTO trials (candidate_id, seed, state, created_at, updated_at, model) "
    "VALUES (?1, ?2, ?3, ?4, ?4, ?5)";
constexpr const char* kUpsertWorker =
    "INSERT INTO workers (name, capabilities, registered_at, last_seen) VALUES (?1, ?2, ?3, ?3) "
    "ON CONFLICT (name) DO UPDATE SET capabilities = excluded.capabilities, "
    "last_seen = excluded.last_seen";
constexpr const char* kFindWorker = "SELECT id FROM workers WHERE name = ?1";
constexpr const char* kWorkerByName =
    "SELECT id, last_seen, "
    "EXISTS (SELECT 1 FROM trials t WHERE t.worker_id = w.id AND t.state = 'leased') "
    "FROM workers w WHERE name = ?1";
constexpr const char* kSetSession = "UPDATE workers SET session = ?2 WHERE id = ?1";
constexpr const char* kWorkerSession = "SELECT session FROM workers WHERE id = ?1";
constexpr const char* kTrialHolder =
    "SELECT c.search_id, t.state, t.worker_id FROM trials t "
    "JOIN candidates c ON c.id = t.candidate_id WHERE t.id = ?1";
constexpr const char* kRecordLease =
    "INSERT OR REPLACE INTO leases (trial_id, attempt, worker_id, leased_at) "
    "SELECT id, attempt, worker_id, ?2 FROM trials WHERE id = ?1";
constexpr const char* kHeldLease =
    "SELECT 1 FROM leases WHERE trial_id = ?1 AND worker_id = ?2 LIMIT 1";
constexpr const char* kLeaseTrial =
    "UPDATE trials SET state = 'leased', worker_id = ?2, lease_deadline = ?3, "
    "attempt = attempt + 1, started_at = ?4, updated_at = ?4 WHERE id = ?1 AND state = 'queued'";
constexpr const char* kRenewLease =
    "UPDATE trials SET lease_deadline = ?3, updated_at = ?4 "
    "WHERE id = ?1 AND worker_id = ?2 AND state = 'leased'";
constexpr const char* kTouchWorker = "UPDATE workers SET last_seen = ?2 WHERE id = ?1";
constexpr const char* kExpiredLeases =
    "SELECT id, attempt FROM trials WHERE state = 'leased' AND lease_deadline < ?1";
constexpr const char* kRequeue =
    "UPDATE trials SET state = ?2, worker_id = NULL, lease_deadline = NULL, updated_at = ?3, "
    "last_error = ?4 WHERE id = ?1";
constexpr const char* kLeaseOf =
    "SELECT attempt FROM trials WHERE id = ?1 AND worker_id = ?2 AND state = 'leased'";
constexpr const char* kInsertResult =
    "INSERT INTO results (trial_id, validation_accuracy, test_accuracy, loss, learning_curve, "
    "steps, wall_seconds, device, error, recorded_at, pruned, reward) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (trial_id) DO NOTHING";
constexpr const char* kFinishTrial =
    "UPDATE trials SET state = ?2, lease_deadline = NULL, updated_at = ?3 WHERE id = ?1";
constexpr const char* kInsertCheckpoint =
    "INSERT INTO checkpoints (search_id, kind, step, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kCheckpoints =
    "SELECT step, data FROM checkpoints WHERE search_id = ?1 AND kind = ?2 "
    "ORDER BY step DESC, id DESC";
constexpr const char* kTrialState = "SELECT state FROM trials WHERE id = ?1";
constexpr const char* kReleaseLease =
    "UPDATE trials SET state = 'queued', worker_id = NULL, lease_deadline = NULL, "
    "attempt = attempt - 1, updated_at = ?3 WHERE id = ?1 AND worker_id = ?2 AND state = 'leased'";
// Followed by a WHERE condition on ?1; columns as ReadTrialRow reads them.
constexpr const char* kSelectTrialRows =
    "SELECT t.id, t.state, t.attempt, t.seed, c.expression, c.fingerprint, "
    "r.validation_accuracy, r.reward, COALESCE(r.pruned, 0), t.model FROM trials t "
    "JOIN candidates c ON "
    "c.id = t.candidate_id "
    "LEFT JOIN results r ON r.trial_id = t.id WHERE ";
constexpr const char* kFindSearchRow =
    "SELECT id, config, started_at, active_seconds, fingerprint_version FROM searches "
    "WHERE name = ?1 "
    "ORDER BY id LIMIT 1";
constexpr const char* kPruneCheckpoints =
    "DELETE FROM checkpoints WHERE search_id = ?1 AND kind = ?2 AND id NOT IN "
    "(SELECT id FROM checkpoints WHERE search_id = ?1 AND kind = ?2 "
    "ORDER BY step DESC, id DESC LIMIT ?3)";

std::optional<double> Finite(std::optional<double> value) {
  if (value && !std::isfinite(*value)) return std::nullopt;
  return value;
}

TrialRow ReadTrialRow(const sql::Statement& query) {
  TrialRow row;
  row.trial_id = query.Int(0);
  row.state = TrialStateFromName(query.Text(1)).value_or(TrialState::kFailed);
  row.attempt = query.Int(2);
  row.seed = query.Int(3);
  row.expression = query.Text(4);
  row.fingerprint = query.Text(5);
  if (!query.IsNull(6)) row.validation_accuracy = query.Double(6);
  if (!query.IsNull(7)) row.reward = query.Double(7);
  row.pruned = query.Int(8) != 0;
  row.model = query.Text(9);
  return row;
}

}  // namespace

const char* TrialStateName(TrialState state) { return kTrialStates[static_cast<int>(state)]; }

std::optional<TrialState> TrialStateFromName(const std::string& name) {
  for (size_t i = 0; i < std::size(kTrialStates); ++i) {
    if (name == kTrialStates[i]) return static_cast<TrialState>(i);
  }
  return std::nullopt;
}

void TrialCounts::Add(TrialState state, int64_t n) {
  switch (state) {
    case TrialState::kQueued: queued += n; break;
    case TrialState::kLeased: leased += n; break;
    case TrialState::kDone: done += n; break;
    case TrialState::kFailed: failed += n; break;
    case TrialState::kDiverged: diverged += n; break;
    case TrialState::kScreened: screened += n; break;
    case TrialState::kStoppedEarly: stopped_early += n; break;
  }
}

const char* SearchStatusName(SearchStatus status) {
  return kSearchStatuses[static_cast<int>(status)];
}

std::string RandomHex(int bytes) {
  std::random_device device;
  std::string text;
  for (int i = 0; i < bytes; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", device() & 0xff);
    text += byte;
  }
  return text;
}

std::string HostName() {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  return host;
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

ResultsStore::ResultsStore(const std::string& path) : db_(path, sql::OpenMode::kReadWriteCreate) {
  PrepareForWriting(db_);
}

int64_t ResultsStore::CreateSearch(const std::string& name, const std::string& config, int64_t seed,
                                   const std::string& kind) {
  db_.Prepare(kInsertSearch)
      .Bind(1, name)
      .Bind(2, config)
      .Bind(3, seed)
      .Bind(4, NowSeconds())
      .Bind(5, kind)
      .Bind(6, kFingerprintVersion)
      .Run();
  return db_.LastInsertId();
}

int64_t ResultsStore::FindOrCreateSearch(const std::string& name, const std::string& kind) {
  sql::Transaction transaction(db_);
  sql::Statement find = db_.Prepare(kFindSearch);
  find.Bind(1, name);
  const int64_t id = find.Step() ? find.Int(0) : CreateSearch(name, "", 0, kind);
  transaction.Commit();
  return id;
}

void ResultsStore::FinishSearch(int64_t search_id, SearchStatus status, const std::string& reason) {
  db_.Prepare(kFinishSearch)
      .Bind(1, search_id)
      .Bind(2, SearchStatusName(status))
      .Bind(3, NowSeconds())
      .Bind(4, reason)
      .Run();
}

void ResultsStore::ClaimSearch(int64_t search_id, const std::string& address) {
  db_.Prepare(kClaimSearch)
      .Bind(1, search_id)
      .Bind(2, HostName())
      .Bind(3, static_cast<int64_t>(getpid()))
      .Bind(4, address)
      .Bind(5, NowSeconds())
      .Run();
}

bool ResultsStore::ControllerHeartbeat(int64_t search_id) {
  sql::Statement beat = db_.Prepare(kControllerHeartbeat);
  beat.Bind(1, search_id).Bind(2, NowSeconds());
  const bool stop_requested = beat.Step() && beat.Int(0) != 0;
  while (beat.Step()) {
  }
  return stop_requested;
}

void ResultsStore::UpdateSearchConfig(int64_t search_id, const std::string& config) {
  db_.Prepare(kUpdateSearchConfig).Bind(1, search_id).Bind(2, config).Run();
}

void ResultsStore::MarkSearchRunning(int64_t search_id) {
  db_.Prepare(kMarkSearchRunning).Bind(1, search_id).Run();
}

int64_t ResultsStore::AddCandidate(const NewCandidate& c) {
  sql::Transaction transaction(db_);
  db_.Prepare(kInsertCandidate)
      .Bind(1, c.search_id)
      .Bind(2, c.expression)
      .Bind(3, c.fingerprint)
      .Bind(4, c.tokens)
      .Bind(5, c.proposed_by)
      .Bind(6, c.screen)
      .Bind(7, c.screen_reason)
      .Bind(8, NowSeconds())
      .Run();
  sql::Statement find = db_.Prepare(kFindCandidate);
  find.Bind(1, c.search_id).Bind(2, c.expression).Step();
  const int64_t id = find.Int(0);
  sql::Statement add_operator = db_.Prepare(kInsertOperator);
  for (const std::string& op : c.operators) {
    add_operator.Bind(1, id).Bind(2, op).Run();
    add_operator.Reset();
  }
  transaction.Commit();
  return id;
}

int64_t ResultsStore::QueueTrial(int64_t candidate_id, int64_t seed, const std::string& model) {
  db_.Prepare(kInsertTrial)
      .Bind(1, candidate_id)
      .Bind(2, seed)
      .Bind(3, TrialStateName(TrialState::kQueued))
      .Bind(4, NowSeconds())
      .Bind(5, model)
      .Run();
  return db_.LastInsertId();
}

int64_t ResultsStore::RecordScreenedTrial(int64_t candidate_id) {
  sql::Transaction transaction(db_);
  const double now = NowSeconds();
  db_.Prepare(kInsertTrial)
      .Bind(1, candidate_id)
      .Bind(2, int64_t{0})
      .Bind(3, TrialStateName(TrialState::kScreened))
      .Bind(4, now)
      .Bind(5, std::string())
      .Run();
  const int64_t trial_id = db_.LastInsertId();
  TrialResult screened;
  screened.state = TrialState::kScreened;
  screened.validation_accuracy = 0.0;
  screened.error = "screened before training";
  InsertResult(trial_id, screened, now);
  transaction.Commit();
  return trial_id;
}

int64_t ResultsStore::RegisterWorker(const std::string& name, const std::string& capabilities) {
  sql::Transaction transaction(db_);
  const int64_t id = UpsertWorker(name, capabilities);
  transaction.Commit();
  return id;
}

bool ResultsStore::LeaseTrial(int64_t trial_id, int64_t worker_id, double deadline) {
  sql::Transaction transaction(db_);
  const bool leased = RunLeaseStatement(kLeaseTrial, trial_id, worker_id, deadline);
  if (leased) db_.Prepare(kRecordLease).Bind(1, trial_id).Bind(2, NowSeconds()).Run();
  transaction.Commit();
  return leased;
}

std::optional<WorkerRow> ResultsStore::FindWorker(const std::string& name) {
  sql::Statement find = db_.Prepare(kWorkerByName);
  find.Bind(1, name);
  if (!find.Step()) return std::nullopt;
  return WorkerRow{find.Int(0), find.Double(1), find.Int(2) != 0};
}

WorkerSession ResultsStore::OpenWorkerSession(const std::string& name,
                                              const std::string& capabilities) {
  sql::Transaction transaction(db_);
  const int64_t id = UpsertWorker(name, capabilities);
  const std::string session = RandomHex(16);
  db_.Prepare(kSetSession).Bind(1, id).Bind(2, session).Run();
  transaction.Commit();
  return WorkerSession{id, session};
}

std::optional<std::string> ResultsStore::SessionOf(int64_t worker_id) {
  sql::Statement find = db_.Prepare(kWorkerSession);
  find.Bind(1, worker_id);
  if (!find.Step()) return std::nullopt;
  return find.Text(0);
}

std::optional<TrialHolder> ResultsStore::HolderOf(int64_t trial_id) {
  sql::Statement find = db_.Prepare(kTrialHolder);
  find.Bind(1, trial_id);
  if (!find.Step()) return std::nullopt;
  TrialHolder holder;
  holder.search_id = find.Int(0);
  holder.state = TrialStateFromName(find.Text(1)).value_or(TrialState::kFailed);
  if (!find.IsNull(2)) holder.worker_id = find.Int(2);
  return holder;
}

bool ResultsStore::HeldLease(int64_t trial_id, int64_t worker_id) {
  sql::Statement find = db_.Prepare(kHeldLease);
  find.Bind(1, trial_id).Bind(2, worker_id);
  return find.Step();
}

bool ResultsStore::RenewLease(int64_t trial_id, int64_t worker_id, double deadline) {
  sql::Transaction transaction(db_);
  const bool renewed = RunLeaseStatement(kRenewLease, trial_id, worker_id, deadline);
  transaction.Commit();
  return renewed;
}

bool ResultsStore::InsertResult(int64_t trial_id, const TrialResult& r, double now) {
  db_.Prepare(kInsertResult)
      .Bind(1, trial_id)
      .Bind(2, Finite(r.validation_accuracy))
      .Bind(3, Finite(r.test_accuracy))
      .Bind(4, Finite(r.loss))
      .Bind(5, r.learning_curve)
      .Bind(6, r.steps)
      .Bind(7, std::isfinite(r.wall_seconds) ? r.wall_seconds : 0.0)
      .Bind(8, r.device)
      .Bind(9, r.error)
      .Bind(10, now)
      .Bind(11, r.pruned ? 1 : 0)
      .Bind(12, Finite(r.reward))
      .Run();
  return db_.Changes() == 1;
}

bool ResultsStore::RunLeaseStatement(const char* statement, int64_t trial_id, int64_t worker_id,
                                     double deadline) {
  const double now = NowSeconds();
  db_.Prepare(statement).Bind(1, trial_id).Bind(2, worker_id).Bind(3, deadline).Bind(4, now).Run();
  const bool changed = db_.Changes() == 1;
  db_.Prepare(kTouchWorker).Bind(1, worker_id).Bind(2, now).Run();  // the worker is alive
  return changed;
}

int64_t ResultsStore::UpsertWorker(const std::string& name, const std::string& capabilities) {
  db_.Prepare(kUpsertWorker).Bind(1, name).Bind(2, capabilities).Bind(3, NowSeconds()).Run();
  sql::Statement find = db_.Prepare(kFindWorker);
  find.Bind(1, name).Step();
  return find.Int(0);
}

std::vector<int64_t> ResultsStore::ExpireLeases(double now, int max_attempts) {
  sql::Transaction transaction(db_);
  std::vector<std::pair<int64_t, int64_t>> expired;
  sql::Statement find = db_.Prepare(kExpiredLeases);
  find.Bind(1, now);
  while (find.Step()) expired.emplace_back(find.Int(0), find.Int(1));
  std::vector<int64_t> touched;
  sql::Statement requeue = db_.Prepare(kRequeue);
  for (const auto& [trial_id, attempt] : expired) {
    const TrialState next = attempt >= max_attempts ? TrialState::kFailed : TrialState::kQueued;
    requeue.Bind(1, trial_id)
        .Bind(2, TrialStateName(next))
        .Bind(3, now)
        .Bind(4, "lease expired: no heartbeat from its worker")
        .Run();
    requeue.Reset();
    touched.push_back(trial_id);
  }
  transaction.Commit();
  return touched;
}

std::optional<TrialState> ResultsStore::RequeueOrFail(int64_t trial_id, int64_t worker_id,
                                                      const TrialResult& failure,
                                                      int max_attempts) {
  sql::Transaction transaction(db_);
  sql::Statement lease = db_.Prepare(kLeaseOf);
  lease.Bind(1, trial_id).Bind(2, worker_id);
  if (!lease.Step()) return std::nullopt;
  const int64_t attempt = lease.Int(0);
  const double now = NowSeconds();
  const TrialState next = attempt >= max_attempts ? TrialState::kFailed : TrialState::kQueued;
  db_.Prepare(kRequeue)
      .Bind(1, trial_id)
      .Bind(2, TrialStateName(next))
      .Bind(3, now)
      .Bind(4, failure.error)
      .Run();
  if (next == TrialState::kFailed) InsertResult(trial_id, failure, now);
  transaction.Commit();
  return next;
}

bool ResultsStore::RecordResult(int64_t trial_id, const TrialResult& r) {
  sql::Transaction transaction(db_);
  const double now = NowSeconds();
  if (!InsertResult(trial_id, r, now)) return false;  // already recorded: the first stands
  db_.Prepare(kFinishTrial).Bind(1, trial_id).Bind(2, TrialStateName(r.state)).Bind(3, now).Run();
  transaction.Commit();
  return true;
}

void ResultsStore::SaveCheckpoint(int64_t search_id, const std::string& kind, int64_t step,
                                  const std::vector<uint8_t>& data) {
  db_.Prepare(kInsertCheckpoint)
      .Bind(1, search_id)
      .Bind(2, kind)
      .Bind(3, step)
      .BindBlob(4, data)
      .Bind(5, NowSeconds())
      .Run();
}

std::optional<Checkpoint> ResultsStore::LatestCheckpoint(int64_t search_id,
                                                         const std::string& kind) {
  std::vector<Checkpoint> all = Checkpoints(search_id, kind);
  if (all.empty()) return std::nullopt;
  return std::move(all.front());
}

std::vector<Checkpoint> ResultsStore::Checkpoints(int64_t search_id, const std::string& kind) {
  sql::Statement query = db_.Prepare(kCheckpoints);
  query.Bind(1, search_id).Bind(2, kind);
  std::vector<Checkpoint> all;
  while (query.Step()) all.push_back(Checkpoint{query.Int(0), query.Blob(1)});
  return all;
}

bool ResultsStore::ReleaseLease(int64_t trial_id, int64_t worker_id) {
  db_.Prepare(kReleaseLease).Bind(1, trial_id).Bind(2, worker_id).Bind(3, NowSeconds()).Run();
  return db_.Changes() == 1;
}

std::vector<TrialRow> ResultsStore::TrialsOfSearch(int64_t search_id,
                                                   std::optional<TrialState> state) {
  std::string sql = std::string(kSelectTrialRows) + "c.search_id = ?1";
  if (state) sql += " AND t.state = ?2";
  sql::Statement query = db_.Prepare(sql + " ORDER BY t.id");
  query.Bind(1, search_id);
  if (state) query.Bind(2, TrialStateName(*state));
  std::vector<TrialRow> rows;
  while (query.Step()) rows.push_back(ReadTrialRow(query));
  return rows;
}

std::optional<TrialRow> ResultsStore::Trial(int64_t trial_id) {
  sql::Statement query = db_.Prepare(std::string(kSelectTrialRows) + "t.id = ?1");
  query.Bind(1, trial_id);
  if (!query.Step()) return std::nullopt;
  return ReadTrialRow(query);
}

int64_t ResultsStore::UpdateFingerprints(
    int64_t search_id, int version,
    const std::function<std::string(const std::string& expression)>& fingerprint_of) {
  sql::Transaction transaction(db_);
  std::vector<std::pair<int64_t, std::string>> changed;
  sql::Statement candidates = db_.Prepare(kSearchCandidates);
  candidates.Bind(1, search_id);
  while (candidates.Step()) {
    const std::string fingerprint = fingerprint_of(candidates.Text(1));
    if (fingerprint != candidates.Text(2)) changed.emplace_back(candidates.Int(0), fingerprint);
  }
  for (const auto& [id, fingerprint] : changed) {
    db_.Prepare(kSetFingerprint).Bind(1, id).Bind(2, fingerprint).Run();
  }
  db_.Prepare(kSetFingerprintVersion).Bind(1, search_id).Bind(2, version).Run();
  transaction.Commit();
  return static_cast<int64_t>(changed.size());
}

std::optional<SearchRow> ResultsStore::FindSearch(const std::string& name) {
  sql::Statement find = db_.Prepare(kFindSearchRow);
  find.Bind(1, name);
  if (!find.Step()) return std::nullopt;
  return SearchRow{find.Int(0), find.Text(1), find.Double(2), find.Double(3),
                   static_cast<int>(find.Int(4))};
}

void ResultsStore::PruneCheckpoints(int64_t search_id, const std::string& kind, int64_t keep) {
  db_.Prepare(kPruneCheckpoints).Bind(1, search_id).Bind(2, kind).Bind(3, keep).Run();
}

std::optional<TrialState> ResultsStore::StateOf(int64_t trial_id) {
  sql::Statement state = db_.Prepare(kTrialState);
  state.Bind(1, trial_id);
  if (!state.Step()) return std::nullopt;
  return TrialStateFromName(state.Text(0));
}

void ResultsStore::RecordEvaluation(const EvaluationRow& e) {
  db_.Prepare(
         "INSERT OR REPLACE INTO evaluations (trial_id, step, validation_accuracy, verdict, "
         "recorded_at) VALUES (?1, ?2, ?3, ?4, ?5)")
      .Bind(1, e.trial_id)
      .Bind(2, e.step)
      .Bind(3, e.validation_accuracy)
      .Bind(4, e.verdict)
      .Bind(5, NowSeconds())
      .Run();
}

std::vector<EvaluationRow> ResultsStore::EvaluationsOfSearch(int64_t search_id) {
  sql::Statement query = db_.Prepare(
      "SELECT e.trial_id, e.step, e.validation_accuracy, e.verdict FROM evaluations e "
      "JOIN trials t ON t.id = e.trial_id JOIN candidates c ON c.id = t.candidate_id "
      "WHERE c.search_id = ?1 ORDER BY e.recorded_at, e.trial_id, e.step");
  query.Bind(1, search_id);
  std::vector<EvaluationRow> rows;
  while (query.Step()) {
    rows.push_back({query.Int(0), query.Int(1), query.Double(2), query.Text(3)});
  }
  return rows;
}

void ResultsStore::RecordPolicyUpdate(int64_t search_id, const PolicyUpdateRow& update) {
  db_.Prepare(
         "INSERT OR REPLACE INTO policy_updates (search_id, update_index, entropy, baseline, "
         "mean_reward, batch_size, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .Bind(1, search_id)
      .Bind(2, update.index)
      .Bind(3, update.entropy)
      .Bind(4, update.baseline)
      .Bind(5, update.mean_reward)
      .Bind(6, update.batch_size)
      .Bind(7, NowSeconds())
      .Run();
}

}  // namespace actsearch::storage
