#include "controller/search_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "controller/search_setup.h"
#include "storage/test_support.h"

namespace actsearch::controller {
namespace {

class SearchConfigTest : public storage::StorageTest {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = Path(name);
    std::ofstream(path) << text;
    return path;
  }
};

// What ConfigError `load` throws; "" when it throws none.
template <typename Load>
std::string ConfigErrorOf(Load load) {
  try {
    load();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

proto::SearchConfig Minimal() {
  proto::SearchConfig config;
  config.mutable_space()->set_units(1);
  config.mutable_budget()->set_max_trials(4);
  config.mutable_child()->mutable_proxy();
  return config;
}

TEST_F(SearchConfigTest, TheExampleConfigsLoadAndValidate) {
  const char* source_dir = std::getenv("ACTSEARCH_SOURCE_DIR");  // set by ctest
  if (source_dir == nullptr) GTEST_SKIP() << "set $ACTSEARCH_SOURCE_DIR to the source tree";
  const std::filesystem::path configs = std::filesystem::path(source_dir) / "docs/configs";
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(configs)) {
    ConfigSource source;
    source.file = entry.path().string();
    EXPECT_EQ(ConfigErrorOf([&] { LoadSearchConfig(source); }), "") << source.file;
    ++loaded;
  }
  EXPECT_GE(loaded, 3);
}

TEST_F(SearchConfigTest, AFileErrorNamesTheFileAndWhere) {
  const std::string path = Write("bad.textproto", "space { units: 1 }\nbudget { max_trials: x }\n");
  const std::string error = ConfigErrorOf([&] { ReadSearchConfig(path); });
  EXPECT_NE(error.find(path + ": line 2, column"), std::string::npos) << error;
  EXPECT_NE(ConfigErrorOf([&] { ReadSearchConfig(Path("missing.textproto")); }).find("cannot open"),
            std::string::npos);
  EXPECT_NE(ConfigErrorOf([&] { ReadSearchConfig(Path("")); }).find("is a directory"),
            std::string::npos);
}

TEST_F(SearchConfigTest, ValidationNamesTheFirstBadField) {
  EXPECT_EQ(ConfigErrorOf([] { ValidateSearchConfig(Minimal()); }), "");
  const std::vector<std::pair<std::function<void(proto::SearchConfig&)>, std::string>> cases = {
      {[](auto& c) { c.clear_space(); }, "config field space: not set"},
      {[](auto& c) { c.clear_budget(); }, "config field budget: not set"},
      {[](auto& c) { c.mutable_space()->add_unary("tan"); }, "space.unary: "},
      {[](auto& c) { c.mutable_space()->set_units(5); }, "config field space.units: at most 4"},
      {[](auto& c) { c.mutable_dispatch()->set_heartbeat_seconds(200); },
       "config field dispatch.heartbeat_seconds: must be shorter than the lease (120"},
      {[](auto& c) { c.mutable_child()->mutable_resnet()->set_profile("fast"); },
       "config field child.resnet.profile"},
      {[](auto& c) { c.mutable_child()->mutable_resnet()->set_train_images(-1); },
       "config field child.resnet.train_images: must not be negative"},
  };
  for (const auto& [spoil, problem] : cases) {
    proto::SearchConfig config = Minimal();
    spoil(config);
    const std::string error = ConfigErrorOf([&] { ValidateSearchConfig(config); });
    EXPECT_NE(error.find(problem), std::string::npos)
        << "wanted '" << problem << "', got '" << error << "'";
  }
  // An exhaustive search ends by itself: it needs no budget.
  proto::SearchConfig exhaustive = Minimal();
  exhaustive.clear_budget();
  exhaustive.mutable_strategy()->mutable_exhaustive();
  EXPECT_EQ(ConfigErrorOf([&] { ValidateSearchConfig(exhaustive); }), "");
}

TEST_F(SearchConfigTest, ZerosTakeTheDefaults) {
  const proto::SearchConfig config;
  EXPECT_EQ(SearchName(config), "search");
  EXPECT_EQ(StrategyName(config.strategy()), "random");
  const SpaceSpec space = SpaceSpecFromProto(config.space());
  EXPECT_EQ(space.units, 1);
  EXPECT_EQ(space.unary, SpaceSpec{}.unary);
  EXPECT_EQ(space.binary, SpaceSpec{}.binary);
  const DispatchSettings dispatch = DispatchOf(config.dispatch());
  EXPECT_EQ(dispatch.lease_seconds, 120);
  EXPECT_EQ(dispatch.heartbeat_seconds, 10);
  EXPECT_EQ(dispatch.max_attempts, 3);
  EXPECT_EQ(dispatch.max_consecutive_failures, 5);
  EXPECT_EQ(dispatch.trial_time_limit_seconds, 0);
  proto::Dispatch never;
  never.set_max_consecutive_failures(-1);
  EXPECT_EQ(DispatchOf(never).max_consecutive_failures, 0);
}

TEST_F(SearchConfigTest, AStoredConfigIsResumedWithANewBudget) {
  proto::SearchConfig config = Minimal();
  config.set_name("stored");
  { SearchSetup search(config, Path("search.db")); }
  ConfigSource source;
  source.db_path = Path("search.db");
  source.max_trials = 9;
  const proto::SearchConfig loaded = LoadSearchConfig(source);
  EXPECT_EQ(loaded.name(), "stored");
  EXPECT_EQ(loaded.budget().max_trials(), 9);
  source.search = "stored";
  EXPECT_EQ(LoadSearchConfig(source).name(), "stored");

  source.db_path = Path("nothing.db");
  EXPECT_NE(ConfigErrorOf([&] { LoadSearchConfig(source); }).find("does not exist"),
            std::string::npos);
}

TEST_F(SearchConfigTest, AStoredConfigRoundTrips) {
  proto::SearchConfig config = Minimal();
  config.mutable_strategy()->mutable_ppo()->set_top_fraction(0.25);
  const std::optional<proto::SearchConfig> parsed = ParseStoredConfig(StoredConfigText(config));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->strategy().ppo().top_fraction(), 0.25);
  const std::string newer = StoredConfigText(config) + "future_field: 3\n";
  EXPECT_TRUE(ParseStoredConfig(newer).has_value());
  EXPECT_FALSE(ParseStoredConfig(newer, UnknownFields::kRefuse).has_value());
  EXPECT_FALSE(ParseStoredConfig("").has_value());
}

TEST_F(SearchConfigTest, ASearchRefusesAnInvalidConfigBeforeTouchingTheDatabase) {
  proto::SearchConfig config = Minimal();
  config.clear_space();
  EXPECT_NE(ConfigErrorOf([&] { SearchSetup search(config, Path("search.db")); }), "");
  EXPECT_FALSE(std::filesystem::exists(Path("search.db")));
}

}  // namespace
}  // namespace actsearch::controller
