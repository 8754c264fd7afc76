#include "controller/search_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "controller/stopping_rule.h"
#include "storage/schema.h"
#include "storage/search_queries.h"
#include "storage/sqlite.h"
#include "worker/training_profile.h"

namespace actsearch::controller {
namespace {

class CollectFirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) {
      first_ = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) +
               ": " + message;
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

std::string JoinNames(const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}

// The stored config of the search `search` names (the latest one when empty) in `db_path`,
// opened read-only.
proto::SearchConfig StoredConfig(const std::string& db_path, const std::string& search) {
  std::error_code error;
  if (!std::filesystem::exists(db_path, error)) {
    throw ConfigError("a config file is needed to start a search (" + db_path + " does not exist)");
  }
  sql::Database db(db_path, sql::OpenMode::kReadOnly);
  storage::CheckReadable(db);
  const int64_t id = search.empty()
                         ? storage::LatestSearch(db, storage::kSearchKindReevaluation).value_or(0)
                         : storage::ResolveSearch(db, search);
  const std::optional<storage::SearchSummary> summary = storage::FindSearchSummary(db, id);
  const std::optional<proto::SearchConfig> stored =
      summary ? ParseStoredConfig(summary->config) : std::nullopt;
  if (!stored) {
    throw ConfigError("a config file is needed: " + db_path + " holds no search to resume" +
                      (summary ? " (search '" + summary->name + "' has no config)" : ""));
  }
  return *stored;
}

void Require(bool ok, const std::string& field, const std::string& what) {
  if (!ok) throw ConfigError("config field " + field + ": " + what);
}

// A re-evaluation's runs, and nothing of a search beside them.
void ValidateReevaluation(const proto::SearchConfig& c) {
  const proto::Reevaluation& r = c.reevaluation();
  Require(r.runs_size() > 0, "reevaluation.runs", "none: a re-evaluation trains at least one");
  Require(r.seeds() >= 1 && r.seeds() <= 1000, "reevaluation.seeds", "must be from 1 to 1000");
  for (int i = 0; i < r.runs_size(); ++i) {
    const std::string field = "reevaluation.runs[" + std::to_string(i) + "]";
    Require(!r.runs(i).spec().empty(), field + ".spec", "empty");
    Require(r.runs(i).fingerprint().size() == 16 &&
                r.runs(i).fingerprint().find_first_not_of("0123456789abcdef") == std::string::npos,
            field + ".fingerprint",
            "must be 16 hex digits (`actsearch reevaluate --write-config` writes it)");
  }
  Require(!c.has_strategy() && !c.has_budget() && !c.has_early_stopping(), "reevaluation",
          "a re-evaluation takes no strategy, budget or early_stopping: its runs are its trials");
  Require(c.child().has_resnet(), "child", "a re-evaluation trains a resnet child");
}

}  // namespace

proto::SearchConfig LoadSearchConfig(const ConfigSource& source) {
  proto::SearchConfig config = source.file.empty() ? StoredConfig(source.db_path, source.search)
                                                   : ReadSearchConfig(source.file);
  if (source.max_trials) config.mutable_budget()->set_max_trials(*source.max_trials);
  if (source.max_seconds) config.mutable_budget()->set_max_seconds(*source.max_seconds);
  ValidateSearchConfig(config);
  return config;
}

proto::SearchConfig ReadSearchConfig(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw ConfigError(path + ": is a directory, not a config file");
  }
  std::ifstream file(path);
  if (!file) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  std::stringstream text;
  text << file.rdbuf();
  proto::SearchConfig config;
  google::protobuf::TextFormat::Parser parser;
  CollectFirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), &config)) {
    throw ConfigError(path + ": " + errors.first());
  }
  return config;
}

void ValidateSearchConfig(const proto::SearchConfig& c) {
  // Doubles must also be finite: `learning_rate: inf` parses.
  auto at_least_zero = [&](double value, const std::string& field) {
    Require(std::isfinite(value) && value >= 0, field, "must be a finite number of at least 0");
  };
  if (c.has_reevaluation()) {
    ValidateReevaluation(c);
    return;
  }
  // An empty or truncated file parses as all defaults: a search of everything, with no end.
  Require(c.has_space(), "space", "not set: a config names its search space (an empty file?)");
  Require(c.strategy().has_exhaustive() || c.budget().max_trials() > 0 ||
              c.budget().max_seconds() > 0 || c.budget().max_proposals() > 0,
          "budget",
          "not set: give max_trials, max_seconds or max_proposals (only an exhaustive "
          "search ends by itself)");
  SpaceSpecFromProto(c.space());
  Require(c.space().units() <= 4, "space.units", "at most 4 core units");
  const proto::PpoSettings& ppo = c.strategy().ppo();
  at_least_zero(ppo.learning_rate(), "strategy.ppo.learning_rate");
  at_least_zero(ppo.entropy_weight(), "strategy.ppo.entropy_weight");
  Require(ppo.baseline_decay() >= 0 && ppo.baseline_decay() < 1, "strategy.ppo.baseline_decay",
          "must be in [0, 1)");
  Require(ppo.clip() >= 0 && ppo.clip() < 1, "strategy.ppo.clip", "must be in [0, 1)");
  Require(ppo.batch_size() >= 0, "strategy.ppo.batch_size", "must not be negative");
  Require(ppo.epochs() >= 0, "strategy.ppo.epochs", "must not be negative");
  Require(ppo.hidden_size() >= 0, "strategy.ppo.hidden_size", "must not be negative");
  Require(ppo.top_fraction() >= 0 && ppo.top_fraction() <= 1, "strategy.ppo.top_fraction",
          "must be in (0, 1]");
  if (c.child().has_resnet()) {
    const proto::ResNetChild& r = c.child().resnet();
    if (!r.profile().empty()) {
      try {
        worker::ProfileByName(r.profile());
      } catch (const std::invalid_argument& error) {
        Require(false, "child.resnet.profile", error.what());
      }
    }
    Require(r.steps() >= 0, "child.resnet.steps", "must not be negative");
    Require(r.validation() >= 0, "child.resnet.validation", "must not be negative");
    Require(r.train_images() >= 0, "child.resnet.train_images", "must not be negative");
  }
  Require(c.child().proxy().steps() >= 0, "child.proxy.steps", "must not be negative");
  Require(c.child().proxy().hidden() >= 0, "child.proxy.hidden", "must not be negative");
  Require(c.budget().max_trials() >= 0, "budget.max_trials", "must not be negative");
  at_least_zero(c.budget().max_seconds(), "budget.max_seconds");
  Require(c.budget().max_proposals() >= 0, "budget.max_proposals", "must not be negative");
  const proto::Dispatch& d = c.dispatch();
  at_least_zero(d.lease_seconds(), "dispatch.lease_seconds");
  at_least_zero(d.heartbeat_seconds(), "dispatch.heartbeat_seconds");
  const DispatchSettings dispatch = DispatchOf(d);
  Require(dispatch.heartbeat_seconds < dispatch.lease_seconds, "dispatch.heartbeat_seconds",
          "must be shorter than the lease (" + std::to_string(dispatch.lease_seconds) + " s)");
  Require(d.max_attempts() >= 0, "dispatch.max_attempts", "must not be negative");
  at_least_zero(d.trial_time_limit_seconds(), "dispatch.trial_time_limit_seconds");
  StoppingSettingsOf(c);  // throws for an early_stopping field out of range
}

std::string SearchName(const proto::SearchConfig& config) {
  return config.name().empty() ? "search" : config.name();
}

std::string StrategyName(const proto::Strategy& strategy) {
  if (strategy.has_ppo()) return "ppo";
  if (strategy.has_exhaustive()) return "exhaustive";
  return "random";
}

SpaceSpec SpaceSpecFromProto(const proto::SearchSpace& space) {
  SpaceSpec spec;
  spec.units = space.units() == 0 ? 1 : space.units();
  if (spec.units < 1) throw ConfigError("space.units must be at least 1");
  try {
    spec.unary = ParseUnaryList(JoinNames(space.unary()));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("space.unary: ") + e.what());
  }
  try {
    spec.binary = ParseBinaryList(JoinNames(space.binary()));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("space.binary: ") + e.what());
  }
  return spec;
}

DispatchSettings DispatchOf(const proto::Dispatch& d) {
  DispatchSettings s;
  if (d.lease_seconds() > 0) s.lease_seconds = d.lease_seconds();
  if (d.heartbeat_seconds() > 0) s.heartbeat_seconds = d.heartbeat_seconds();
  if (d.max_attempts() > 0) s.max_attempts = d.max_attempts();
  if (d.max_consecutive_failures() != 0) {
    s.max_consecutive_failures = std::max(0, d.max_consecutive_failures());
  }
  s.trial_time_limit_seconds = d.trial_time_limit_seconds();
  return s;
}

}  // namespace actsearch::controller
