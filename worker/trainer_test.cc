#include "worker/trainer.h"

#include <gtest/gtest.h>

#include "worker/synthetic.h"

namespace actsearch::worker {
namespace {

const DatasetSplits& Synthetic() {
  static const DatasetSplits data = MakeSyntheticDataset(1200, 300, 4, 11);
  return data;
}

TrainOptions Small(const std::string& activation, int64_t steps) {
  TrainOptions o;
  o.activation = activation;
  o.profile = ProfileByName("test");
  o.profile.steps = steps;
  o.profile.eval_every = 0;
  o.depth = 8;
  o.seed = 3;
  return o;
}

TEST(Trainer, ATinyResNetLearnsTheSyntheticTask) {
  const TrainResult r = TrainChild(Synthetic(), Small("relu", 120));
  EXPECT_EQ(r.status, TrainStatus::kDone) << r.error;
  EXPECT_GT(r.validation_accuracy, 0.6) << "chance is 0.25";
  ASSERT_TRUE(r.test_accuracy.has_value());
  EXPECT_GT(*r.test_accuracy, 0.6);
  EXPECT_EQ(r.steps, 120);
  EXPECT_FALSE(r.curve.empty());
}

TEST(Trainer, SwishLearnsToo) {
  const TrainResult r = TrainChild(Synthetic(), Small("x * sigmoid(beta * x)", 120));
  EXPECT_EQ(r.status, TrainStatus::kDone) << r.error;
  EXPECT_GT(r.validation_accuracy, 0.6);
}

TEST(Trainer, AConstantActivationScoresNearChance) {
  const TrainResult r = TrainChild(Synthetic(), Small("beta", 120));
  EXPECT_EQ(r.status, TrainStatus::kDone);
  EXPECT_LT(r.validation_accuracy, 0.45);
}

TEST(Trainer, AnExplodingCandidateEndsAsDivergedNotACrash) {
  const TrainResult r = TrainChild(Synthetic(), Small("exp(exp(x))", 60));
  EXPECT_EQ(r.status, TrainStatus::kDiverged);
  EXPECT_EQ(r.validation_accuracy, 0.0);
  EXPECT_NE(r.error.find("non-finite"), std::string::npos) << r.error;
  EXPECT_LT(r.steps, 60);
}

TEST(Trainer, ASeededCpuRunRepeatsExactly) {
  TrainOptions o = Small("x * sigmoid(beta * x)", 30);
  o.profile.progress_every = 5;
  const TrainResult a = TrainChild(Synthetic(), o);
  const TrainResult b = TrainChild(Synthetic(), o);
  ASSERT_EQ(a.curve.size(), b.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) EXPECT_EQ(a.curve[i].loss, b.curve[i].loss);
  EXPECT_EQ(a.validation_accuracy, b.validation_accuracy);
  o.seed = 4;
  const TrainResult c = TrainChild(Synthetic(), o);
  EXPECT_NE(a.curve.front().loss, c.curve.front().loss) << "another seed, another run";
}

TEST(Trainer, ReportsProgressAndStopsWhenAsked) {
  TrainOptions o = Small("relu", 50);
  o.profile.progress_every = 10;
  std::vector<int64_t> steps;
  const TrainResult r = TrainChild(Synthetic(), o, [&](const Progress& p) {
    steps.push_back(p.step);
    EXPECT_EQ(p.total_steps, 50);
    EXPECT_TRUE(std::isfinite(p.loss));
    return p.step < 30;  // the controller says stop after step 30
  });
  EXPECT_EQ(steps, (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(r.status, TrainStatus::kStopped);
  EXPECT_EQ(r.steps, 30);
}

TEST(Trainer, AWallClockLimitEndsTheTrialAsTimedOut) {
  TrainOptions o = Small("relu", 100000);
  o.time_limit_seconds = 0.5;
  const TrainResult r = TrainChild(Synthetic(), o);
  EXPECT_EQ(r.status, TrainStatus::kTimedOut);
  EXPECT_LT(r.steps, 100000);
  EXPECT_LT(r.wall_seconds, 30);
}

TEST(TrainingProfile, WarmsUpThenDecaysToZero) {
  const TrainingProfile p = ProfileByName("paper");
  EXPECT_EQ(p.steps, 10000);
  EXPECT_EQ(p.batch_size, 128);
  EXPECT_LT(LearningRateAt(p, 0), 0.01);
  EXPECT_NEAR(LearningRateAt(p, 499), 0.1, 1e-9);
  EXPECT_LT(LearningRateAt(p, 9999), 1e-6);
  EXPECT_THROW(ProfileByName("fast"), std::invalid_argument);
}

}  // namespace
}  // namespace actsearch::worker
