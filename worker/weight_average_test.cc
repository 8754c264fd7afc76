#include "worker/weight_average.h"

#include <gtest/gtest.h>

#include <cmath>

namespace actsearch::worker {
namespace {

// One parameter of one value, set by hand before each Update.
struct Scalar : torch::nn::Module {
  torch::Tensor w = register_parameter("w", torch::zeros({1}));
  void Set(double value) {
    torch::NoGradGuard no_grad;
    w.fill_(value);
  }
};

// A layer and the BatchNorm after it.
struct LinearNormImpl : torch::nn::Module {
  torch::nn::Linear linear = register_module("linear", torch::nn::Linear(3, 4));
  torch::nn::BatchNorm1d norm = register_module("norm", torch::nn::BatchNorm1d(4));
  torch::Tensor forward(const torch::Tensor& x) { return norm(linear(x)); }
};
TORCH_MODULE(LinearNorm);

// The average after `steps` steps whose weights were 1, 2, ..., steps, from the weight each
// step keeps: step s enters with (power + 1) / (s + power) and every later step u scales it by
// 1 - (power + 1) / (u + power).
double ExpectedAverage(int steps, double power) {
  double average = 0;
  for (int s = 1; s <= steps; ++s) {
    double weight = (power + 1) / (s + power);
    for (int u = s + 1; u <= steps; ++u) weight *= 1 - (power + 1) / (u + power);
    average += weight * s;
  }
  return average;
}

TEST(WeightAverage, PowerZeroIsThePlainMeanOfEveryStep) {
  Scalar net;
  WeightAverage average(net, /*last_step=*/10, /*power=*/0);
  for (int t = 1; t <= 10; ++t) {
    net.Set(t);
    average.Update();
  }
  const WeightAverage::Swapped swapped(average);
  EXPECT_NEAR(net.w.item<double>(), 5.5, 1e-6) << "the mean of 1..10";
}

TEST(WeightAverage, StepsAfterTheLastEvaluationAreNotFoldedIn) {
  Scalar net;
  WeightAverage average(net, /*last_step=*/4, /*power=*/0);
  for (int t = 1; t <= 8; ++t) {
    net.Set(t);
    average.Update();
  }
  const WeightAverage::Swapped swapped(average);
  EXPECT_NEAR(net.w.item<double>(), 2.5, 1e-6) << "the mean of 1..4";
}

TEST(LastEvaluationStep, IsTheLastEvaluationBeforeTheBudget) {
  EXPECT_EQ(LastEvaluationStep(300, {30, 90, 270}), 270);
  EXPECT_EQ(LastEvaluationStep(300, {30, 300}), 30) << "the end is no evaluation during it";
  EXPECT_EQ(LastEvaluationStep(300, {}, 100), 200);
  EXPECT_EQ(LastEvaluationStep(300, {250}, 100), 250);
  EXPECT_EQ(LastEvaluationStep(300, {}), 0);
}

TEST(WeightAverage, LargerPowersWeighRecentStepsMoreAndForgetTheStart) {
  for (double power : {1.0, 4.0}) {
    Scalar net;
    net.Set(-1000);  // the initialisation: no trace of it may stay
    WeightAverage average(net, /*last_step=*/30, power);
    for (int t = 1; t <= 30; ++t) {
      net.Set(t);
      average.Update();
    }
    const WeightAverage::Swapped swapped(average);
    EXPECT_NEAR(net.w.item<double>(), ExpectedAverage(30, power), 1e-4) << "power " << power;
    EXPECT_GT(net.w.item<double>(), 15.5) << "above the plain mean: recent steps weigh more";
  }
  EXPECT_GT(ExpectedAverage(30, 4), ExpectedAverage(30, 1));
}

TEST(WeightAverage, SwappingPutsTheNetworksOwnWeightsAndStatisticsBackBitForBit) {
  torch::manual_seed(5);
  LinearNorm net;
  torch::nn::AnyModule model(net);
  WeightAverage average(*net, /*last_step=*/5);
  torch::optim::SGD sgd(net->parameters(), 0.5);
  for (int t = 0; t < 5; ++t) {
    sgd.zero_grad();
    net->forward(torch::randn({8, 3})).pow(2).sum().backward();
    sgd.step();
    average.Update();
  }
  std::vector<torch::Tensor> before;
  for (const auto& p : net->parameters()) before.push_back(p.detach().clone());
  for (const auto& b : net->buffers()) before.push_back(b.detach().clone());
  {
    const WeightAverage::Swapped swapped(average);
    EXPECT_FALSE(torch::equal(net->parameters()[0], before[0])) << "the average is in";
    RecomputeBatchNormStatistics(model, {torch::randn({16, 3}) * 10});
  }
  std::vector<torch::Tensor> after;
  for (const auto& p : net->parameters()) after.push_back(p.detach());
  for (const auto& b : net->buffers()) after.push_back(b.detach());
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << i;
}

TEST(RecomputeBatchNormStatistics, SetsTheMeanAndVarianceOverTheBatchesAndKeepsTheMomentum) {
  torch::nn::BatchNorm1d norm(2);
  torch::nn::AnyModule model(norm);
  torch::manual_seed(6);
  const std::vector<torch::Tensor> batches = {torch::randn({50, 2}) * 3 + 7,
                                              torch::randn({50, 2}) * 3 + 9};
  RecomputeBatchNormStatistics(model, batches);
  // The plain mean over the batches of each batch's statistics, whatever came before.
  const torch::Tensor mean = (batches[0].mean(0) + batches[1].mean(0)) / 2;
  const torch::Tensor var = (batches[0].var(0) + batches[1].var(0)) / 2;
  EXPECT_TRUE(torch::allclose(norm->running_mean, mean, 1e-4, 1e-5)) << norm->running_mean;
  EXPECT_TRUE(torch::allclose(norm->running_var, var, 1e-4, 1e-5)) << norm->running_var;
  ASSERT_TRUE(norm->options.momentum().has_value());
  EXPECT_DOUBLE_EQ(*norm->options.momentum(), 0.1);
  EXPECT_TRUE(norm->is_training());
}

}  // namespace
}  // namespace actsearch::worker
