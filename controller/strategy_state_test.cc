// Strategy checkpoints: a strategy saved mid-search and restored into a fresh instance (built
// with another seed, so nothing survives by accident) carries on exactly like the original.
#include <gtest/gtest.h>

#include <functional>

#include "controller/exhaustive_strategy.h"
#include "controller/ppo_strategy.h"
#include "controller/random_strategy.h"
#include "search_space/parser.h"

namespace actsearch::controller {
namespace {

Space TwoUnits() {
  return Space(SpaceSpec{2, ParseUnaryList("identity,neg,square,tanh,sigmoid,sin,relu"),
                         ParseBinaryList("add,sub,mul,max,min")});
}

Space OneUnit() {
  return Space(
      SpaceSpec{1, ParseUnaryList("identity,neg,sin,tanh,beta"), ParseBinaryList("add,mul,max")});
}

// A reward that depends on the tokens only, so both strategies see the same rewards.
double FakeReward(const Proposal& p) {
  double r = 0;
  for (size_t i = 0; i < p.tokens.size(); ++i) r += (p.tokens[i] * (i + 3)) % 7;
  return r / 40.0;
}

// `search_settings`: the bench's way of learning (best of each batch, normalised advantages),
// whose open batch needs its rewards restored too.
PpoOptions SmallBatches(uint64_t seed, bool search_settings = false) {
  PpoOptions options;
  if (search_settings) {
    options.top_fraction = 0.25;
    options.normalize_advantages = true;
    options.entropy_weight = 0.01;
  }
  options.batch_size = 8;
  options.learning_rate = 0.01;  // large steps, so that a lost optimizer state would show
  options.seed = seed;
  return options;
}

void ExpectSameParameters(PpoStrategy& a, PpoStrategy& b) {
  const auto pa = a.policy()->named_parameters();
  const auto pb = b.policy()->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i].value(), pb[i].value())) << pa[i].key();
  }
}

// Proposes `count` from both, observes them (in reverse order), and expects the same tokens.
void ProposeAndObserveBoth(Strategy& original, Strategy& restored, int count) {
  std::vector<Proposal> from_original, from_restored;
  for (int i = 0; i < count; ++i) {
    from_original.push_back(*original.Propose());
    from_restored.push_back(*restored.Propose());
    EXPECT_EQ(from_original.back().id, from_restored.back().id);
    EXPECT_EQ(from_original.back().tokens, from_restored.back().tokens) << "proposal " << i;
  }
  for (int i = count - 1; i >= 0; --i) {
    original.Observe(from_original[i].id, FakeReward(from_original[i]));
    restored.Observe(from_restored[i].id, FakeReward(from_restored[i]));
  }
}

class PpoCheckpoint : public testing::TestWithParam<bool> {};

TEST_P(PpoCheckpoint, RestoredMidBatchProposesAndLearnsExactlyLikeTheOriginal) {
  const Space space = TwoUnits();
  PpoStrategy original(&space, SmallBatches(1, GetParam()));
  // 13 proposals: two draws of 8, three drawn but not proposed yet. 10 observed: one update,
  // two in the open batch, three pending.
  std::vector<Proposal> proposals;
  for (int i = 0; i < 13; ++i) proposals.push_back(*original.Propose());
  for (int i : {4, 0, 9, 2, 7, 1, 3, 8, 6, 5}) {
    original.Observe(proposals[i].id, FakeReward(proposals[i]));
  }
  ASSERT_EQ(original.updates(), 1);

  const std::string bytes = original.SaveState();
  PpoStrategy restored(&space, SmallBatches(99, GetParam()));
  restored.RestoreState(bytes);
  ExpectSameParameters(original, restored);
  EXPECT_EQ(restored.updates(), 1);
  EXPECT_EQ(restored.baseline(), original.baseline());

  // The pending proposals are observed after the restore, completing the open batch.
  for (int i : {12, 10, 11}) {
    original.Observe(proposals[i].id, FakeReward(proposals[i]));
    restored.Observe(proposals[i].id, FakeReward(proposals[i]));
  }
  ProposeAndObserveBoth(original, restored, 40);
  EXPECT_EQ(original.updates(), 6);  // 53 observations, batches of 8
  EXPECT_EQ(restored.updates(), original.updates());
  EXPECT_EQ(restored.baseline(), original.baseline());
  ExpectSameParameters(original, restored);
  EXPECT_THROW(restored.Observe(proposals[12].id, 0.5), std::invalid_argument)
      << "observed twice across the restore";
}

INSTANTIATE_TEST_SUITE_P(PaperAndSearchSettings, PpoCheckpoint, testing::Bool());

TEST(PpoCheckpointGuard, TwoSeedsReallyDiffer) {
  // Guards the checkpoint tests: two seeds give different proposals and weights.
  const Space space = TwoUnits();
  PpoStrategy a(&space, SmallBatches(1)), b(&space, SmallBatches(99));
  std::vector<std::vector<int>> from_a, from_b;
  for (int i = 0; i < 8; ++i) {
    from_a.push_back(a.Propose()->tokens);
    from_b.push_back(b.Propose()->tokens);
  }
  EXPECT_NE(from_a, from_b);
  EXPECT_FALSE(torch::equal(a.policy()->parameters()[0], b.policy()->parameters()[0]));
}

TEST(RandomCheckpoint, RestoredProposesTheSameSequence) {
  const Space space = TwoUnits();
  RandomStrategy original(&space, 1);
  for (int i = 0; i < 17; ++i) original.Propose();
  RandomStrategy restored(&space, 2);
  restored.RestoreState(original.SaveState());
  ProposeAndObserveBoth(original, restored, 50);
}

TEST(ExhaustiveCheckpoint, RestoredContinuesTheWalkWithoutRepeatingAClass) {
  const Space space = OneUnit();
  ExhaustiveStrategy original(&space);
  for (int i = 0; i < 10; ++i) original.Propose();
  ExhaustiveStrategy restored(&space);
  restored.RestoreState(original.SaveState());
  EXPECT_EQ(restored.next_index(), original.next_index());
  EXPECT_EQ(restored.skipped(), original.skipped());
  int rest = 0;
  while (const auto p = original.Propose()) {
    const auto q = restored.Propose();
    ASSERT_TRUE(q.has_value());
    EXPECT_EQ(q->id, p->id);
    EXPECT_EQ(q->tokens, p->tokens);
    ++rest;
  }
  EXPECT_GT(rest, 0);
  EXPECT_FALSE(restored.Propose().has_value());
}

// Expects RestoreState to throw StrategyStateError mentioning `words`, and the strategy to
// propose afterwards exactly what an untouched twin proposes.
void ExpectRejected(Strategy& strategy, Strategy& twin, const std::string& bytes,
                    const std::string& words) {
  try {
    strategy.RestoreState(bytes);
    ADD_FAILURE() << "restored from bad bytes (" << words << ")";
  } catch (const StrategyStateError& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(strategy.Propose()->tokens, twin.Propose()->tokens);
}

TEST(StrategyCheckpoint, BadBytesGiveAClearErrorAndChangeNothing) {
  const Space space = TwoUnits();
  const Space other_space = OneUnit();
  PpoStrategy ppo(&space, SmallBatches(1)), ppo_twin(&space, SmallBatches(1));
  RandomStrategy random(&space, 1), random_twin(&space, 1);
  ExhaustiveStrategy exhaustive(&space), exhaustive_twin(&space);
  const std::string good = ppo.SaveState();

  ExpectRejected(ppo, ppo_twin, "", "not a strategy checkpoint");
  ExpectRejected(ppo, ppo_twin, "not a checkpoint at all", "not a strategy checkpoint");
  ExpectRejected(ppo, ppo_twin, good.substr(0, good.size() / 2), "corrupt or truncated");
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x5a;
  ExpectRejected(ppo, ppo_twin, flipped, "corrupt or truncated");
  ExpectRejected(ppo, ppo_twin, random.SaveState(), "of a random strategy");
  ExpectRejected(random, random_twin, good, "of a ppo strategy");
  ExpectRejected(exhaustive, exhaustive_twin, good, "of a ppo strategy");

  PpoStrategy ppo_other_space(&other_space, SmallBatches(1));
  ExpectRejected(ppo, ppo_twin, ppo_other_space.SaveState(), "of another space");
  RandomStrategy random_other_space(&other_space, 1);
  ExpectRejected(random, random_twin, random_other_space.SaveState(), "of another space");
  ExhaustiveStrategy exhaustive_other_space(&other_space);
  ExpectRejected(exhaustive, exhaustive_twin, exhaustive_other_space.SaveState(),
                 "of another space");

  PpoOptions smaller = SmallBatches(1);
  smaller.policy.hidden = 50;
  PpoStrategy ppo_smaller(&space, smaller);
  ExpectRejected(ppo, ppo_twin, ppo_smaller.SaveState(), "another shape");
}

}  // namespace
}  // namespace actsearch::controller
