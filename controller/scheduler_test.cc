// The scheduler alone, on a real results database, without gRPC: the search rules (screened,
// repeats waiting on a class in flight, known classes), leases and their expiry, the attempt
// limit, budgets, failures, resume. Dispatch over gRPC is tested in tests/dispatch_test.cc.
#include "controller/scheduler.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "controller/exhaustive_strategy.h"
#include "controller/random_strategy.h"
#include "search_space/parser.h"
#include "storage/test_support.h"

namespace actsearch::controller {
namespace {

// Proposes the given expressions in order (each must be in the space), then nothing; records
// every reward it observes, by the expression proposed.
class ScriptedStrategy : public Strategy {
 public:
  ScriptedStrategy(const Space& space, std::vector<std::string> script)
      : space_(space), script_(std::move(script)) {}
  std::string name() const override { return "scripted"; }
  std::optional<Proposal> Propose() override {
    if (next_ == script_.size()) return std::nullopt;
    const std::optional<std::vector<int>> tokens = space_.Encode(Parse(script_[next_]));
    if (!tokens) throw std::invalid_argument(script_[next_] + " is not in the space");
    return Proposal{++next_, *tokens};  // proposal id i is script entry i - 1
  }
  void Observe(uint64_t id, double reward) override {
    observed.emplace_back(script_.at(id - 1), reward);
  }
  std::string SaveState() const override { return std::to_string(next_); }
  void RestoreState(const std::string& bytes) override { next_ = std::stoul(bytes); }

  std::vector<std::pair<std::string, double>> observed;

 private:
  const Space& space_;
  std::vector<std::string> script_;
  size_t next_ = 0;
};

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

TEST_F(SchedulerTest, TheSearchRules) {
  // Screened; a class; the same function spelled otherwise while the class trains (it waits),
  // and once its reward is known (it gets it, no training).
  ScriptedStrategy script(space_, {"x - x", "sin(x) + x", "x + sin(x)", "-x + -x", "sin(x) - -x"});
  auto scheduler = Make(script);
  const double now = storage::NowSeconds();
  const Assignment first = scheduler->Acquire(worker_, now);
  ASSERT_EQ(first.kind, Assignment::Kind::kTrial);
  EXPECT_EQ(first.trial.expression, "sin(x) + x") << "the screened candidate is never leased";
  ASSERT_EQ(script.observed.size(), 1u);
  EXPECT_EQ(script.observed[0], std::make_pair(std::string("x - x"), 0.0)) << "screened: 0";
  const Assignment second = scheduler->Acquire(worker_, now);
  ASSERT_EQ(second.kind, Assignment::Kind::kTrial);
  EXPECT_EQ(second.trial.expression, "-x + -x") << "x + sin(x) waits for its class in flight";
  EXPECT_EQ(script.observed.size(), 1u);
  scheduler->Report(worker_, first.trial.trial_id, Done(0.8), Blame::kCandidate);
  ASSERT_EQ(script.observed.size(), 3u) << "the class, and the proposal that waited on it";
  EXPECT_EQ(script.observed[2], std::make_pair(std::string("x + sin(x)"), 0.8));
  EXPECT_EQ(scheduler->Acquire(worker_, now).kind, Assignment::Kind::kWait) << "-x + -x trains";
  ASSERT_EQ(script.observed.size(), 4u);
  EXPECT_EQ(script.observed[3], std::make_pair(std::string("sin(x) - -x"), 0.8))
      << "a known class: its reward at once";
  scheduler->Report(worker_, second.trial.trial_id, Done(0.6), Blame::kCandidate);
  EXPECT_EQ(scheduler->Acquire(worker_, now).kind, Assignment::Kind::kFinished);
  EXPECT_EQ(CountState("done"), 2);
  EXPECT_EQ(CountState("screened"), 1);
}

TEST_F(SchedulerTest, AnExpiredLeaseIsRequeuedUntilTheAttemptLimitThenFailsWithRewardZero) {
  ScriptedStrategy script(space_, {"sin(x) + x"});
  options_.max_attempts = 2;
  options_.lease_seconds = 10;
  auto scheduler = Make(script);
  double now = storage::NowSeconds();
  const Assignment first = scheduler->Acquire(worker_, now);
  ASSERT_EQ(first.kind, Assignment::Kind::kTrial);
  EXPECT_EQ(first.trial.attempt, 1);
  scheduler->ExpireLeases(now + 5);
  EXPECT_EQ(CountState("leased"), 1) << "not yet expired";
  now += 11;
  scheduler->ExpireLeases(now);
  const Assignment second = scheduler->Acquire(worker_, now);
  ASSERT_EQ(second.kind, Assignment::Kind::kTrial);
  EXPECT_EQ(second.trial.trial_id, first.trial.trial_id);
  EXPECT_EQ(second.trial.attempt, 2);
  now += 11;
  scheduler->ExpireLeases(now);
  EXPECT_EQ(CountState("failed"), 1) << "no attempts left";
  ASSERT_EQ(script.observed.size(), 1u);
  EXPECT_EQ(script.observed[0].second, 0.0);
  EXPECT_EQ(scheduler->Acquire(worker_, now).kind, Assignment::Kind::kFinished);
}

TEST_F(SchedulerTest, TheTrialBudgetCountsTrainingsNotScreenedOrRepeatedCandidates) {
  ScriptedStrategy script(space_, {"x - x", "sin(x) + x", "x + sin(x)", "-x + -x", "sin(x) - x"});
  options_.max_trials = 2;
  auto scheduler = Make(script);
  const double now = storage::NowSeconds();
  int trained = 0;
  for (Assignment a = scheduler->Acquire(worker_, now); a.kind == Assignment::Kind::kTrial;
       a = scheduler->Acquire(worker_, now)) {
    scheduler->Report(worker_, a.trial.trial_id, Done(0.5), Blame::kCandidate);
    ++trained;
  }
  EXPECT_EQ(trained, 2) << "the screened candidate and the repeat were free";
  EXPECT_TRUE(scheduler->finished(now));
  EXPECT_EQ(scheduler->status(now).trials.trained(), 2);
}

TEST_F(SchedulerTest, AResumedSearchKeepsItsClassesAndWaitingProposals) {
  ScriptedStrategy script(space_, {"sin(x) + x", "x + sin(x)", "-x + -x"});
  auto scheduler = Make(script);
  const double now = storage::NowSeconds();
  const Assignment leased = scheduler->Acquire(worker_, now);
  ASSERT_EQ(leased.kind, Assignment::Kind::kTrial);
  scheduler->Acquire(worker_, now);  // x + sin(x) waits on its class; -x + -x is leased
  scheduler->SaveCheckpoint();
  scheduler.reset();  // the controller dies; its leases live on in the database
  ScriptedStrategy resumed_script(space_, {"sin(x) + x", "x + sin(x)", "-x + -x"});
  auto resumed = Make(resumed_script);
  resumed->Report(worker_, leased.trial.trial_id, Done(0.7), Blame::kCandidate);
  ASSERT_EQ(resumed_script.observed.size(), 2u) << "the class and the proposal that waited";
  EXPECT_EQ(resumed_script.observed[1], std::make_pair(std::string("x + sin(x)"), 0.7));
  EXPECT_EQ(CountState("leased"), 1) << "-x + -x's lease survived the restart";
}

}  // namespace
}  // namespace actsearch::controller

namespace actsearch::controller {
namespace {

// ASHA at rungs 10 and 30 of a 90-step child, eta 3.
StoppingSettings AshaAt10And30() {
  StoppingSettings s;
  s.rule = StoppingSettings::Rule::kAsha;
  s.budget = 90;
  s.evaluate_at = s.decide_at = {10, 30};
  return s;
}

TEST_F(SchedulerTest, AChildStoppedEarlyIsRecordedPrunedWithItsCurveAndAScaledReward) {
  ScriptedStrategy script(space_, {"sin(x) + x", "x - sin(x)", "sin(x) + sin(x)"});
  options_.stopping = AshaAt10And30();
  auto scheduler = Make(script);
  EXPECT_EQ(scheduler->evaluate_at(), (std::vector<int64_t>{10, 30}));
  const double now = storage::NowSeconds();
  const int64_t first = scheduler->Acquire(worker_, now).trial.trial_id;
  const int64_t second = scheduler->Acquire(worker_, now).trial.trial_id;
  // The first child leads the rung; the second trails it and is stopped there.
  EXPECT_EQ(scheduler->Heartbeat(worker_, first, now, Evaluation{10, 0.6}),
            HeartbeatAction::kContinue);
  EXPECT_EQ(scheduler->Heartbeat(worker_, second, now, Evaluation{10, 0.4}),
            HeartbeatAction::kEarlyStop);
  EXPECT_EQ(scheduler->Heartbeat(worker_, second, now, Evaluation{10, 0.4}),
            HeartbeatAction::kEarlyStop);  // asked again: the same verdict
  EXPECT_EQ(scheduler->Heartbeat(worker_, first, now, Evaluation{30, 0.7}),
            HeartbeatAction::kContinue);
  EXPECT_TRUE(scheduler->StoppedAt(second, 10));
  EXPECT_FALSE(scheduler->StoppedAt(first, 10));
  EXPECT_TRUE(scheduler->Report(worker_, first, Done(0.9)).accepted);  // gained 0.3 from 10

  storage::TrialResult pruned;
  pruned.state = storage::TrialState::kStoppedEarly;
  pruned.pruned = true;
  pruned.validation_accuracy = 0.4;
  pruned.steps = 10;
  pruned.learning_curve = "[[10,1.5,0.4]]";
  EXPECT_TRUE(scheduler->Report(worker_, second, pruned).accepted);
  // Its reward: 0.4 plus the gain from step 10 to the end of the child that trained on.
  ASSERT_EQ(script.observed.size(), 2u);
  EXPECT_NEAR(script.observed[1].second, 0.7, 1e-12);

  sql::Statement row = store_->database().Prepare(
      "SELECT t.state, r.pruned, r.steps, r.learning_curve, r.validation_accuracy, r.reward "
      "FROM trials t JOIN results r ON r.trial_id = t.id WHERE t.id = ?1");
  row.Bind(1, second).Step();
  EXPECT_EQ(row.Text(0), "stopped_early");
  EXPECT_EQ(row.Int(1), 1);
  EXPECT_EQ(row.Int(2), 10);
  EXPECT_EQ(row.Text(3), "[[10,1.5,0.4]]");
  EXPECT_DOUBLE_EQ(row.Double(4), 0.4);
  EXPECT_NEAR(row.Double(5), 0.7, 1e-12);
  const std::vector<storage::EvaluationRow> evaluations =
      store_->EvaluationsOfSearch(options_.search_id);
  ASSERT_EQ(evaluations.size(), 3u);
  EXPECT_EQ(evaluations[1].verdict, "stop");
}

TEST_F(SchedulerTest, AControllerKilledMidRungResumesWithTheSameRungs) {
  ScriptedStrategy script(
      space_, {"sin(x) + x", "x - sin(x)", "sin(x) + sin(x)", "sin(x) - x", "beta + sin(x)"});
  options_.stopping = AshaAt10And30();
  const double now = storage::NowSeconds();
  std::vector<int64_t> trials;
  {
    auto scheduler = Make(script);
    for (int i = 0; i < 4; ++i) trials.push_back(scheduler->Acquire(worker_, now).trial.trial_id);
    scheduler->Heartbeat(worker_, trials[0], now, Evaluation{10, 0.5});
    scheduler->Heartbeat(worker_, trials[1], now, Evaluation{10, 0.7});
    EXPECT_EQ(scheduler->Heartbeat(worker_, trials[2], now, Evaluation{10, 0.6}),
              HeartbeatAction::kEarlyStop);  // 2nd of 3: one place
    scheduler->SaveCheckpoint();
  }  // killed: nothing else saved
  ScriptedStrategy again(
      space_, {"sin(x) + x", "x - sin(x)", "sin(x) + sin(x)", "sin(x) - x", "beta + sin(x)"});
  auto resumed = Make(again);
  // The rung as it stood: 0.7, 0.6, 0.5. A fourth child at 0.65 is 2nd of 4 (two places).
  EXPECT_EQ(resumed->Heartbeat(worker_, trials[3], now, Evaluation{10, 0.65}),
            HeartbeatAction::kContinue);
  // The verdicts given before the crash stand, whatever a retried attempt reports.
  EXPECT_TRUE(resumed->StoppedAt(trials[2], 10));
  EXPECT_EQ(resumed->Heartbeat(worker_, trials[2], now, Evaluation{10, 0.99}),
            HeartbeatAction::kEarlyStop);
  EXPECT_EQ(resumed->Heartbeat(worker_, trials[0], now, Evaluation{10, 0.5}),
            HeartbeatAction::kContinue);
}

}  // namespace
}  // namespace actsearch::controller
