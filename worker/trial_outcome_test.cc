#include "worker/trial_outcome.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace actsearch::worker {
namespace {

// A training that ran to its end: a curve point without an evaluation, then the final one.
TrainResult Done() {
  TrainResult r;
  r.status = TrainStatus::kDone;
  r.validation_accuracy = 0.875;
  r.test_accuracy = 0.5;
  r.final_loss = 0.25;
  r.steps = 300;
  r.wall_seconds = 12.5;
  r.device = "cpu";
  r.curve = {{100, 0.75, std::nullopt, std::nullopt}, {300, 0.25, 0.875, std::nullopt}};
  r.parameters = 1234;
  return r;
}

TEST(TrialOutcome, ADoneTrainingKeepsEveryFigureFromTrainerToRow) {
  const proto::TrialOutcome wire = ToTrialOutcome(Done());
  EXPECT_EQ(wire.status(), proto::TrialOutcome::DONE);
  ASSERT_TRUE(wire.has_validation_accuracy());
  EXPECT_EQ(wire.validation_accuracy(), 0.875);
  ASSERT_TRUE(wire.has_test_accuracy());
  EXPECT_EQ(wire.test_accuracy(), 0.5);
  ASSERT_TRUE(wire.has_final_loss());
  EXPECT_EQ(wire.final_loss(), 0.25);
  ASSERT_EQ(wire.curve_size(), 2);
  EXPECT_FALSE(wire.curve(0).has_validation_accuracy());
  EXPECT_EQ(wire.curve(1).validation_accuracy(), 0.875);

  const storage::TrialResult row = ToTrialResult(wire);
  EXPECT_EQ(row.state, storage::TrialState::kDone);
  EXPECT_EQ(row.validation_accuracy, 0.875);
  EXPECT_EQ(row.test_accuracy, 0.5);
  EXPECT_EQ(row.loss, 0.25);
  EXPECT_EQ(row.learning_curve, "[[100,0.75,null],[300,0.25,0.875]]");
  EXPECT_EQ(row.steps, 300);
  EXPECT_EQ(row.wall_seconds, 12.5);
  EXPECT_EQ(row.device, "cpu");
  EXPECT_EQ(row.error, "");
}

TEST(TrialOutcome, AnAbsentTestAccuracyStaysAbsent) {
  TrainResult r = Done();
  r.test_accuracy.reset();
  const proto::TrialOutcome wire = ToTrialOutcome(r);
  EXPECT_FALSE(wire.has_test_accuracy());
  EXPECT_FALSE(ToTrialResult(wire).test_accuracy.has_value());
}

TEST(TrialOutcome, ADivergedTrainingSendsNoAccuracyAndNoLossAndIsStoredWithRewardZero) {
  TrainResult r;
  r.status = TrainStatus::kDiverged;
  r.validation_accuracy = 0;
  r.steps = 17;
  r.error = "non-finite loss by step 17";
  r.curve = {{10, 3.5, std::nullopt, std::nullopt}};
  const proto::TrialOutcome wire = ToTrialOutcome(r);
  EXPECT_EQ(wire.status(), proto::TrialOutcome::DIVERGED);
  EXPECT_FALSE(wire.has_validation_accuracy());
  EXPECT_FALSE(wire.has_test_accuracy());
  EXPECT_FALSE(wire.has_final_loss());

  const storage::TrialResult row = ToTrialResult(wire);
  EXPECT_EQ(row.state, storage::TrialState::kDiverged);
  EXPECT_EQ(row.validation_accuracy, 0.0);  // the reward
  EXPECT_FALSE(row.test_accuracy.has_value());
  EXPECT_FALSE(row.loss.has_value());  // NULL in the database
  EXPECT_EQ(row.learning_curve, "[[10,3.5,null]]");
  EXPECT_EQ(row.error, "non-finite loss by step 17");
}

TEST(TrialOutcome, ADivergedReportIsStoredWithRewardZeroWhateverItSays) {
  proto::TrialOutcome wire;
  wire.set_status(proto::TrialOutcome::DIVERGED);
  wire.set_validation_accuracy(0.9);
  EXPECT_EQ(ToTrialResult(wire).validation_accuracy, 0.0);
}

TEST(TrialOutcome, ATimedOutTrainingKeepsTheAccuracyItReachedAndStopsEarly) {
  TrainResult r = Done();
  r.status = TrainStatus::kTimedOut;
  r.test_accuracy.reset();
  r.error = "time limit of 5 s reached at step 120";
  const proto::TrialOutcome wire = ToTrialOutcome(r);
  EXPECT_EQ(wire.status(), proto::TrialOutcome::TIMED_OUT);
  EXPECT_EQ(wire.validation_accuracy(), 0.875);
  const storage::TrialResult row = ToTrialResult(wire);
  EXPECT_EQ(row.state, storage::TrialState::kStoppedEarly);
  EXPECT_EQ(row.validation_accuracy, 0.875);
  EXPECT_EQ(row.error, r.error);
}

TEST(TrialOutcome, AStoppedTrainingHasNoAccuracyAndStopsEarly) {
  TrainResult r = Done();
  r.status = TrainStatus::kStopped;
  r.validation_accuracy = 0;
  r.test_accuracy.reset();
  const proto::TrialOutcome wire = ToTrialOutcome(r);
  EXPECT_EQ(wire.status(), proto::TrialOutcome::STOPPED);
  EXPECT_FALSE(wire.has_validation_accuracy());
  const storage::TrialResult row = ToTrialResult(wire);
  EXPECT_EQ(row.state, storage::TrialState::kStoppedEarly);
  EXPECT_FALSE(row.validation_accuracy.has_value());
}

TEST(TrialOutcome, AFailedTrialIsStoredAsFailedWithRewardZero) {
  const proto::TrialOutcome wire =
      FailedOutcome("cuda:1", "/data/cifar: no such directory", /*candidate_at_fault=*/false);
  EXPECT_EQ(wire.status(), proto::TrialOutcome::FAILED);
  EXPECT_FALSE(wire.candidate_at_fault());
  const storage::TrialResult row = ToTrialResult(wire);
  EXPECT_EQ(row.state, storage::TrialState::kFailed);
  EXPECT_EQ(row.validation_accuracy, 0.0);
  EXPECT_EQ(row.learning_curve, "[]");
  EXPECT_EQ(row.device, "cuda:1");
  EXPECT_EQ(row.error, "/data/cifar: no such directory");
  EXPECT_TRUE(FailedOutcome("cpu", "parse error", true).candidate_at_fault());
}

TEST(TrialOutcome, ATrainingRecordedInProcessGetsTheRowOfItsReport) {
  for (const TrainStatus status : {TrainStatus::kDone, TrainStatus::kDiverged,
                                   TrainStatus::kTimedOut, TrainStatus::kStopped}) {
    TrainResult r = Done();
    r.status = status;
    const storage::TrialResult direct = ToTrialResult(r);
    const storage::TrialResult via_wire = ToTrialResult(ToTrialOutcome(r));
    EXPECT_EQ(direct.state, via_wire.state);
    EXPECT_EQ(direct.validation_accuracy, via_wire.validation_accuracy);
    EXPECT_EQ(direct.learning_curve, via_wire.learning_curve);
  }
}

TEST(TrialOutcome, ANonFiniteCurveLossIsWrittenAsNull) {
  proto::TrialOutcome wire;
  proto::CurvePoint* point = wire.add_curve();
  point->set_step(10);
  point->set_loss(std::numeric_limits<double>::infinity());
  EXPECT_EQ(ToTrialResult(wire).learning_curve, "[[10,null,null]]");
}

TEST(TrialOutcome, EachStatusHasOneNameInEveryForm) {
  EXPECT_STREQ(TrainStatusName(TrainStatus::kDone), "done");
  EXPECT_STREQ(TrainStatusName(TrainStatus::kDiverged), "diverged");
  EXPECT_STREQ(TrainStatusName(TrainStatus::kTimedOut), "timed_out");
  EXPECT_STREQ(TrainStatusName(TrainStatus::kStopped), "stopped");
  EXPECT_STREQ(OutcomeStatusName(proto::TrialOutcome::FAILED), "failed");
  EXPECT_STREQ(OutcomeStatusName(static_cast<proto::TrialOutcome::Status>(42)), "unknown");
  for (int value = proto::TrialOutcome::Status_MIN; value <= proto::TrialOutcome::Status_MAX;
       ++value) {
    const auto status = static_cast<proto::TrialOutcome::Status>(value);
    EXPECT_STRNE(OutcomeStatusName(status), "unknown") << value;
  }
  // Where the stored state has the same name, it is the status's own.
  for (const auto status :
       {proto::TrialOutcome::DONE, proto::TrialOutcome::DIVERGED, proto::TrialOutcome::FAILED}) {
    EXPECT_STREQ(storage::TrialStateName(StoredStateOf(status)), OutcomeStatusName(status));
  }
  EXPECT_EQ(StoredStateOf(static_cast<proto::TrialOutcome::Status>(42)),
            storage::TrialState::kFailed);
}

}  // namespace
}  // namespace actsearch::worker
