// Processes side by side on one file: a writer and a reader at once, and a writer killed with
// SIGKILL in the middle of a stream of inserts.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "storage/leaderboard.h"
#include "storage/results_store.h"
#include "storage/schema.h"
#include "storage/test_support.h"

namespace actsearch::storage {
namespace {

class ConcurrencyTest : public StorageTest {};

// In a child process: `count` trials, each queued then finished in its own transactions.
// After each commit the number committed so far is written to `report_fd` (if >= 0).
[[noreturn]] void WriteResults(const std::string& path, int count, int report_fd) {
  int status = 0;
  try {
    ResultsStore store(path);
    const int64_t search = store.CreateSearch("stream", "", 1);
    for (int i = 0; i < count; ++i) {
      NewCandidate c;
      c.search_id = search;
      c.expression = "candidate " + std::to_string(i);
      c.fingerprint = std::to_string(i % 50);
      c.proposed_by = "random";
      const int64_t trial = store.QueueTrial(store.AddCandidate(c), i);
      TrialResult r;
      r.validation_accuracy = (i % 100) / 100.0;
      store.RecordResult(trial, r);
      if (report_fd >= 0) {
        const int32_t committed = i + 1;
        if (write(report_fd, &committed, sizeof committed) != sizeof committed) status = 3;
      }
    }
  } catch (const std::exception& e) {
    fprintf(stderr, "writer: %s\n", e.what());
    status = 2;
  }
  _exit(status);
}

TEST_F(ConcurrencyTest, AReaderQueriesWhileAWriterInsertsWithoutLocksOrTornReads) {
  const std::string path = Path("live.db");
  { ResultsStore create(path); }  // the schema exists before the reader starts
  const pid_t writer = fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) WriteResults(path, 1500, -1);

  int queries = 0;
  int64_t last_seen = 0;
  sql::Database reader(path, sql::OpenMode::kReadOnly);
  CheckReadable(reader);
  int status = 0;
  while (waitpid(writer, &status, WNOHANG) == 0) {
    // One statement reads one snapshot: every finished trial has its result, and vice versa.
    sql::Statement snapshot = reader.Prepare(
        "SELECT (SELECT COUNT(*) FROM trials WHERE state = 'done'), "
        "(SELECT COUNT(*) FROM results)");
    ASSERT_TRUE(snapshot.Step());
    ASSERT_EQ(snapshot.Int(0), snapshot.Int(1)) << "a torn read";
    EXPECT_GE(snapshot.Int(1), last_seen) << "results never disappear";
    last_seen = snapshot.Int(1);
    LeaderboardFilter filter;
    filter.top = 10;
    ASSERT_NO_THROW(QueryLeaderboard(reader, filter));
    ++queries;
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the writer hit an error (see stderr)";
  EXPECT_GT(queries, 10) << "the reader ran beside the writer";
  sql::Statement total = reader.Prepare("SELECT COUNT(*) FROM results");
  total.Step();
  EXPECT_EQ(total.Int(0), 1500);
}

TEST_F(ConcurrencyTest, AWriterKilledMidStreamLosesNoCommittedRow) {
  const std::string path = Path("killed.db");
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t writer = fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    close(pipe_fds[0]);
    WriteResults(path, 1000000, pipe_fds[1]);
  }
  close(pipe_fds[1]);
  int32_t committed = 0;
  int32_t value = 0;
  while (committed < 300 && read(pipe_fds[0], &value, sizeof value) == sizeof value) {
    committed = value;
  }
  kill(writer, SIGKILL);
  // Reports already in the pipe were committed before the kill too.
  while (read(pipe_fds[0], &value, sizeof value) == sizeof value) committed = value;
  close(pipe_fds[0]);
  int status = 0;
  waitpid(writer, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_GE(committed, 300);

  sql::Database db(path, sql::OpenMode::kReadWrite);
  EXPECT_EQ(db.IntegrityCheck(), "ok");
  sql::Statement rows = db.Prepare(
      "SELECT COUNT(*), (SELECT COUNT(*) FROM trials WHERE state = 'done') FROM results");
  rows.Step();
  EXPECT_GE(rows.Int(0), committed) << "every reported commit is in the file";
  EXPECT_EQ(rows.Int(0), rows.Int(1));
  ResultsStore reopened(path);  // and the writer can carry on
}

}  // namespace
}  // namespace actsearch::storage
