#include "storage/leaderboard.h"

#include "storage/results_store.h"
#include "storage/test_support.h"

namespace actsearch::storage {
namespace {

class LeaderboardTest : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    store_ = std::make_unique<ResultsStore>(Path("board.db"));
    search_ = store_->CreateSearch("main", "space { units: 1 }", 1);
  }

  // Adds one finished trial of `expression` (class `fingerprint`) with this accuracy, trained
  // for `steps` on `model` (empty: the search's own child).
  void Add(const std::string& expression, const std::string& fingerprint, double accuracy,
           std::vector<std::string> operators = {}, TrialState state = TrialState::kDone,
           int64_t search = 0, int64_t steps = 900, const std::string& model = "") {
    NewCandidate c;
    c.search_id = search ? search : search_;
    c.expression = expression;
    c.fingerprint = fingerprint;
    c.proposed_by = "manual";
    c.operators = std::move(operators);
    const int64_t trial = store_->QueueTrial(store_->AddCandidate(c), seed_++, model);
    TrialResult r;
    r.state = state;
    r.validation_accuracy = accuracy;
    r.test_accuracy = accuracy - 0.01;
    r.steps = steps;
    store_->RecordResult(trial, r);
  }

  std::vector<LeaderboardRow> Query(LeaderboardFilter filter = {}) {
    return QueryLeaderboard(store_->database(), filter);
  }

  std::unique_ptr<ResultsStore> store_;
  int64_t search_ = 0;
  int64_t seed_ = 0;
};

TEST_F(LeaderboardTest, OneRowPerFunctionalClassWithMeanSpreadAndCount) {
  Add("x * sigmoid(beta * x)", "swish", 0.90);
  Add("x * sigmoid(beta * x)", "swish", 0.92);
  Add("sigmoid(beta * x) * x", "swish", 0.94);  // the same function, written differently
  Add("relu(x)", "relu", 0.91);
  const auto rows = Query();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fingerprint, "swish");
  EXPECT_EQ(rows[0].expression, "sigmoid(beta * x) * x") << "named by its best result";
  EXPECT_EQ(rows[0].trials, 3);
  EXPECT_NEAR(rows[0].mean, 0.92, 1e-12);
  EXPECT_NEAR(rows[0].stddev, 0.02, 1e-12);
  EXPECT_NEAR(rows[0].best, 0.94, 1e-12);
  EXPECT_NEAR(*rows[0].mean_test, 0.91, 1e-12);
  EXPECT_EQ(rows[1].fingerprint, "relu");
  EXPECT_EQ(rows[1].stddev, 0.0);
  EXPECT_EQ(rows[1].rank, 2);
}

TEST_F(LeaderboardTest, RanksByMeanOrByBest) {
  Add("a", "steady", 0.90);
  Add("a", "steady", 0.90);
  Add("b", "lucky", 0.95);
  Add("b", "lucky", 0.80);
  EXPECT_EQ(Query()[0].fingerprint, "steady");
  LeaderboardFilter by_best;
  by_best.rank_by = LeaderboardFilter::RankBy::kBest;
  EXPECT_EQ(Query(by_best)[0].fingerprint, "lucky");
}

TEST_F(LeaderboardTest, FiltersBySearchStateOperatorsRepeatsAndTop) {
  Add("min(x, sin(x))", "minsin", 0.88, {"min", "sin"});
  Add("cos(x) - x", "cosx", 0.87, {"cos", "sub"});
  Add("cos(x) - x", "cosx", 0.86, {"cos", "sub"});
  Add("exp(exp(x))", "explode", 0.0, {"exp"}, TrialState::kDiverged);
  const int64_t other = store_->CreateSearch("other", "", 2);
  Add("max(x, tanh(x))", "maxtanh", 0.99, {"max", "tanh"}, TrialState::kDone, other);

  LeaderboardFilter only_main;
  only_main.search_id = search_;
  EXPECT_EQ(Query(only_main).size(), 2u);
  EXPECT_EQ(Query().size(), 3u) << "all searches";

  LeaderboardFilter with_diverged;
  with_diverged.states = {"done", "diverged"};
  EXPECT_EQ(Query(with_diverged).size(), 4u);

  LeaderboardFilter uses_sin;
  uses_sin.operators = {"sin"};
  ASSERT_EQ(Query(uses_sin).size(), 1u);
  EXPECT_EQ(Query(uses_sin)[0].fingerprint, "minsin");
  LeaderboardFilter uses_both;
  uses_both.operators = {"cos", "sin"};
  EXPECT_TRUE(Query(uses_both).empty()) << "all listed operators must be used";

  LeaderboardFilter repeated;
  repeated.min_trials = 2;
  ASSERT_EQ(Query(repeated).size(), 1u);
  EXPECT_EQ(Query(repeated)[0].fingerprint, "cosx");

  LeaderboardFilter top1;
  top1.top = 1;
  ASSERT_EQ(Query(top1).size(), 1u);
  EXPECT_EQ(Query(top1)[0].fingerprint, "maxtanh");
}

TEST_F(LeaderboardTest, ClassesRankByTheirHighestFidelityResultFirst) {
  Add("relu(x)", "relu", 0.90);
  Add("tanh(x)", "tanh", 0.95, {}, TrialState::kStoppedEarly, 0, 100);  // pruned at a rung
  Add("sin(x)", "sin", 0.80, {}, TrialState::kStoppedEarly, 0, 300);
  // Stopped early in one search, trained in full in another: judged by the full training.
  Add("x * sigmoid(x)", "silu", 0.97, {}, TrialState::kStoppedEarly, 0, 100);
  Add("x * sigmoid(x)", "silu", 0.85, {}, TrialState::kDone, 0, 900);
  const auto rows = Query();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].fingerprint, "relu");
  EXPECT_EQ(rows[1].fingerprint, "silu");
  EXPECT_EQ(rows[1].trials, 1);
  EXPECT_NEAR(rows[1].best, 0.85, 1e-12);
  EXPECT_EQ(rows[1].steps, 900);
  EXPECT_EQ(rows[2].fingerprint, "sin");
  EXPECT_EQ(rows[2].steps, 300);
  EXPECT_EQ(rows[3].fingerprint, "tanh");
  EXPECT_EQ(rows[3].steps, 100);
  LeaderboardFilter done_only;
  done_only.states = {"done"};
  EXPECT_EQ(Query(done_only).size(), 2u);
}

TEST_F(LeaderboardTest, AClassOnTwoModelsIsTwoRows) {
  const TrialState done = TrialState::kDone;
  Add("x * sigmoid(beta * x)", "swish", 0.90, {}, done, 0, 900, "resnet20");
  Add("x * sigmoid(beta * x)", "swish", 0.92, {}, done, 0, 900, "resnet20");
  Add("x * sigmoid(beta * x)", "swish", 0.95, {}, done, 0, 900, "resnet56");
  Add("relu(x)", "relu", 0.94, {}, done, 0, 900, "resnet56");
  Add("relu(x)", "relu", 0.89, {}, done);  // the search's own child
  const auto rows = Query();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].fingerprint, "swish");
  EXPECT_EQ(rows[0].model, "resnet56");
  EXPECT_EQ(rows[0].trials, 1);
  EXPECT_EQ(rows[1].fingerprint, "relu");
  EXPECT_EQ(rows[1].model, "resnet56");
  EXPECT_EQ(rows[2].model, "resnet20");
  EXPECT_EQ(rows[2].trials, 2) << "not pooled with the resnet56 run";
  EXPECT_NEAR(rows[2].mean, 0.91, 1e-12);
  EXPECT_EQ(rows[3].fingerprint, "relu");
  EXPECT_EQ(rows[3].model, "");
}

TEST_F(LeaderboardTest, AnUnknownSearchOrStateIsAnError) {
  LeaderboardFilter unknown;
  unknown.search_id = 77;
  try {
    Query(unknown);
    ADD_FAILURE();
  } catch (const sql::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no search with id 77"), std::string::npos);
  }
  LeaderboardFilter bad_state;
  bad_state.states = {"finished"};
  EXPECT_THROW(Query(bad_state), sql::Error);
}

}  // namespace
}  // namespace actsearch::storage
