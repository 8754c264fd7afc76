// The scheduler alone, on a real results database: the rules a search's counters and failures
// follow. Dispatch over gRPC is tested in tests/dispatch_test.cc.
#include "controller/scheduler.h"

#include <gtest/gtest.h>

#include "controller/exhaustive_strategy.h"
#include "controller/random_strategy.h"
#include "search_space/parser.h"
#include "storage/test_support.h"

namespace actsearch::controller {
namespace {

class SchedulerTest : public storage::StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    store_ = std::make_unique<storage::ResultsStore>(Path("s.db"));
    options_.search_id = store_->CreateSearch("s", "space {}", 1);
    worker_ = store_->RegisterWorker("w", "cpu");
  }

  std::unique_ptr<Scheduler> Make(Strategy& strategy) {
    return std::make_unique<Scheduler>(*store_, space_, strategy, options_, storage::NowSeconds());
  }

  storage::TrialResult Done(double accuracy) {
    storage::TrialResult r;
    r.validation_accuracy = accuracy;
    return r;
  }
  storage::TrialResult Failed(const std::string& error) {
    storage::TrialResult r;
    r.state = storage::TrialState::kFailed;
    r.validation_accuracy = 0.0;
    r.error = error;
    return r;
  }

  int64_t CountState(const std::string& state) {
    sql::Statement q = store_->database().Prepare("SELECT COUNT(*) FROM trials WHERE state = ?1");
    q.Bind(1, state).Step();
    return q.Int(0);
  }

  // 32 sequences, several of them constant (x - x, beta + beta): screened classes.
  Space space_{SpaceSpec{1, ParseUnaryList("identity,neg,beta,sin"), ParseBinaryList("add,sub")}};
  std::unique_ptr<storage::ResultsStore> store_;
  SchedulerOptions options_;
  int64_t worker_ = 0;
};

TEST_F(SchedulerTest, ItsCountersAreTheDatabasesTrialsByState) {
  RandomStrategy random(&space_, 3);
  options_.max_trials = 4;
  auto scheduler = Make(random);
  double now = storage::NowSeconds();
  while (true) {
    const Assignment a = scheduler->Acquire(worker_, now);
    if (a.kind != Assignment::Kind::kTrial) break;
    scheduler->Report(worker_, a.trial.trial_id, Done(0.5));
  }
  const SchedulerStatus s = scheduler->status(now);
  EXPECT_EQ(s.trials.trained(), 4);
  EXPECT_EQ(s.trials.done, CountState("done"));
  EXPECT_EQ(s.trials.screened, CountState("screened")) << "one screened trial per class";
  EXPECT_GT(s.trials.screened, 0);
  EXPECT_GT(s.repeats, 0) << "random search proposes known classes again";
  auto rebuilt = Make(random);
  EXPECT_EQ(rebuilt->status(now).trials.screened, s.trials.screened) << "rebuilt from the rows";
  EXPECT_EQ(rebuilt->status(now).trials.done, s.trials.done);
}

TEST_F(SchedulerTest, AnEnvironmentFailureRequeuesTheTrialAndACandidateFailureIsFinal) {
  ExhaustiveStrategy exhaustive(&space_);
  options_.max_attempts = 2;
  options_.max_trials = 2;
  auto scheduler = Make(exhaustive);
  const double now = storage::NowSeconds();
  const Assignment a = scheduler->Acquire(worker_, now);
  ASSERT_EQ(a.kind, Assignment::Kind::kTrial);
  const ReportReceipt requeued =
      scheduler->Report(worker_, a.trial.trial_id, Failed("no data"), Blame::kEnvironment);
  EXPECT_TRUE(requeued.accepted);
  EXPECT_EQ(requeued.state, storage::TrialState::kQueued);
  EXPECT_EQ(scheduler->status(now).consecutive_failures, 1);
  EXPECT_EQ(scheduler->status(now).last_failure, "no data");
  const Assignment b = scheduler->Acquire(worker_, now);
  ASSERT_EQ(b.kind, Assignment::Kind::kTrial);
  EXPECT_NE(b.trial.trial_id, a.trial.trial_id) << "a new candidate before the retry";
  const ReportReceipt candidate =
      scheduler->Report(worker_, b.trial.trial_id, Failed("bad"), Blame::kCandidate);
  EXPECT_EQ(candidate.state, storage::TrialState::kFailed);
  EXPECT_EQ(scheduler->status(now).consecutive_failures, 0)
      << "a candidate's failure is an outcome, not an environment failure";
  const Assignment retry = scheduler->Acquire(worker_, now);
  ASSERT_EQ(retry.trial.trial_id, a.trial.trial_id) << "the budget is full: the retry";
  EXPECT_EQ(scheduler->Report(worker_, retry.trial.trial_id, Failed("no data"), Blame::kEnvironment)
                .state,
            storage::TrialState::kFailed)
      << "its attempts are spent";
  EXPECT_FALSE(scheduler->Report(worker_ + 1, b.trial.trial_id, Done(0.9)).accepted)
      << "it already has its result";
  EXPECT_TRUE(scheduler->finished(now));
}

TEST_F(SchedulerTest, EnvironmentFailuresInARowMakeTheSearchFail) {
  ExhaustiveStrategy exhaustive(&space_);
  options_.max_consecutive_failures = 3;
  auto scheduler = Make(exhaustive);
  const double now = storage::NowSeconds();
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(scheduler->failing());
    const Assignment a = scheduler->Acquire(worker_, now);
    ASSERT_EQ(a.kind, Assignment::Kind::kTrial);
    scheduler->Report(worker_, a.trial.trial_id, Failed("disk gone"), Blame::kEnvironment);
  }
  EXPECT_TRUE(scheduler->failing());
  EXPECT_EQ(scheduler->Acquire(worker_, now).kind, Assignment::Kind::kWait)
      << "nothing more is handed out";
  EXPECT_EQ(CountState("failed"), 0) << "nothing is blamed on the candidates";
  EXPECT_EQ(CountState("queued"), 3) << "three trials, each failed once, wait for a fix";
}

TEST_F(SchedulerTest, AFinishedSearchGoesOnWhenItsBudgetIsRaised) {
  ExhaustiveStrategy exhaustive(&space_);
  options_.max_trials = 2;
  auto scheduler = Make(exhaustive);
  const double now = storage::NowSeconds();
  for (int i = 0; i < 2; ++i) {
    const Assignment a = scheduler->Acquire(worker_, now);
    scheduler->Report(worker_, a.trial.trial_id, Done(0.1 * i));
  }
  EXPECT_TRUE(scheduler->finished(now));
  scheduler->SaveCheckpoint();
  ExhaustiveStrategy resumed_strategy(&space_);
  options_.max_trials = 3;
  auto resumed = Make(resumed_strategy);
  EXPECT_FALSE(resumed->finished(now));
  const Assignment third = resumed->Acquire(worker_, now);
  ASSERT_EQ(third.kind, Assignment::Kind::kTrial);
  resumed->Report(worker_, third.trial.trial_id, Done(0.3));
  EXPECT_TRUE(resumed->finished(now));
  EXPECT_EQ(CountState("done"), 3) << "no class trained twice, none lost";
}

TEST_F(SchedulerTest, AnUnknownWorkerLeavesTheQueueAsTheDatabaseHasIt) {
  RandomStrategy random(&space_, 3);
  options_.max_trials = 2;
  auto scheduler = Make(random);
  const double now = storage::NowSeconds();
  for (const int64_t stranger : {int64_t{0}, int64_t{-1}, int64_t{987654}}) {
    EXPECT_ANY_THROW(scheduler->Acquire(stranger, now)) << "the database refuses the lease";
  }
  EXPECT_EQ(CountState("queued"), 1) << "the refused lease queued one trial, once";
  EXPECT_EQ(scheduler->status(now).trials.queued, 1) << "and the scheduler still has it";
  int trained = 0;
  for (Assignment a = scheduler->Acquire(worker_, now); a.kind == Assignment::Kind::kTrial;
       a = scheduler->Acquire(worker_, now)) {
    scheduler->Report(worker_, a.trial.trial_id, Done(0.5), Blame::kCandidate);
    ++trained;
  }
  EXPECT_EQ(trained, 2);
  EXPECT_TRUE(scheduler->finished(now)) << "nothing stranded";
}

TEST_F(SchedulerTest, ACorruptLatestCheckpointFallsBackToTheNewestSoundOne) {
  RandomStrategy random(&space_, 3);
  options_.max_trials = 6;
  auto scheduler = Make(random);
  const double now = storage::NowSeconds();
  for (int i = 0; i < 3; ++i) {
    const Assignment a = scheduler->Acquire(worker_, now);
    scheduler->Report(worker_, a.trial.trial_id, Done(0.1 * i), Blame::kCandidate);
    scheduler->SaveCheckpoint();
  }
  store_->database().Execute(
      "UPDATE checkpoints SET data = x'0badf00d' WHERE id = (SELECT max(id) FROM checkpoints)");
  RandomStrategy resumed_strategy(&space_, 3);
  auto resumed = Make(resumed_strategy);
  EXPECT_NE(resumed->restore_note().find("the latest checkpoint is corrupt"), std::string::npos)
      << resumed->restore_note();
  for (Assignment a = resumed->Acquire(worker_, now); a.kind == Assignment::Kind::kTrial;
       a = resumed->Acquire(worker_, now)) {
    resumed->Report(worker_, a.trial.trial_id, Done(0.5), Blame::kCandidate);
  }
  EXPECT_TRUE(resumed->finished(now));
  EXPECT_EQ(CountState("done"), 6) << "the budget, once each";

  store_->database().Execute("UPDATE checkpoints SET data = x'0badf00d'");
  RandomStrategy hopeless(&space_, 3);
  EXPECT_THROW(Make(hopeless), StrategyStateError) << "no sound checkpoint left";
}

}  // namespace
}  // namespace actsearch::controller
