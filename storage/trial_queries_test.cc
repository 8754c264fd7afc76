#include "storage/trial_queries.h"

#include "storage/results_store.h"
#include "storage/test_support.h"

namespace actsearch::storage {
namespace {

class TrialQueriesTest : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    store_ = std::make_unique<ResultsStore>(Path("t.db"));
    search_ = store_->CreateSearch("s", "space {}", 1);
    worker_ = store_->RegisterWorker("gpu-0", "cuda:0");
  }

  int64_t Queue(const std::string& expression, int64_t search = 0) {
    NewCandidate c;
    c.search_id = search ? search : search_;
    c.expression = expression;
    c.fingerprint = expression;
    c.proposed_by = "random";
    return store_->QueueTrial(store_->AddCandidate(c), 7);
  }

  std::unique_ptr<ResultsStore> store_;
  int64_t search_ = 0;
  int64_t worker_ = 0;
};

TEST_F(TrialQueriesTest, ATrialShowsItsCandidateWorkerResultAndCurve) {
  const int64_t trial = Queue("x * sigmoid(beta * x)");
  ASSERT_TRUE(store_->LeaseTrial(trial, worker_, NowSeconds() + 60));
  TrialResult r;
  r.validation_accuracy = 0.9;
  r.test_accuracy = 0.89;
  r.steps = 300;
  r.wall_seconds = 12.5;
  r.device = "cuda:0";
  r.learning_curve = "[[100, 1.5, null], [300, 0.5, 0.9]]";
  ASSERT_TRUE(store_->RecordResult(trial, r));
  const std::optional<TrialInfo> t = FindTrial(store_->database(), trial);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->state, "done");
  EXPECT_EQ(t->expression, "x * sigmoid(beta * x)");
  EXPECT_EQ(t->worker, "gpu-0");
  EXPECT_EQ(t->attempt, 1);
  EXPECT_EQ(t->seed, 7);
  EXPECT_EQ(t->steps, 300);
  EXPECT_EQ(t->device, "cuda:0");
  EXPECT_TRUE(t->started_at.has_value());
  EXPECT_TRUE(t->finished_at.has_value());
  EXPECT_EQ(t->learning_curve, r.learning_curve);
  EXPECT_FALSE(FindTrial(store_->database(), 999).has_value());
}

TEST_F(TrialQueriesTest, ARequeuedFailureKeepsItsErrorAndTheLastAttemptFails) {
  const int64_t trial = Queue("sin(x)");
  TrialResult failure;
  failure.state = TrialState::kFailed;
  failure.validation_accuracy = 0.0;
  failure.error = "cifar10:/nope: no such directory";
  ASSERT_TRUE(store_->LeaseTrial(trial, worker_, NowSeconds() + 60));
  EXPECT_EQ(store_->RequeueOrFail(trial, worker_ + 1, failure, 2), std::nullopt)
      << "not this worker's lease";
  EXPECT_EQ(store_->RequeueOrFail(trial, worker_, failure, 2), TrialState::kQueued);
  TrialInfo t = *FindTrial(store_->database(), trial);
  EXPECT_EQ(t.state, "queued");
  EXPECT_EQ(t.error, failure.error) << "the last attempt's error, before any result";
  ASSERT_TRUE(store_->LeaseTrial(trial, worker_, NowSeconds() + 60));
  EXPECT_EQ(store_->RequeueOrFail(trial, worker_, failure, 2), TrialState::kFailed);
  t = *FindTrial(store_->database(), trial);
  EXPECT_EQ(t.state, "failed");
  EXPECT_EQ(t.attempt, 2);
  EXPECT_EQ(t.error, failure.error);
  EXPECT_TRUE(t.finished_at.has_value());
}

TEST_F(TrialQueriesTest, FiltersByStateWorkerTextAndSearchAndSortsByReward) {
  const int64_t other = store_->CreateSearch("other", "space {}", 1);
  const int64_t a = Queue("relu(x)");
  const int64_t b = Queue("x * tanh(x)");
  const int64_t c = Queue("sin(x)");
  Queue("cos(x)", other);
  for (const auto& [trial, accuracy] : {std::pair{a, 0.7}, std::pair{b, 0.9}}) {
    ASSERT_TRUE(store_->LeaseTrial(trial, worker_, NowSeconds() + 60));
    TrialResult r;
    r.validation_accuracy = accuracy;
    store_->RecordResult(trial, r);
  }
  TrialFilter filter;
  filter.search_id = search_;
  EXPECT_EQ(ListTrials(store_->database(), filter).size(), 3u);
  filter.states = {"queued"};
  ASSERT_EQ(ListTrials(store_->database(), filter).size(), 1u);
  EXPECT_EQ(ListTrials(store_->database(), filter)[0].trial_id, c);
  filter.states = {};
  filter.worker = "gpu-0";
  EXPECT_EQ(ListTrials(store_->database(), filter).size(), 2u);
  filter.worker = "";
  filter.expression_contains = "tanh";
  ASSERT_EQ(ListTrials(store_->database(), filter).size(), 1u);
  filter.expression_contains = "";
  filter.order = TrialFilter::Order::kReward;
  filter.limit = 2;
  const std::vector<TrialInfo> best = ListTrials(store_->database(), filter);
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0].trial_id, b);
  EXPECT_EQ(best[1].trial_id, a);
  EXPECT_EQ(ListTrials(store_->database(), TrialFilter{}).size(), 4u) << "every search";
  filter.states = {"finished"};
  EXPECT_THROW(ListTrials(store_->database(), filter), sql::Error);
}

}  // namespace
}  // namespace actsearch::storage
