#include "storage/results_store.h"

#include <cmath>

#include "search_space/candidate_analysis.h"
#include "search_space/fingerprint.h"
#include "search_space/parser.h"
#include "storage/search_queries.h"
#include "storage/test_support.h"

namespace actsearch::storage {
namespace {

class ResultsStoreTest : public StorageTest {
 protected:
  NewCandidate Candidate(int64_t search, const std::string& expression,
                         const std::string& fingerprint) {
    NewCandidate c;
    c.search_id = search;
    c.expression = expression;
    c.fingerprint = fingerprint;
    c.proposed_by = "manual";
    return c;
  }
};

TEST_F(ResultsStoreTest, ATrialGoesFromQueuedToLeasedToDone) {
  ResultsStore store(Path("r.db"));
  const int64_t search = store.CreateSearch("s", "space { units: 1 }", 42);
  const int64_t candidate = store.AddCandidate(Candidate(search, "cos(x) - x", "aa"));
  const int64_t trial = store.QueueTrial(candidate, 1);
  EXPECT_EQ(store.StateOf(trial), TrialState::kQueued);
  const int64_t worker = store.RegisterWorker("gpu-0", "cuda:0");
  EXPECT_TRUE(store.LeaseTrial(trial, worker, NowSeconds() + 60));
  EXPECT_FALSE(store.LeaseTrial(trial, worker, NowSeconds() + 60)) << "already leased";
  EXPECT_TRUE(store.RenewLease(trial, worker, NowSeconds() + 120));
  TrialResult result;
  result.validation_accuracy = 0.91;
  result.steps = 100;
  EXPECT_TRUE(store.RecordResult(trial, result));
  EXPECT_EQ(store.StateOf(trial), TrialState::kDone);
  EXPECT_FALSE(store.RenewLease(trial, worker, NowSeconds() + 60)) << "no lease once done";
}

TEST_F(ResultsStoreTest, ATrialQueuedOnAnotherModelKeepsItsModel) {
  ResultsStore store(Path("r.db"));
  const int64_t search = store.CreateSearch("s", "", 1);
  const int64_t candidate = store.AddCandidate(Candidate(search, "relu(x)", "bb"));
  const int64_t own = store.QueueTrial(candidate, 0);
  const int64_t other = store.QueueTrial(candidate, 0, "resnet56");
  EXPECT_EQ(store.Trial(own)->model, "") << "the search's child";
  EXPECT_EQ(store.Trial(other)->model, "resnet56");
}

TEST_F(ResultsStoreTest, PolicyUpdatesAreKeptInOrderAndARepeatedIndexReplaced) {
  ResultsStore store(Path("r.db"));
  const int64_t search = store.CreateSearch("s", "", 1);
  store.RecordPolicyUpdate(search, {2, 1.5, 0.3, 0.4, 8, 0});
  store.RecordPolicyUpdate(search, {1, 2.0, 0.2, 0.3, 8, 0});
  store.RecordPolicyUpdate(search, {2, 1.25, 0.35, 0.45, 8, 0});
  const std::vector<PolicyUpdateRow> updates = ListPolicyUpdates(store.database(), search);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].index, 1);
  EXPECT_DOUBLE_EQ(updates[1].entropy, 1.25);
  EXPECT_EQ(updates[1].batch_size, 8);
  EXPECT_GT(updates[1].recorded_at, 0);
}

TEST_F(ResultsStoreTest, AResultIsRecordedOnceAndTheFirstReportStands) {
  ResultsStore store(Path("r.db"));
  const int64_t search = store.CreateSearch("s", "", 1);
  const int64_t trial = store.QueueTrial(store.AddCandidate(Candidate(search, "x", "aa")), 0);
  TrialResult first;
  first.validation_accuracy = 0.5;
  TrialResult late = first;
  late.validation_accuracy = 0.9;
  EXPECT_TRUE(store.RecordResult(trial, first));
  EXPECT_FALSE(store.RecordResult(trial, late));
  sql::Statement read = store.database().Prepare(
      "SELECT validation_accuracy, (SELECT COUNT(*) FROM results) FROM results");
  read.Step();
  EXPECT_EQ(read.Double(0), 0.5);
  EXPECT_EQ(read.Int(1), 1);
}

TEST_F(ResultsStoreTest, ExpiredLeasesAreRequeuedThenFailAfterTheAttemptLimit) {
  ResultsStore store(Path("r.db"));
  const int64_t search = store.CreateSearch("s", "", 1);
  const int64_t trial = store.QueueTrial(store.AddCandidate(Candidate(search, "x", "aa")), 0);
  const int64_t worker = store.RegisterWorker("w", "");
  const double t0 = NowSeconds();
  ASSERT_TRUE(store.LeaseTrial(trial, worker, t0 + 10));
  EXPECT_TRUE(store.ExpireLeases(t0 + 5, 2).empty()) << "not yet expired";
  EXPECT_EQ(store.ExpireLeases(t0 + 11, 2), std::vector<int64_t>{trial});
  EXPECT_EQ(store.StateOf(trial), TrialState::kQueued);
  ASSERT_TRUE(store.LeaseTrial(trial, worker, t0 + 20));
  store.ExpireLeases(t0 + 21, 2);
  EXPECT_EQ(store.StateOf(trial), TrialState::kFailed) << "two attempts used";
}

TEST_F(ResultsStoreTest, DivergenceIsAnOutcomeAndNoNaNReachesTheDatabase) {
  ResultsStore store(Path("r.db"));
  const int64_t search = store.CreateSearch("s", "", 1);
  const int64_t trial =
      store.QueueTrial(store.AddCandidate(Candidate(search, "exp(exp(x))", "ee")), 0);
  TrialResult diverged;
  diverged.state = TrialState::kDiverged;
  diverged.validation_accuracy = 0.0;
  diverged.loss = std::nan("");
  diverged.wall_seconds = INFINITY;
  diverged.error = "non-finite loss at step 12";
  EXPECT_TRUE(store.RecordResult(trial, diverged));
  EXPECT_EQ(store.StateOf(trial), TrialState::kDiverged);
  sql::Statement read = store.database().Prepare("SELECT loss IS NULL, wall_seconds FROM results");
  read.Step();
  EXPECT_EQ(read.Int(0), 1);
  EXPECT_EQ(read.Double(1), 0.0);
}

TEST_F(ResultsStoreTest, CandidatesAreKeptOncePerSearchWithTheirOperators) {
  ResultsStore store(Path("r.db"));
  const int64_t search = store.CreateSearch("s", "", 1);
  NewCandidate c = Candidate(search, "min(x, sin(x))", "ab");
  c.operators = {"min", "sin"};
  const int64_t first = store.AddCandidate(c);
  EXPECT_EQ(store.AddCandidate(c), first);
  const int64_t other_search = store.CreateSearch("t", "", 2);
  c.search_id = other_search;
  EXPECT_NE(store.AddCandidate(c), first);
  sql::Statement ops = store.database().Prepare(
      "SELECT group_concat(operator) FROM candidate_operators WHERE candidate_id = ?1");
  ops.Bind(1, first).Step();
  EXPECT_EQ(ops.Text(0), "min,sin");
}

TEST_F(ResultsStoreTest, ScreenedCandidatesGetRewardZeroWithoutTraining) {
  ResultsStore store(Path("r.db"));
  const int64_t search = store.CreateSearch("s", "", 1);
  NewCandidate c = Candidate(search, "beta", "cc");
  c.screen = "constant";
  const int64_t trial = store.RecordScreenedTrial(store.AddCandidate(c));
  EXPECT_EQ(store.StateOf(trial), TrialState::kScreened);
  sql::Statement read = store.database().Prepare("SELECT validation_accuracy FROM results");
  read.Step();
  EXPECT_EQ(read.Double(0), 0.0);
}

TEST_F(ResultsStoreTest, CheckpointsReturnTheLatestStep) {
  ResultsStore store(Path("r.db"));
  const int64_t search = store.CreateSearch("s", "", 1);
  EXPECT_FALSE(store.LatestCheckpoint(search, "policy").has_value());
  store.SaveCheckpoint(search, "policy", 20, {1, 2});
  store.SaveCheckpoint(search, "policy", 40, {3, 4, 5});
  store.SaveCheckpoint(search, "sampler", 60, {9});
  const auto latest = store.LatestCheckpoint(search, "policy");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step, 40);
  EXPECT_EQ(latest->data, (std::vector<uint8_t>{3, 4, 5}));
  // A strategy with no state (a re-evaluation's) checkpoints nothing, and that is kept too.
  store.SaveCheckpoint(search, "sampler", 80, {});
  const auto empty = store.LatestCheckpoint(search, "sampler");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->step, 80);
  EXPECT_TRUE(empty->data.empty());
}

TEST_F(ResultsStoreTest, AWorkerRegisteringAgainKeepsItsId) {
  ResultsStore store(Path("r.db"));
  const int64_t id = store.RegisterWorker("gpu-3", "cuda:3");
  EXPECT_EQ(store.RegisterWorker("gpu-3", "cuda:3 bf16"), id);
  EXPECT_NE(store.RegisterWorker("gpu-4", ""), id);
}

TEST_F(ResultsStoreTest, ReopeningKeepsEverything) {
  const std::string path = Path("r.db");
  int64_t trial = 0;
  {
    ResultsStore store(path);
    const int64_t search = store.CreateSearch("s", "", 1);
    trial = store.QueueTrial(store.AddCandidate(Candidate(search, "x", "aa")), 0);
    TrialResult r;
    r.validation_accuracy = 0.3;
    store.RecordResult(trial, r);
  }
  ResultsStore again(path);
  EXPECT_EQ(again.StateOf(trial), TrialState::kDone);
}

TEST_F(ResultsStoreTest, AnOlderBuildsClassesAreRebuiltWithThisFingerprint) {
  ResultsStore store(Path("r.db"));
  const int64_t search = store.CreateSearch("s", "space {}", 1);
  EXPECT_EQ(store.FindSearch("s")->fingerprint_version, kFingerprintVersion);
  const std::string sin_class = FingerprintToHex(ComputeFingerprint(Parse("sin(x)")));
  // As version 1 recorded them: min(sin(x), beta) in sin(x)'s class.
  store.AddCandidate(Candidate(search, "sin(x)", sin_class));
  store.AddCandidate(Candidate(search, "min(sin(x), beta)", sin_class));
  store.database().Execute("UPDATE searches SET fingerprint_version = 1");
  EXPECT_EQ(store.UpdateFingerprints(search, kFingerprintVersion, FingerprintOfText), 1);
  EXPECT_EQ(store.FindSearch("s")->fingerprint_version, kFingerprintVersion);
  sql::Statement classes =
      store.database().Prepare("SELECT COUNT(DISTINCT fingerprint) FROM candidates");
  classes.Step();
  EXPECT_EQ(classes.Int(0), 2) << "two families, two classes";
}

}  // namespace
}  // namespace actsearch::storage
