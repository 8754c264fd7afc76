#include "storage/schema.h"

#include <string>
#include <vector>

namespace actsearch::storage {
namespace {

// Version 1: the core tables. Times are Unix seconds (REAL); configs and learning curves are
// stored as given (text protobuf, JSON).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE searches (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL DEFAULT '',
  config      TEXT NOT NULL,
  seed        INTEGER NOT NULL,
  started_at  REAL NOT NULL,
  ended_at    REAL,
  status      TEXT NOT NULL CHECK (status IN ('running', 'finished', 'stopped', 'failed'))
);
CREATE TABLE candidates (
  id             INTEGER PRIMARY KEY,
  search_id      INTEGER NOT NULL REFERENCES searches(id),
  expression     TEXT NOT NULL,
  fingerprint    TEXT NOT NULL,
  tokens         TEXT NOT NULL DEFAULT '',
  proposed_by    TEXT NOT NULL,
  screen         TEXT NOT NULL,
  screen_reason  TEXT NOT NULL DEFAULT '',
  created_at     REAL NOT NULL,
  UNIQUE (search_id, expression)
);
CREATE TABLE workers (
  id             INTEGER PRIMARY KEY,
  name           TEXT NOT NULL UNIQUE,
  capabilities   TEXT NOT NULL DEFAULT '',
  registered_at  REAL NOT NULL,
  last_seen      REAL NOT NULL
);
CREATE TABLE trials (
  id              INTEGER PRIMARY KEY,
  candidate_id    INTEGER NOT NULL REFERENCES candidates(id),
  seed            INTEGER NOT NULL DEFAULT 0,
  attempt         INTEGER NOT NULL DEFAULT 0,
  worker_id       INTEGER REFERENCES workers(id),
  lease_deadline  REAL,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'failed',
                                                 'diverged', 'screened', 'stopped_early')),
  created_at      REAL NOT NULL,
  updated_at      REAL NOT NULL
);
CREATE TABLE results (
  trial_id             INTEGER PRIMARY KEY REFERENCES trials(id),
  validation_accuracy  REAL,
  test_accuracy        REAL,
  loss                 REAL,
  learning_curve       TEXT NOT NULL DEFAULT '[]',
  steps                INTEGER NOT NULL DEFAULT 0,
  wall_seconds         REAL NOT NULL DEFAULT 0,
  device               TEXT NOT NULL DEFAULT '',
  error                TEXT NOT NULL DEFAULT '',
  recorded_at          REAL NOT NULL
);
CREATE TABLE checkpoints (
  id          INTEGER PRIMARY KEY,
  search_id   INTEGER NOT NULL REFERENCES searches(id),
  kind        TEXT NOT NULL,
  step        INTEGER NOT NULL,
  data        BLOB NOT NULL,
  created_at  REAL NOT NULL
);
)sql";

// Version 2: the operators each candidate uses (the leaderboard's operator filter), and the
// indexes the leaderboard and the scheduler query by.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE candidate_operators (
  candidate_id  INTEGER NOT NULL REFERENCES candidates(id),
  operator      TEXT NOT NULL,
  PRIMARY KEY (candidate_id, operator)
) WITHOUT ROWID;
CREATE INDEX candidates_by_fingerprint ON candidates (search_id, fingerprint);
CREATE INDEX trials_by_candidate ON trials (candidate_id, state);
CREATE INDEX trials_by_state ON trials (state, lease_deadline);
CREATE INDEX checkpoints_by_search ON checkpoints (search_id, kind, step);
)sql";

// Version 3: operating a search. A search's kind (a controller's search, a re-evaluation, or
// standalone runs), why it ended, how long controllers have run it (active_seconds: its time
// budget, downtime excluded), and its live controller: who it is, when it last said so
// (heartbeat_at, NULL once it ended) and whether `actsearch stop` asked it to stop. A trial's
// start time and the error of its last failed attempt (a failure requeues it).
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE searches ADD COLUMN kind TEXT NOT NULL DEFAULT 'search';
ALTER TABLE searches ADD COLUMN end_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE searches ADD COLUMN active_seconds REAL NOT NULL DEFAULT 0;
ALTER TABLE searches ADD COLUMN controller_host TEXT NOT NULL DEFAULT '';
ALTER TABLE searches ADD COLUMN controller_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE searches ADD COLUMN controller_address TEXT NOT NULL DEFAULT '';
ALTER TABLE searches ADD COLUMN heartbeat_at REAL;
ALTER TABLE searches ADD COLUMN stop_requested_at REAL;
UPDATE searches SET kind = CASE WHEN config <> '' THEN 'search'
                                WHEN name LIKE 'reevaluate%' THEN 'reevaluation'
                                ELSE 'runs' END;
ALTER TABLE trials ADD COLUMN started_at REAL;
ALTER TABLE trials ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
CREATE INDEX searches_by_name ON searches (name);
)sql";

// Version 4: a worker's session secret (each registration makes a new one, and every call of
// the worker carries it), every lease a trial had (who may still report its result), and the
// fingerprint version a search's classes were built with (1 before this column).
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE searches ADD COLUMN fingerprint_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE workers ADD COLUMN session TEXT NOT NULL DEFAULT '';
CREATE TABLE leases (
  trial_id   INTEGER NOT NULL REFERENCES trials(id),
  attempt    INTEGER NOT NULL,
  worker_id  INTEGER NOT NULL REFERENCES workers(id),
  leased_at  REAL NOT NULL,
  PRIMARY KEY (trial_id, attempt)
) WITHOUT ROWID;
)sql";

// Version 5: what each update of a learned policy saw (the dashboard's charts of PPO).
constexpr const char* kSchemaV5 = R"sql(
CREATE TABLE policy_updates (
  search_id    INTEGER NOT NULL REFERENCES searches(id),
  update_index INTEGER NOT NULL,
  entropy      REAL NOT NULL,
  baseline     REAL NOT NULL,
  mean_reward  REAL NOT NULL,
  batch_size   INTEGER NOT NULL,
  recorded_at  REAL NOT NULL,
  PRIMARY KEY (search_id, update_index)
) WITHOUT ROWID;
)sql";

// Version 6: multi-fidelity search. Each validation evaluation of a child during its budget and
// the early-stopping rule's verdict there ('' when no rule decided); whether a result was cut
// short by that rule (pruned); and the reward the strategy got for it, which for a pruned child
// is not its accuracy (controller/stopping_rule.h). NULL reward: before version 6.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE evaluations (
  trial_id             INTEGER NOT NULL REFERENCES trials(id),
  step                 INTEGER NOT NULL,
  validation_accuracy  REAL NOT NULL,
  verdict              TEXT NOT NULL CHECK (verdict IN ('', 'continue', 'stop')),
  recorded_at          REAL NOT NULL,
  PRIMARY KEY (trial_id, step)
) WITHOUT ROWID;
ALTER TABLE results ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE results ADD COLUMN reward REAL;
)sql";

// Version 7: the child network a trial trains when it is not its search's (a re-evaluation
// that trains its runs on several models); '' for the search's own.
constexpr const char* kSchemaV7 = R"sql(
ALTER TABLE trials ADD COLUMN model TEXT NOT NULL DEFAULT '';
)sql";

const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> migrations = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4,
                                                      kSchemaV5, kSchemaV6, kSchemaV7};
  return migrations;
}

bool HasOnlyOurTables(sql::Database& db) {
  sql::Statement tables = db.Prepare(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  tables.Step();
  return tables.Int(0) == 0;
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

int SchemaVersion(sql::Database& db) {
  sql::Statement version = db.Prepare("PRAGMA user_version");
  version.Step();
  return static_cast<int>(version.Int(0));
}

void CheckOurs(sql::Database& db) {
  const int version = SchemaVersion(db);
  if (version > LatestSchemaVersion()) CheckReadable(db);
  if (version == 0 && !HasOnlyOurTables(db)) {
    throw sql::Error(db.path() + ": an SQLite database, but not actsearch's (it has tables)", 0);
  }
}

void PrepareForWriting(sql::Database& db) {
  CheckOurs(db);
  db.EnableWal();
  Migrate(db);
}

void CheckReadable(sql::Database& db) {
  const int version = SchemaVersion(db);
  if (version > LatestSchemaVersion()) {
    throw sql::Error(db.path() + ": written by a newer actsearch (schema version " +
                         std::to_string(version) + ", this build reads up to " +
                         std::to_string(LatestSchemaVersion()) + ")",
                     0);
  }
  if (version == 0) {
    throw sql::Error(db.path() + ": not an actsearch results database (no schema)", 0);
  }
}

void Migrate(sql::Database& db, int target) {
  CheckOurs(db);
  const int version = SchemaVersion(db);
  for (int next = version + 1; next <= target; ++next) {
    sql::Transaction transaction(db);
    db.Execute(Migrations()[next - 1]);
    db.Execute("PRAGMA user_version = " + std::to_string(next));
    transaction.Commit();
  }
}

}  // namespace actsearch::storage
