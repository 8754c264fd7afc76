#include <gtest/gtest.h>

#include <numeric>

#include "controller/local_search.h"
#include "controller/ppo_strategy.h"
#include "controller/random_strategy.h"
#include "search_space/parser.h"

namespace actsearch::controller {
namespace {

Space TwoUnits() {
  return Space(SpaceSpec{2, ParseUnaryList("identity,neg,square,tanh,sigmoid,sin,relu"),
                         ParseBinaryList("add,sub,mul,max,min")});
}

TEST(Policy, DrawsOnlyLegalTokensAndScoresThemConsistently) {
  const Space space = TwoUnits();
  torch::manual_seed(0);
  Policy policy(&space);
  torch::Generator g = at::detail::createCPUGenerator(1);
  const std::vector<PolicyImpl::Sample> samples = policy->Draw(50, g);
  for (const PolicyImpl::Sample& s : samples) {
    EXPECT_NO_THROW(space.Decode(s.tokens));  // legal at every step
  }
  torch::Tensor tokens = torch::empty({50, space.num_steps()}, torch::kLong);
  for (int i = 0; i < 50; ++i) {
    for (int s = 0; s < space.num_steps(); ++s) tokens[i][s] = samples[i].tokens[s];
  }
  const auto [log_prob, entropy] = policy->Evaluate(tokens);
  for (int i = 0; i < 50; ++i) {
    EXPECT_NEAR(log_prob[i].item<double>(), samples[i].log_prob, 1e-4);
  }
  EXPECT_TRUE((entropy > 0).all().item<bool>());
  // Unit 1 can only take x: those two steps contribute no entropy and no choice.
  EXPECT_EQ(space.choices(0).size(), 1u);
}

TEST(PpoStrategy, UpdatesOnBatchesOfRewardsThatArriveOutOfOrder) {
  const Space space = TwoUnits();
  PpoOptions options;
  options.batch_size = 8;
  PpoStrategy ppo(&space, options);
  std::vector<Proposal> pending;
  for (int i = 0; i < 16; ++i) pending.push_back(*ppo.Propose());
  for (auto it = pending.rbegin(); it != pending.rend(); ++it)
    ppo.Observe(it->id, 0.1 * (it->id % 3));
  EXPECT_EQ(ppo.updates(), 2);
  EXPECT_THROW(ppo.Observe(pending[0].id, 1.0), std::invalid_argument) << "observed twice";
}

TEST(PpoStrategy, LearnsToPreferRewardedCandidates) {
  // Reward: closeness to max(x, sin(x)) * tanh(x). After training, the policy's samples should
  // score clearly better on average than its first ones.
  const Space space = TwoUnits();
  const RewardFunction reward = ClosenessTo(Parse("tanh(x) * max(x, sin(x))"));
  PpoOptions options;
  options.learning_rate = 0.005;
  options.batch_size = 20;
  options.seed = 3;
  PpoStrategy ppo(&space, options);
  auto mean_reward = [&](int n) {
    double total = 0;
    for (int i = 0; i < n; ++i) {
      const Proposal p = *ppo.Propose();
      const double r = reward(space.Decode(p.tokens));
      ppo.Observe(p.id, r);
      total += r;
    }
    return total / n;
  };
  const double before = mean_reward(40);
  for (int round = 0; round < 15; ++round) mean_reward(40);
  const double after = mean_reward(40);
  EXPECT_GT(after, before + 0.1) << "before " << before << ", after " << after;
}

}  // namespace
}  // namespace actsearch::controller
