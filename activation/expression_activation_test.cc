#include "activation/expression_activation.h"

#include <gtest/gtest.h>

#include "search_space/parser.h"

namespace actsearch {
namespace {

ExpressionActivation Make(const std::string& text, int64_t channels, bool fused = true) {
  return ExpressionActivation(ExpressionActivationOptions(Parse(text), channels).fused(fused));
}

TEST(ExpressionActivation, SwishHasOneTrainableBetaPerChannelStartingAtOne) {
  auto swish = Make("x * sigmoid(beta * x)", 5);
  const auto parameters = swish->named_parameters();
  ASSERT_EQ(parameters.size(), 1u);
  EXPECT_EQ(swish->betas().sizes(), (std::vector<int64_t>{1, 5}));
  EXPECT_TRUE(torch::equal(swish->betas(), torch::ones({1, 5})));
  EXPECT_EQ(Make("cos(x) - x", 5)->parameters().size(), 0u) << "no betas, no parameter";
}

TEST(ExpressionActivation, EachChannelsBetaReceivesItsOwnGradient) {
  torch::manual_seed(3);
  auto swish = Make("x * sigmoid(beta * x)", 4);
  torch::Tensor x = torch::randn({8, 4, 6, 6});
  x.select(1, 2).zero_();  // channel 2 sees only zeros: its beta gradient is exactly 0
  swish->forward(x).pow(2).sum().backward();
  const torch::Tensor grad = swish->betas().grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_EQ(grad[0][2].item<float>(), 0.0f);
  EXPECT_NE(grad[0][0].item<float>(), 0.0f);
  EXPECT_NE(grad[0][0].item<float>(), grad[0][1].item<float>());
}

TEST(ExpressionActivation, FusedAndUnfusedModulesAgree) {
  torch::manual_seed(4);
  const torch::Tensor x =
      torch::randn({4, 3, 8, 8}).contiguous(torch::MemoryFormat::ChannelsLast).requires_grad_();
  for (const char* text : {"x * sigmoid(beta * x)", "min(x, sin(x))", "rbf(x, beta * x) * x"}) {
    auto fused = Make(text, 3, true);
    auto unfused = Make(text, 3, false);
    const torch::Tensor a = fused->forward(x);
    const torch::Tensor b = unfused->forward(x);
    EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6)) << text;
    a.sum().backward();
    b.sum().backward();
    if (!fused->parameters().empty()) {
      EXPECT_TRUE(torch::allclose(fused->betas().grad(), unfused->betas().grad(), 1e-4, 1e-5))
          << text;
    }
  }
}

TEST(ExpressionActivation, TrainsItsBetaWithAnOptimizer) {
  // Fit x * sigmoid(beta * x) to ReLU: beta must grow.
  torch::manual_seed(5);
  auto swish = Make("x * sigmoid(beta * x)", 1);
  torch::optim::SGD sgd(swish->parameters(), torch::optim::SGDOptions(0.5));
  const torch::Tensor x = torch::randn({256, 1});
  for (int step = 0; step < 50; ++step) {
    sgd.zero_grad();
    (swish->forward(x) - x.relu()).pow(2).mean().backward();
    sgd.step();
  }
  EXPECT_GT(swish->betas().item<float>(), 1.5f);
}

TEST(ExpressionActivation, RejectsInputWithTheWrongChannelCount) {
  auto swish = Make("x * sigmoid(beta * x)", 4);
  EXPECT_THROW(swish->forward(torch::randn({2, 3, 4, 4})), c10::Error);
}

}  // namespace
}  // namespace actsearch
