#include "worker/nesterov_sgd.h"

#include <gtest/gtest.h>

namespace actsearch::worker {
namespace {

// Two copies of the same small network, one trained with LibTorch's SGD, one with ours.
torch::nn::Sequential Network() {
  torch::manual_seed(7);
  return torch::nn::Sequential(torch::nn::Linear(5, 8), torch::nn::Tanh(), torch::nn::Linear(8, 3));
}

TEST(NesterovSgd, MakesExactlyTheUpdateOfLibTorchsSgdWithNesterovMomentum) {
  torch::nn::Sequential reference = Network(), ours = Network();
  const auto ref_params = reference->parameters(), our_params = ours->parameters();
  // Weights decayed, biases not, as the trainer groups them.
  auto group = [](const std::vector<torch::Tensor>& p, bool weights) {
    std::vector<torch::Tensor> out;
    for (const torch::Tensor& t : p) {
      if ((t.dim() > 1) == weights) out.push_back(t);
    }
    return out;
  };
  auto options = [](double wd) {
    return std::make_unique<torch::optim::SGDOptions>(
        torch::optim::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> ref_groups;
  ref_groups.emplace_back(group(ref_params, true), options(5e-4));
  ref_groups.emplace_back(group(ref_params, false), options(0));
  torch::optim::SGD reference_sgd(ref_groups, torch::optim::SGDOptions(0.1));
  NesterovSgd our_sgd({{group(our_params, true), 5e-4}, {group(our_params, false), 0}}, 0.9);

  const torch::Tensor x = torch::randn({16, 5});
  const torch::Tensor y = torch::randint(3, {16}, torch::kLong);
  for (int step = 0; step < 6; ++step) {
    const double lr = 0.1 / (1 + step);  // a changing schedule, as in training
    for (auto& g : reference_sgd.param_groups()) {
      static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
    }
    reference_sgd.zero_grad();
    torch::cross_entropy_loss(reference->forward(x), y).backward();
    reference_sgd.step();
    our_sgd.ZeroGradToNone();
    torch::cross_entropy_loss(ours->forward(x), y).backward();
    our_sgd.Step(lr);
    for (size_t i = 0; i < ref_params.size(); ++i) {
      ASSERT_TRUE(torch::allclose(our_params[i], ref_params[i], 1e-6, 1e-7))
          << "step " << step << ", parameter " << i;
    }
  }
  EXPECT_TRUE(our_sgd.momentum_buffer(0, 0).defined());
}

TEST(NesterovSgd, LeavesParametersWithoutAGradientAlone) {
  torch::Tensor used = torch::ones({3}, torch::requires_grad());
  torch::Tensor unused = torch::ones({3}, torch::requires_grad());
  NesterovSgd sgd({{{used, unused}, 0.1}}, 0.9);
  (used * 2).sum().backward();
  const torch::Tensor grad_before = used.grad().clone();
  sgd.Step(0.5);
  EXPECT_TRUE(torch::equal(unused, torch::ones({3})));
  EXPECT_FALSE(sgd.momentum_buffer(0, 1).defined());
  EXPECT_TRUE(torch::equal(used.grad(), grad_before)) << "gradients are not consumed";
  EXPECT_FALSE(torch::equal(used.detach(), torch::ones({3})));
}

}  // namespace
}  // namespace actsearch::worker
