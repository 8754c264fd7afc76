#include <gtest/gtest.h>

#include <set>

#include "controller/exhaustive_strategy.h"
#include "controller/local_search.h"
#include "controller/random_strategy.h"
#include "search_space/parser.h"
#include "search_space/printer.h"

namespace actsearch::controller {
namespace {

Space SmallSpace() {
  return Space(
      SpaceSpec{1, ParseUnaryList("identity,neg,sin,tanh,beta"), ParseBinaryList("add,mul,max")});
}

TEST(RandomStrategy, DrawsLegalSequencesCoveringTheSpace) {
  const Space space = SmallSpace();  // 5 * 5 * 3 = 75 sequences
  RandomStrategy random(&space, 1);
  std::set<uint64_t> seen, ids;
  for (int i = 0; i < 2000; ++i) {
    const Proposal p = *random.Propose();
    ids.insert(p.id);
    seen.insert(space.IndexOf(p.tokens));  // throws for an illegal sequence
  }
  EXPECT_EQ(seen.size(), 75u) << "every sequence drawn";
  EXPECT_EQ(ids.size(), 2000u) << "ids are unique";
}

TEST(ExhaustiveStrategy, ProposesEachDistinctAcceptedClassOnceThenEnds) {
  const Space space = SmallSpace();
  ExhaustiveStrategy exhaustive(&space);
  std::set<Fingerprint> classes;
  std::vector<uint64_t> order;
  while (const auto p = exhaustive.Propose()) {
    const Program program(space.Decode(p->tokens));
    EXPECT_TRUE(Screen(program).accepted()) << ToString(space.Decode(p->tokens));
    EXPECT_TRUE(classes.insert(ComputeFingerprint(space.Decode(p->tokens))).second)
        << "a class twice";
    order.push_back(space.IndexOf(p->tokens));
  }
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << "enumeration order";
  EXPECT_EQ(classes.size() + exhaustive.skipped(), 75u);
  EXPECT_FALSE(exhaustive.Propose().has_value());
  EXPECT_EQ(classes.size(), SummarizeSpace(space, 75).distinct);
}

TEST(ExhaustiveStrategy, ResumesWhereItStoppedWithoutRepeatingAClass) {
  const Space space = SmallSpace();
  ExhaustiveStrategy first(&space);
  std::vector<std::vector<int>> all;
  while (const auto p = first.Propose()) all.push_back(p->tokens);
  ExhaustiveStrategy part(&space);
  for (int i = 0; i < 10; ++i) part.Propose();
  ExhaustiveStrategy resumed(&space, part.next_index());
  std::vector<std::vector<int>> rest;
  while (const auto p = resumed.Propose()) rest.push_back(p->tokens);
  EXPECT_EQ(rest, std::vector<std::vector<int>>(all.begin() + 10, all.end()));
}

TEST(LocalSearch, ScreenedGetZeroAndRepeatsTheirKnownRewardWithoutEvaluation) {
  const Space space = SmallSpace();
  RandomStrategy random(&space, 2);
  int calls = 0;
  const LocalSearchResult r = RunLocalSearch(
      random, space,
      [&](const Expr&) {
        ++calls;
        return 0.5 + 0.001 * calls;
      },
      1000, 3000);
  EXPECT_EQ(r.evaluations, calls);
  EXPECT_EQ(r.steps.size(), 3000u) << "the proposal budget ended it";
  std::map<std::string, double> rewards;
  int screened = 0, repeats = 0;
  for (const SearchStep& s : r.steps) {
    if (s.kind == SearchStep::Kind::kScreened) {
      EXPECT_EQ(s.reward, 0.0);
      ++screened;
    } else {
      if (s.kind == SearchStep::Kind::kRepeat) ++repeats;
      const auto [it, fresh] = rewards.emplace(s.expression, s.reward);
      EXPECT_EQ(it->second, s.reward) << s.expression << " scored twice differently";
    }
  }
  EXPECT_GT(screened, 0);  // e.g. beta + beta
  EXPECT_GT(repeats, 2000);
  EXPECT_LE(calls, 75);
}

TEST(LocalSearch, ExhaustiveSearchEndsCleanlyWhenTheSpaceIsDone) {
  const Space space = SmallSpace();
  ExhaustiveStrategy exhaustive(&space);
  const LocalSearchResult r = RunLocalSearch(
      exhaustive, space, [](const Expr&) { return 1.0; }, 1000, 1000);
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.evaluations, static_cast<int64_t>(r.steps.size()));
}

TEST(LocalSearch, StopsWhenTheStrategyOnlyRepeatsWhatItKnows) {
  // 75 sequences: random search soon knows every class and then only repeats them.
  const Space space = SmallSpace();
  RandomStrategy random(&space, 3);
  const LocalSearchResult r = RunLocalSearch(
      random, space, [](const Expr&) { return 0.5; }, 1000, 100000, nullptr, /*stall_after=*/200);
  EXPECT_TRUE(r.stalled);
  EXPECT_LT(r.steps.size(), 100000u);
  ASSERT_GE(r.steps.size(), 200u);
  for (size_t i = r.steps.size() - 200; i < r.steps.size(); ++i) {
    EXPECT_NE(r.steps[i].kind, SearchStep::Kind::kEvaluated);
  }
  EXPECT_LE(static_cast<uint64_t>(r.evaluations), SummarizeSpace(space, 75).distinct);
}

TEST(ClosenessTo, ScoresTheTargetsClassOneAndOthersLess) {
  const RewardFunction reward = ClosenessTo(Parse("x * sigmoid(x)"));
  EXPECT_DOUBLE_EQ(reward(Parse("sigmoid(x) * x")), 1.0);
  EXPECT_GT(reward(Parse("relu(x)")), reward(Parse("-x")));
  EXPECT_LT(reward(Parse("x^3")), 0.5);
  EXPECT_EQ(reward(Parse("exp(exp(x^2))")), 0.0) << "non-finite scores 0";
}

}  // namespace
}  // namespace actsearch::controller
