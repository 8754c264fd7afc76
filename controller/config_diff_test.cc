#include "controller/config_diff.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

namespace actsearch::controller {
namespace {

proto::SearchConfig Config(const std::string& text) {
  proto::SearchConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

const char* kBase = R"(
  name: "s"
  space { units: 1 unary: ["identity", "sin"] }
  strategy { random {} }
  child { resnet { dataset: "cifar10:/data/a" steps: 300 } }
  budget { max_trials: 24 }
)";

TEST(ConfigDiff, TheSameConfigHasNoChanges) {
  EXPECT_TRUE(DiffConfigs(Config(kBase), Config(kBase)).empty());
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST(ConfigDiff, ABiggerBudgetAndNewDispatchSettingsAreAllowed) {
  const std::vector<ConfigChange> changes =
      DiffConfigs(Config(kBase), Config(Replace(kBase, "budget { max_trials: 24 }",
                                                "budget { max_trials: 48 max_seconds: 60 } "
                                                "dispatch { lease_seconds: 30 }")));
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(DescribeChanges(changes),
            "budget.max_seconds 0 -> 60, budget.max_trials 24 -> 48, "
            "dispatch (unset) -> {lease_seconds: 30}");
  for (const ConfigChange& c : changes) EXPECT_TRUE(c.allowed) << c.field;
}

TEST(ConfigDiff, TheSameDatasetElsewhereIsAllowedAnotherDatasetIsNot) {
  std::vector<ConfigChange> changes =
      DiffConfigs(Config(kBase), Config(Replace(kBase, "/data/a", "/mnt/cifar")));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].field, "child.resnet.dataset");
  EXPECT_TRUE(changes[0].allowed);
  changes = DiffConfigs(Config(kBase), Config(Replace(kBase, "cifar10:", "cifar100:")));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].allowed);
}

TEST(ConfigDiff, SpaceStrategyChildAndSeedChangesAreRefusedAndNamed) {
  std::string changed = Replace(kBase, "\"sin\"", "\"cos\", \"tanh\"");
  changed = Replace(changed, "random {}", "exhaustive {}");
  changed = Replace(changed, "steps: 300", "steps: 900") + "seed: 3";
  const std::vector<ConfigChange> changes = DiffConfigs(Config(kBase), Config(changed));
  std::string refused;
  for (const ConfigChange& c : changes) {
    EXPECT_FALSE(c.allowed) << c.field;
    refused += c.field + ";";
  }
  EXPECT_EQ(refused, "child.resnet.steps;seed;space.unary;strategy.exhaustive;strategy.random;");
  EXPECT_NE(DescribeChanges(changes).find("space.unary [\"identity\", \"sin\"] -> "
                                          "[\"identity\", \"cos\", \"tanh\"]"),
            std::string::npos)
      << DescribeChanges(changes);
}

}  // namespace
}  // namespace actsearch::controller
