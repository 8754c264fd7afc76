#include "controller/stopping_rule.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "controller/search_config.h"

namespace actsearch::controller {
namespace {

proto::SearchConfig Config(const std::string& text) {
  proto::SearchConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

const std::string kProxy900 = "child { proxy { steps: 900 } } ";

TEST(StoppingRule, WithoutEarlyStoppingNothingIsEvaluated) {
  const StoppingSettings s = StoppingSettingsOf(Config(kProxy900));
  EXPECT_EQ(s.rule, StoppingSettings::Rule::kNone);
  EXPECT_EQ(s.budget, 900);
  EXPECT_TRUE(s.evaluate_at.empty());
}

TEST(StoppingRule, AshaRungsAreTheBudgetOverPowersOfEta) {
  const StoppingSettings s = StoppingSettingsOf(Config(kProxy900 + "early_stopping { asha {} }"));
  EXPECT_EQ(s.rule, StoppingSettings::Rule::kAsha);
  EXPECT_EQ(s.decide_at, (std::vector<int64_t>{100, 300}));
  EXPECT_EQ(s.evaluate_at, s.decide_at);
  const StoppingSettings four = StoppingSettingsOf(
      Config(kProxy900 + "early_stopping { evaluate_every: 200 asha { eta: 2 min_steps: 100 } }"));
  EXPECT_EQ(four.decide_at, (std::vector<int64_t>{100, 200, 400, 800}));
  EXPECT_EQ(four.evaluate_at, (std::vector<int64_t>{100, 200, 400, 600, 800}));
}

TEST(StoppingRule, MedianDecidesAfterTheGraceSteps) {
  const StoppingSettings s =
      StoppingSettingsOf(Config(kProxy900 + "early_stopping { median { min_peers: 2 } }"));
  EXPECT_EQ(s.evaluate_at, (std::vector<int64_t>{90, 180, 270, 360, 450, 540, 630, 720, 810}));
  EXPECT_EQ(s.decide_at, (std::vector<int64_t>{270, 360, 450, 540, 630, 720, 810}));
  EXPECT_EQ(s.min_peers, 2);
}

TEST(StoppingRule, OutOfRangeSettingsNameTheirField) {
  auto error = [](const std::string& text) {
    try {
      StoppingSettingsOf(Config(kProxy900 + text));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("early_stopping { asha { eta: 1 } }").find("early_stopping.asha.eta"),
            std::string::npos);
  EXPECT_NE(error("early_stopping { asha { min_steps: 900 } }").find("asha.min_steps"),
            std::string::npos);
  // Two rungs (100, 300): at most three brackets, the last training every child in full.
  EXPECT_EQ(
      StoppingSettingsOf(Config(kProxy900 + "early_stopping { asha { brackets: 3 } }")).brackets,
      3);
  EXPECT_NE(error("early_stopping { asha { brackets: 4 } }").find("asha.brackets"),
            std::string::npos);
  EXPECT_NE(error("early_stopping { asha { brackets: -1 } }").find("asha.brackets"),
            std::string::npos);
  EXPECT_NE(error("early_stopping { evaluate_every: -1 }").find("evaluate_every"),
            std::string::npos);
  EXPECT_NE(error("early_stopping { median { grace_steps: 1000 } }").find("grace_steps"),
            std::string::npos);
}

StoppingRule Asha(double eta = 3) {
  StoppingSettings s;
  s.rule = StoppingSettings::Rule::kAsha;
  s.budget = 90;
  s.eta = eta;
  s.evaluate_at = s.decide_at = {10, 30};
  return StoppingRule(s);
}

TEST(StoppingRule, AshaKeepsTheTopThirdOfEachRungAsResultsArrive) {
  StoppingRule rule = Asha();
  // The first child at a rung is its best so far; then ceil(n / 3) go on.
  EXPECT_EQ(rule.Evaluate(1, 10, 0.50), Verdict::kContinue);  // 1 of 1
  EXPECT_EQ(rule.Evaluate(2, 10, 0.40), Verdict::kStop);      // 2nd of 2, 1 place
  EXPECT_EQ(rule.Evaluate(3, 10, 0.60), Verdict::kContinue);  // 1st of 3
  EXPECT_EQ(rule.Evaluate(4, 10, 0.55), Verdict::kContinue);  // 2nd of 4, 2 places
  EXPECT_EQ(rule.Evaluate(5, 10, 0.52), Verdict::kStop);      // 3rd of 5, 2 places
  // Rungs are separate: the second rung ranks only the children that reached it.
  EXPECT_EQ(rule.Evaluate(4, 30, 0.70), Verdict::kContinue);
  EXPECT_EQ(rule.Evaluate(1, 30, 0.65), Verdict::kStop);
}

TEST(StoppingRule, AshaJudgesEachChildAgainstTheRungAsItStandsWhenItArrives) {
  // In every order of arrival: the strongest child goes on, and the weakest goes on only when
  // it arrives first (then it leads the rung).
  const std::vector<std::pair<int64_t, double>> results = {{1, 0.3}, {2, 0.9}, {3, 0.5},
                                                           {4, 0.7}, {5, 0.1}, {6, 0.8}};
  std::vector<size_t> order = {0, 1, 2, 3, 4, 5};
  do {
    StoppingRule rule = Asha();
    for (size_t i : order) rule.Evaluate(results[i].first, 10, results[i].second);
    EXPECT_EQ(*rule.VerdictAt(2, 10), Verdict::kContinue);
    EXPECT_EQ(*rule.VerdictAt(5, 10), order[0] == 4 ? Verdict::kContinue : Verdict::kStop);
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(StoppingRule, HyperbandBracketsDecideFromTheirOwnRungAndRankWithinTheBracket) {
  StoppingSettings s;
  s.rule = StoppingSettings::Rule::kAsha;
  s.budget = 90;
  s.eta = 3;
  s.brackets = 3;  // bracket 0 decides at 10 and 30, bracket 1 at 30, bracket 2 never
  s.evaluate_at = s.decide_at = {10, 30};
  StoppingRule rule(s);
  EXPECT_TRUE(rule.decides_at(3, 10));
  EXPECT_FALSE(rule.decides_at(4, 10)) << "bracket 1 starts at the second rung";
  EXPECT_TRUE(rule.decides_at(4, 30));
  EXPECT_FALSE(rule.decides_at(5, 10));
  EXPECT_FALSE(rule.decides_at(5, 30)) << "the last bracket trains every child in full";
  // Bracket 0 (trials 0, 3, 6): ranked among themselves, whatever bracket 1 holds.
  EXPECT_EQ(rule.Evaluate(0, 10, 0.50), Verdict::kContinue);
  EXPECT_EQ(rule.Evaluate(1, 10, 0.99), Verdict::kContinue);  // bracket 1: recorded only
  EXPECT_EQ(rule.Evaluate(3, 10, 0.45), Verdict::kStop);      // 2nd of 2 in bracket 0
  EXPECT_EQ(rule.Evaluate(5, 10, 0.01), Verdict::kContinue);  // bracket 2: never stopped
  EXPECT_EQ(rule.Evaluate(5, 30, 0.01), Verdict::kContinue);
  // Bracket 1 decides at 30 among its own: bracket 0's 0.95 there does not count, so trial 4
  // leads with 0.70 (1 place of 2), and trial 7 is 3rd of 3 (1 place).
  EXPECT_EQ(rule.Evaluate(0, 30, 0.95), Verdict::kContinue);
  EXPECT_EQ(rule.Evaluate(1, 30, 0.60), Verdict::kContinue);
  EXPECT_EQ(rule.Evaluate(4, 30, 0.70), Verdict::kContinue) << "bracket 0's results do not count";
  EXPECT_EQ(rule.Evaluate(7, 30, 0.10), Verdict::kStop);
}

TEST(StoppingRule, AVerdictIsGivenOnceAndRepeatedForTheSameStep) {
  StoppingRule rule = Asha();
  EXPECT_EQ(rule.Evaluate(1, 10, 0.9), Verdict::kContinue);
  EXPECT_EQ(rule.Evaluate(2, 10, 0.1), Verdict::kStop);
  // A retried attempt of trial 2 reaching the rung again, better this time: the verdict stands.
  EXPECT_EQ(rule.Evaluate(2, 10, 0.95), Verdict::kStop);
  EXPECT_FALSE(rule.VerdictAt(3, 10).has_value());
}

TEST(StoppingRule, ARestoredRuleDecidesAsTheOriginalWould) {
  StoppingRule original = Asha();
  StoppingRule restored = Asha();
  const std::vector<std::pair<int64_t, double>> first = {{1, 0.5}, {2, 0.4}, {3, 0.6}, {4, 0.45}};
  for (const auto& [trial, accuracy] : first) {
    restored.Restore(trial, 10, accuracy, original.Evaluate(trial, 10, accuracy));
  }
  for (const auto& [trial, accuracy] :
       std::vector<std::pair<int64_t, double>>{{5, 0.55}, {6, 0.42}, {7, 0.61}, {8, 0.3}}) {
    EXPECT_EQ(restored.Evaluate(trial, 10, accuracy), original.Evaluate(trial, 10, accuracy));
  }
}

TEST(StoppingRule, MedianStopsAChildBelowItsPeersOnceItHasEnoughOfThem) {
  StoppingSettings s;
  s.rule = StoppingSettings::Rule::kMedian;
  s.budget = 100;
  s.min_peers = 3;
  s.evaluate_at = {10, 50};
  s.decide_at = {50};  // past the grace steps
  StoppingRule rule(s);
  EXPECT_EQ(rule.Evaluate(1, 50, 0.2), Verdict::kContinue);  // no peers yet
  EXPECT_EQ(rule.Evaluate(2, 50, 0.4), Verdict::kContinue);
  EXPECT_EQ(rule.Evaluate(3, 50, 0.6), Verdict::kContinue);   // two peers: too few
  EXPECT_EQ(rule.Evaluate(4, 50, 0.39), Verdict::kStop);      // median of 0.2, 0.4, 0.6
  EXPECT_EQ(rule.Evaluate(5, 50, 0.41), Verdict::kContinue);  // median 0.395 of four
  EXPECT_EQ(rule.Evaluate(6, 10, 0.0), Verdict::kContinue);   // within the grace steps
}

TEST(StoppingRule, AStoppedChildsRewardIsOnTheFullBudgetsScale) {
  StoppingRule rule = Asha();
  rule.Evaluate(1, 10, 0.5);
  rule.Evaluate(2, 10, 0.6);
  rule.Evaluate(3, 10, 0.2);
  EXPECT_DOUBLE_EQ(rule.StoppedReward(10, 0.2), 0.2);  // no child finished yet
  rule.Finish(1, 0.8);                                 // gained 0.3
  rule.Finish(2, 0.7);                                 // gained 0.1
  EXPECT_DOUBLE_EQ(rule.StoppedReward(10, 0.2), 0.4);  // 0.2 + the median gain, 0.2
  EXPECT_DOUBLE_EQ(rule.StoppedReward(10, 0.95), 1.0);
}

}  // namespace
}  // namespace actsearch::controller
