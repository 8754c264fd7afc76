#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <set>

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

// Proposes one batch of `ppo` and observes it, the i-th proposal with reward(i).
std::vector<Proposal> ObserveOneBatch(PpoStrategy& ppo, int64_t size,
                                      const std::function<double(int)>& reward) {
  std::vector<Proposal> batch;
  for (int64_t i = 0; i < size; ++i) batch.push_back(*ppo.Propose());
  for (int i = 0; i < static_cast<int>(size); ++i) ppo.Observe(batch[i].id, reward(i));
  return batch;
}

// The current policy's log-probabilities and entropies of these proposals' sequences.
std::pair<torch::Tensor, torch::Tensor> Score(PpoStrategy& ppo, const std::vector<Proposal>& ps,
                                              const Space& space) {
  torch::NoGradGuard no_grad;
  torch::Tensor tokens =
      torch::empty({static_cast<int64_t>(ps.size()), space.num_steps()}, torch::kLong);
  for (size_t i = 0; i < ps.size(); ++i) {
    for (int s = 0; s < space.num_steps(); ++s) tokens[i][s] = ps[i].tokens[s];
  }
  return ppo.policy()->Evaluate(tokens);
}

std::vector<torch::Tensor> Snapshot(PpoStrategy& ppo) {
  std::vector<torch::Tensor> copies;
  for (const torch::Tensor& p : ppo.policy()->parameters()) copies.push_back(p.detach().clone());
  return copies;
}

bool SameParameters(PpoStrategy& a, PpoStrategy& b, double tolerance = 0) {
  const std::vector<torch::Tensor> pa = Snapshot(a), pb = Snapshot(b);
  for (size_t i = 0; i < pa.size(); ++i) {
    if (!torch::allclose(pa[i], pb[i], /*rtol=*/0, /*atol=*/tolerance)) return false;
  }
  return true;
}

PpoOptions OneBatchOfEight(uint64_t seed = 5) {
  PpoOptions options;
  options.batch_size = 8;
  options.learning_rate = 0.01;
  options.entropy_weight = 0;
  options.seed = seed;
  return options;
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

TEST(ClippedSurrogateLoss, StopsPushingASampleOnceItsRatioLeavesTheClipRange) {
  // Three samples whose probability doubled since they were drawn (ratio 2, beyond 1.2), one
  // unchanged (ratio 1). A positive advantage stops pulling at ratio 2; a negative one keeps
  // pushing down, since PPO's pessimistic bound takes the unclipped term there.
  const torch::Tensor log_prob = torch::full({4}, -3.0, torch::requires_grad());
  const torch::Tensor old_log_prob =
      torch::tensor({-3.0 - std::log(2.0), -3.0 - std::log(2.0), -3.0 - std::log(2.0), -3.0});
  const torch::Tensor advantage = torch::tensor({1.0, -1.0, 0.0, 1.0});
  const torch::Tensor loss = ClippedSurrogateLoss(log_prob, old_log_prob, advantage, 0.2);
  // -(min(2, 1.2) * 1 + min(-2, -1.2) + 0 + 1) / 4
  EXPECT_NEAR(loss.item<double>(), -(1.2 - 2.0 + 0.0 + 1.0) / 4, 1e-6);
  loss.backward();
  const torch::Tensor grad = log_prob.grad();
  EXPECT_EQ(grad[0].item<double>(), 0.0) << "clipped: a rise already past 1 + clip";
  EXPECT_NEAR(grad[1].item<double>(), 2.0 / 4, 1e-6) << "d(-ratio * -1 / 4)/dlog_prob";
  EXPECT_EQ(grad[2].item<double>(), 0.0);
  EXPECT_NEAR(grad[3].item<double>(), -1.0 / 4, 1e-6);
}

TEST(PpoStrategy, UpdateRaisesSamplesAboveTheBaselineAndLowersThoseBelow) {
  const Space space = TwoUnits();
  PpoStrategy ppo(&space, OneBatchOfEight());
  std::vector<Proposal> batch;
  for (int i = 0; i < 8; ++i) batch.push_back(*ppo.Propose());
  std::set<std::vector<int>> distinct;
  for (const Proposal& p : batch) distinct.insert(p.tokens);
  ASSERT_EQ(distinct.size(), 8u);
  const torch::Tensor before = Score(ppo, batch, space).first;
  // The first reward (0) starts the baseline: proposal 3 is above it, the rest below.
  for (int i = 0; i < 8; ++i) ppo.Observe(batch[i].id, i == 3 ? 1.0 : 0.0);
  ASSERT_EQ(ppo.updates(), 1);
  const torch::Tensor change = Score(ppo, batch, space).first - before;
  EXPECT_GT(change[3].item<double>(), 0.05);
  const double others = (change.sum() - change[3]).item<double>() / 7;
  EXPECT_LT(others, 0) << "the unrewarded samples should lose probability";
}

TEST(PpoStrategy, EveryLayerOfThePolicyLearns) {
  // Gradients reach the embedding and the LSTM through every step, not just the output head.
  const Space space = TwoUnits();
  PpoStrategy ppo(&space, OneBatchOfEight());
  const std::vector<torch::Tensor> before = Snapshot(ppo);
  ObserveOneBatch(ppo, 8, [](int i) { return 0.1 * i; });
  const auto named = ppo.policy()->named_parameters();
  for (size_t i = 0; i < named.size(); ++i) {
    EXPECT_FALSE(torch::equal(named[i].value(), before[i])) << named[i].key() << " never moved";
  }
}

TEST(PpoStrategy, EqualRewardsTeachNothingButTheEntropyBonusSpreadsThePolicy) {
  const Space space = TwoUnits();
  PpoStrategy plain(&space, OneBatchOfEight());
  const std::vector<torch::Tensor> before = Snapshot(plain);
  ObserveOneBatch(plain, 8, [](int) { return 0.5; });
  const std::vector<torch::Tensor> after = Snapshot(plain);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i]));

  PpoOptions options = OneBatchOfEight();
  options.entropy_weight = 0.1;
  PpoStrategy spread(&space, options);
  std::vector<Proposal> probe;
  for (int i = 0; i < 8; ++i) probe.push_back(*spread.Propose());
  const double entropy_before = Score(spread, probe, space).second.mean().item<double>();
  for (const Proposal& p : probe) spread.Observe(p.id, 0.5);
  const double entropy_after = Score(spread, probe, space).second.mean().item<double>();
  EXPECT_GT(entropy_after, entropy_before + 1e-3);
}

TEST(PpoStrategy, TopFractionLearnsFromTheBestOfABatchOnly) {
  // With the top quarter of 8, only the two best rewards matter: permuting the others changes
  // nothing. Against the EMA baseline every reward matters.
  const Space space = TwoUnits();
  const std::vector<double> rewards = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.9, 1.0};
  const std::vector<double> permuted = {0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.9, 1.0};
  for (const double top_fraction : {0.25, 1.0}) {
    PpoOptions options = OneBatchOfEight();
    options.top_fraction = top_fraction;
    PpoStrategy a(&space, options), b(&space, options);
    ObserveOneBatch(a, 8, [&](int i) { return rewards[i]; });
    ObserveOneBatch(b, 8, [&](int i) { return permuted[i]; });
    EXPECT_EQ(SameParameters(a, b), top_fraction < 1) << "top fraction " << top_fraction;
  }
  PpoOptions options = OneBatchOfEight();
  options.top_fraction = 0.25;
  PpoStrategy ppo(&space, options);
  std::vector<Proposal> batch;
  for (int i = 0; i < 8; ++i) batch.push_back(*ppo.Propose());
  const torch::Tensor before = Score(ppo, batch, space).first;
  for (int i = 0; i < 8; ++i) ppo.Observe(batch[i].id, rewards[i]);
  const torch::Tensor change = Score(ppo, batch, space).first - before;
  EXPECT_GT(change[7].item<double>(), 0.05) << "the best sample gains";
}

TEST(PpoStrategy, NormalizedAdvantagesMakeTheRewardScaleIrrelevant) {
  // The entropy bonus weighs the same against rewards in [0, 1] and in [0, 10] when the
  // advantages are normalised, and not otherwise.
  const Space space = TwoUnits();
  for (const bool normalize : {true, false}) {
    PpoOptions options = OneBatchOfEight();
    options.entropy_weight = 0.05;
    options.normalize_advantages = normalize;
    PpoStrategy small(&space, options), large(&space, options);
    ObserveOneBatch(small, 8, [](int i) { return 0.1 * i; });
    ObserveOneBatch(large, 8, [](int i) { return 1.0 * i; });
    EXPECT_EQ(SameParameters(small, large, 1e-5), normalize) << "normalize " << normalize;
  }
}

TEST(PpoStrategy, RejectsOptionsOutOfRange) {
  const Space space = TwoUnits();
  for (const double top_fraction : {0.0, -0.5, 1.5}) {
    PpoOptions options;
    options.top_fraction = top_fraction;
    EXPECT_THROW(PpoStrategy(&space, options), std::invalid_argument) << top_fraction;
  }
  PpoOptions options;
  options.batch_size = 0;
  EXPECT_THROW(PpoStrategy(&space, options), std::invalid_argument);
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

TEST(PpoStrategy, ANonFiniteRewardCountsAsZeroAndTheSearchGoesOn) {
  const Space space = TwoUnits();
  PpoStrategy ppo(&space, OneBatchOfEight());
  const double infinity = std::numeric_limits<double>::infinity();
  ObserveOneBatch(ppo, 8, [&](int i) {
    return i == 3 ? infinity : i == 5 ? std::nan("") : 0.1 * i;
  });
  EXPECT_EQ(ppo.updates(), 1);
  EXPECT_TRUE(std::isfinite(ppo.baseline()));
  for (const torch::Tensor& p : Snapshot(ppo)) EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(ppo.Propose().has_value()) << "the policy still draws";
}

TEST(PpoStrategy, AnUpdateThatGoesNonFiniteIsUndoneAndNeverCheckpointed) {
  const Space space = TwoUnits();
  PpoOptions options = OneBatchOfEight();
  options.learning_rate = 1e37;  // Adam steps take the weights to float's limit and past it
  PpoStrategy ppo(&space, options);
  const std::vector<torch::Tensor> before = Snapshot(ppo);
  ObserveOneBatch(ppo, 8, [](int i) { return 0.1 * i; });
  EXPECT_EQ(ppo.refused_updates(), 1);
  EXPECT_EQ(ppo.updates(), 0);
  const std::vector<torch::Tensor> after = Snapshot(ppo);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i]));
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(ppo.Propose().has_value());
  PpoStrategy restored(&space, options);
  EXPECT_NO_THROW(restored.RestoreState(ppo.SaveState()));
  EXPECT_TRUE(SameParameters(ppo, restored));
}

TEST(PpoStrategy, RefusesACheckpointWithNonFiniteWeights) {
  const Space space = TwoUnits();
  PpoStrategy broken(&space, OneBatchOfEight());
  {
    torch::NoGradGuard no_grad;
    broken.policy()->parameters()[0].fill_(std::nan(""));
  }
  PpoStrategy fresh(&space, OneBatchOfEight());
  try {
    fresh.RestoreState(broken.SaveState());
    FAIL() << "restored";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("not finite"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace actsearch::controller
