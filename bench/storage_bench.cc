// Results-store throughput: trials recorded the way the controller records them (every state
// change its own durable transaction), and leaderboard queries over a large database.
//
//   build/cpu/bench/storage_bench [--trials 100000] [--timed 2000] [--classes 5000] [--db FILE]
//
// The first --timed trials go through the store one transaction per state change (candidate,
// queue, lease, result) and set the insert rate; the rest are bulk-loaded in one transaction
// so that the queries run against --trials trials. Queries are timed on a read-only connection,
// as the CLI runs them; medians of 15 runs.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "storage/leaderboard.h"
#include "storage/results_store.h"
#include "storage/schema.h"
#include "storage/search_queries.h"

namespace {

using namespace actsearch;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double MedianMs(const std::function<void()>& run, int repeats = 15) {
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    run();
    ms.push_back(1000 * Seconds(start, Clock::now()));
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

const char* const kOperators[] = {"sin", "cos", "max", "min", "tanh", "sigmoid", "mul", "add"};

storage::NewCandidate MakeCandidate(int64_t search, int i, int classes) {
  storage::NewCandidate c;
  c.search_id = search;
  c.expression = "candidate_" + std::to_string(i);
  c.fingerprint = std::to_string(i % classes);
  c.proposed_by = "random";
  c.operators = {kOperators[i % 8], kOperators[(i / 8) % 8]};
  return c;
}

double Accuracy(int i) { return 0.1 + 0.8 * ((i * 7919) % 1000) / 1000.0; }

}  // namespace

int main(int argc, char** argv) {
  int trials = 100000;
  int timed = 2000;
  int classes = 5000;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--trials" && i + 1 < argc) {
      trials = std::stoi(argv[++i]);
    } else if (flag == "--timed" && i + 1 < argc) {
      timed = std::stoi(argv[++i]);
    } else if (flag == "--classes" && i + 1 < argc) {
      classes = std::stoi(argv[++i]);
    } else if (flag == "--db" && i + 1 < argc) {
      path = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--trials N] [--timed N] [--classes N] [--db FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  timed = std::min(timed, trials);
  if (path.empty()) {
    path = (std::filesystem::temp_directory_path() / "actsearch-storage-bench.db").string();
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);

  storage::ResultsStore store(path);
  const int64_t search = store.CreateSearch("bench", "space { units: 2 }", 1);
  const int64_t worker = store.RegisterWorker("bench-worker", "cpu");

  // Phase 1: the controller's way, every state change one durable transaction.
  const auto start = Clock::now();
  for (int i = 0; i < timed; ++i) {
    const int64_t trial =
        store.QueueTrial(store.AddCandidate(MakeCandidate(search, i, classes)), i);
    store.LeaseTrial(trial, worker, storage::NowSeconds() + 600);
    storage::TrialResult r;
    r.validation_accuracy = Accuracy(i);
    r.test_accuracy = Accuracy(i) - 0.01;
    r.steps = 10000;
    store.RecordResult(trial, r);
  }
  const double timed_seconds = Seconds(start, Clock::now());

  // Phase 2: bulk-load the rest in one transaction.
  const auto bulk_start = Clock::now();
  {
    sql::Database& db = store.database();
    sql::Transaction transaction(db);
    sql::Statement candidate = db.Prepare(
        "INSERT INTO candidates (search_id, expression, fingerprint, proposed_by, screen, "
        "created_at) VALUES (?1, ?2, ?3, 'random', 'accepted', 0)");
    sql::Statement op = db.Prepare(
        "INSERT OR IGNORE INTO candidate_operators (candidate_id, operator) VALUES (?1, ?2)");
    sql::Statement trial = db.Prepare(
        "INSERT INTO trials (candidate_id, seed, attempt, state, created_at, updated_at) "
        "VALUES (?1, ?2, 1, 'done', 0, 0)");
    sql::Statement result = db.Prepare(
        "INSERT INTO results (trial_id, validation_accuracy, test_accuracy, steps, recorded_at) "
        "VALUES (?1, ?2, ?3, 10000, 0)");
    for (int i = timed; i < trials; ++i) {
      const storage::NewCandidate c = MakeCandidate(search, i, classes);
      candidate.Bind(1, search).Bind(2, c.expression).Bind(3, c.fingerprint).Run();
      candidate.Reset();
      const int64_t candidate_id = db.LastInsertId();
      for (const std::string& name : c.operators) {
        op.Bind(1, candidate_id).Bind(2, name).Run();
        op.Reset();
      }
      trial.Bind(1, candidate_id).Bind(2, int64_t{i}).Run();
      trial.Reset();
      result.Bind(1, db.LastInsertId()).Bind(2, Accuracy(i)).Bind(3, Accuracy(i) - 0.01).Run();
      result.Reset();
    }
    transaction.Commit();
  }
  const double bulk_seconds = Seconds(bulk_start, Clock::now());

  // Phase 3: queries on a read-only connection.
  sql::Database reader(path, sql::OpenMode::kReadOnly);
  storage::CheckReadable(reader);
  storage::LeaderboardFilter top20;
  storage::LeaderboardFilter with_operator;
  with_operator.operators = {"sin"};
  storage::LeaderboardFilter repeated;
  repeated.min_trials = 10;
  repeated.rank_by = storage::LeaderboardFilter::RankBy::kBest;
  const double top20_ms = MedianMs([&] { storage::QueryLeaderboard(reader, top20); });
  const double operator_ms = MedianMs([&] { storage::QueryLeaderboard(reader, with_operator); });
  const double repeated_ms = MedianMs([&] { storage::QueryLeaderboard(reader, repeated); });
  const double searches_ms = MedianMs([&] { storage::ListSearches(reader); });

  std::printf("results store, SQLite %s, WAL, synchronous=FULL, file %s\n", sqlite3_libversion(),
              path.c_str());
  std::printf("%d trials (%d classes), %d recorded one transaction per state change\n\n", trials,
              classes, timed);
  std::printf("%-48s %12s\n", "measure", "value");
  std::printf("%-48s %12.0f\n", "trials recorded per second (4 commits each)",
              timed / timed_seconds);
  std::printf("%-48s %12.0f\n", "commits per second", 4 * timed / timed_seconds);
  std::printf("%-48s %12.0f\n", "bulk-loaded trials per second (one transaction)",
              (trials - timed) / std::max(bulk_seconds, 1e-9));
  std::printf("%-48s %12.1f\n", "leaderboard, top 20, median ms", top20_ms);
  std::printf("%-48s %12.1f\n", "leaderboard, operator filter, median ms", operator_ms);
  std::printf("%-48s %12.1f\n", "leaderboard, >= 10 trials, by best, median ms", repeated_ms);
  std::printf("%-48s %12.1f\n", "searches with progress, median ms", searches_ms);
  return 0;
}
