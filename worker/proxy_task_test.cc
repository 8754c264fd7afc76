#include "worker/proxy_task.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "search_space/parser.h"

namespace actsearch::worker {
namespace {

ProxyOptions Seeded(uint64_t seed) {
  ProxyOptions o;
  o.seed = seed;
  return o;
}

TEST(ProxyTask, ReluLearnsTheSpirals) {
  const TrainResult r = TrainProxy("relu", ProxyOptions{});
  EXPECT_EQ(r.status, TrainStatus::kDone) << r.error;
  EXPECT_GT(r.validation_accuracy, 0.9);
  ASSERT_TRUE(r.test_accuracy.has_value());
  EXPECT_GT(*r.test_accuracy, 0.9);
  ASSERT_TRUE(r.final_loss.has_value());
  EXPECT_LT(*r.final_loss, 0.3) << "chance is log 2 = 0.69";
  EXPECT_EQ(r.steps, 300);
  EXPECT_EQ(r.device, "cpu");
  EXPECT_EQ(r.parameters, (2 * 32 + 32) + (32 * 32 + 32) + (32 + 1));
  EXPECT_TRUE(r.error.empty());
}

TEST(ProxyTask, SwishLearnsTooWithItsBetasTrained) {
  const TrainResult r = TrainProxy("x * sigmoid(beta * x)", ProxyOptions{});
  EXPECT_EQ(r.status, TrainStatus::kDone) << r.error;
  EXPECT_GT(r.validation_accuracy, 0.9);
  EXPECT_EQ(r.parameters, 1185 + 2 * 32) << "one beta per unit in each hidden layer";
}

TEST(ProxyTask, ALinearNetworkCannotSeparateTheSpirals) {
  const TrainResult r = TrainProxy("x", ProxyOptions{});
  EXPECT_EQ(r.status, TrainStatus::kDone) << r.error;
  EXPECT_LT(r.validation_accuracy, 0.75);
}

TEST(ProxyTask, AConstantActivationScoresExactlyChance) {
  // Its logits ignore the input, and the classes alternate, so every split is half and half.
  const TrainResult r = TrainProxy("beta", ProxyOptions{});
  EXPECT_EQ(r.status, TrainStatus::kDone) << r.error;
  EXPECT_DOUBLE_EQ(r.validation_accuracy, 0.5);
}

TEST(ProxyTask, AnExplodingCandidateIsDivergedWithRewardZero) {
  const TrainResult r = TrainProxy("exp(exp(x))", ProxyOptions{});
  EXPECT_EQ(r.status, TrainStatus::kDiverged);
  EXPECT_EQ(r.validation_accuracy, 0.0);
  EXPECT_FALSE(r.final_loss.has_value());
  EXPECT_FALSE(r.test_accuracy.has_value());
  EXPECT_NE(r.error.find("non-finite"), std::string::npos) << r.error;
  EXPECT_LT(r.steps, 300);
}

TEST(ProxyTask, TheSameSeedRepeatsBitForBit) {
  const TrainResult a = TrainProxy("x * sigmoid(beta * x)", Seeded(7));
  const TrainResult b = TrainProxy("x * sigmoid(beta * x)", Seeded(7));
  ASSERT_EQ(a.status, TrainStatus::kDone) << a.error;
  EXPECT_EQ(a.validation_accuracy, b.validation_accuracy);
  EXPECT_EQ(a.test_accuracy, b.test_accuracy);
  EXPECT_EQ(a.final_loss, b.final_loss);
  ASSERT_EQ(a.curve.size(), b.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) {
    EXPECT_EQ(a.curve[i].loss, b.curve[i].loss) << "point " << i;
    EXPECT_EQ(a.curve[i].validation_accuracy, b.curve[i].validation_accuracy) << "point " << i;
  }
}

TEST(ProxyTask, AnotherSeedGivesOtherDataAndWeights) {
  const TrainResult a = TrainProxy("relu", Seeded(1));
  const TrainResult b = TrainProxy("relu", Seeded(2));
  ASSERT_TRUE(a.final_loss && b.final_loss);
  EXPECT_NE(*a.final_loss, *b.final_loss);
  EXPECT_NE(a.curve.front().loss, b.curve.front().loss);
}

TEST(ProxyTask, ConcurrentCallsGiveTheResultsOfSerialOnes) {
  const std::vector<std::string> activations = {"relu", "x * sigmoid(beta * x)", "tanh(x)"};
  std::vector<TrainResult> serial, concurrent(activations.size());
  for (const std::string& a : activations) serial.push_back(TrainProxy(a, Seeded(3)));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < activations.size(); ++i) {
    threads.emplace_back([&, i] { concurrent[i] = TrainProxy(activations[i], Seeded(3)); });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < activations.size(); ++i) {
    EXPECT_EQ(concurrent[i].final_loss, serial[i].final_loss) << activations[i];
    EXPECT_EQ(concurrent[i].validation_accuracy, serial[i].validation_accuracy) << activations[i];
  }
}

TEST(ProxyTask, LeavesTheGlobalGeneratorAlone) {
  torch::manual_seed(5);
  const torch::Tensor expected = torch::rand({4});
  torch::manual_seed(5);
  TrainProxy("x * sigmoid(beta * x)", ProxyOptions{});
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected));
}

TEST(ProxyTask, ReportsProgressEveryProgressEverySteps) {
  ProxyOptions o;
  o.steps = 120;
  o.progress_every = 40;
  std::vector<int64_t> steps;
  const TrainResult r = TrainProxy("relu", o, [&](const Progress& p) {
    steps.push_back(p.step);
    EXPECT_EQ(p.total_steps, 120);
    EXPECT_TRUE(std::isfinite(p.loss));
    EXPECT_TRUE(p.validation_accuracy.has_value());
    return true;
  });
  EXPECT_EQ(r.status, TrainStatus::kDone) << r.error;
  EXPECT_EQ(steps, (std::vector<int64_t>{40, 80, 120}));
  ASSERT_EQ(r.curve.size(), 3u);
  EXPECT_EQ(r.curve.back().step, 120);
  EXPECT_EQ(r.curve.back().validation_accuracy, r.validation_accuracy);
}

TEST(ProxyTask, AveragedWeightsChangeWhatEvaluationsJudgeNeverTheResult) {
  ProxyOptions o;
  o.progress_every = 0;
  o.evaluate_at = {30, 60, 90};
  const TrainResult current = TrainProxy("tanh(x)", o);
  o.evaluate_averaged_weights = true;
  const TrainResult averaged = TrainProxy("tanh(x)", o);
  ASSERT_EQ(averaged.status, TrainStatus::kDone) << averaged.error;
  EXPECT_EQ(averaged.validation_accuracy, current.validation_accuracy);
  EXPECT_EQ(averaged.final_loss, current.final_loss);
  ASSERT_EQ(averaged.curve.size(), 4u);
  int differs = 0;
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(averaged.curve[i].current_weights_accuracy) << i;
    EXPECT_EQ(averaged.curve[i].current_weights_accuracy, current.curve[i].validation_accuracy);
    differs += averaged.curve[i].validation_accuracy != current.curve[i].validation_accuracy;
  }
  EXPECT_GE(differs, 1) << "the averaged weights are other weights";
}

TEST(ProxyTask, UnderAveragedWeightsOnlyEvaluationsCarryAnAccuracy) {
  ProxyOptions o;
  o.progress_every = 15;
  o.evaluate_at = {30, 60, 90};
  o.evaluate_averaged_weights = true;
  const TrainResult r = TrainProxy("tanh(x)", o);
  ASSERT_EQ(r.status, TrainStatus::kDone) << r.error;
  for (const CurvePoint& p : r.curve) {
    const bool judged = p.step == 30 || p.step == 60 || p.step == 90;
    EXPECT_EQ(p.current_weights_accuracy.has_value(), judged) << p.step;
    // A curve mixing the two kinds of accuracy would read as a jagged line.
    EXPECT_EQ(p.validation_accuracy.has_value(), judged || p.step == r.steps) << p.step;
  }
}

TEST(ProxyTask, ProgressEveryZeroMeansNoCallbacksAndOneCurvePoint) {
  ProxyOptions o;
  o.steps = 60;
  o.progress_every = 0;
  int calls = 0;
  const TrainResult r = TrainProxy("relu", o, [&](const Progress&) {
    ++calls;
    return true;
  });
  EXPECT_EQ(calls, 0);
  ASSERT_EQ(r.curve.size(), 1u);
  EXPECT_EQ(r.curve[0].step, 60);
  ASSERT_TRUE(r.final_loss.has_value());
  EXPECT_GT(r.curve[0].loss, *r.final_loss) << "the mean of a falling loss exceeds its last value";
  EXPECT_TRUE(r.curve[0].validation_accuracy.has_value());
}

TEST(ProxyTask, AProgressCallbackReturningFalseStopsTheTrial) {
  ProxyOptions o;
  o.progress_every = 50;
  std::vector<int64_t> steps;
  const TrainResult r = TrainProxy("relu", o, [&](const Progress& p) {
    steps.push_back(p.step);
    return p.step < 100;
  });
  EXPECT_EQ(r.status, TrainStatus::kStopped);
  EXPECT_EQ(steps, (std::vector<int64_t>{50, 100}));
  EXPECT_EQ(r.steps, 100);
  EXPECT_EQ(r.validation_accuracy, 0.0) << "as TrainChild: a stopped trial has no reward";
}

TEST(ProxyTask, ATimeLimitEndsTheTrialAsTimedOut) {
  ProxyOptions o;
  o.time_limit_seconds = 1e-9;  // passed before the first step ends
  const TrainResult r = TrainProxy("relu", o);
  EXPECT_EQ(r.status, TrainStatus::kTimedOut);
  EXPECT_EQ(r.steps, 1);
  EXPECT_GE(r.validation_accuracy, 0.0);
  EXPECT_LE(r.validation_accuracy, 1.0);
  EXPECT_NE(r.error.find("time limit"), std::string::npos) << r.error;
}

TEST(ProxyTask, BadInputsThrow) {
  EXPECT_THROW(TrainProxy("x * sigmoid(beta x)", ProxyOptions{}), ParseError);
  ProxyOptions o;
  o.steps = 0;
  EXPECT_THROW(TrainProxy("relu", o), std::invalid_argument);
  o = ProxyOptions{};
  o.hidden = 0;
  EXPECT_THROW(TrainProxy("relu", o), std::invalid_argument);
  o = ProxyOptions{};
  o.learning_rate = 0;
  EXPECT_THROW(TrainProxy("relu", o), std::invalid_argument);
}

}  // namespace
}  // namespace actsearch::worker
