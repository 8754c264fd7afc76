#include "controller/search_setup.h"

#include "controller/config_diff.h"
#include "controller/exhaustive_strategy.h"
#include "controller/ppo_strategy.h"
#include "controller/random_strategy.h"
#include "controller/reevaluation_runs.h"
#include "search_space/candidate_analysis.h"
#include "search_space/fingerprint.h"

namespace actsearch::controller {
namespace {

const proto::SearchConfig& Validated(const proto::SearchConfig& config) {
  ValidateSearchConfig(config);
  return config;
}

}  // namespace

std::unique_ptr<Strategy> MakeStrategy(const proto::Strategy& config, const Space* space,
                                       uint64_t seed) {
  if (config.has_exhaustive()) return std::make_unique<ExhaustiveStrategy>(space);
  if (config.has_ppo()) {
    const proto::PpoSettings& s = config.ppo();
    PpoOptions o;  // zero in the config: keep the default
    if (s.learning_rate() > 0) o.learning_rate = s.learning_rate();
    if (s.entropy_weight() > 0) o.entropy_weight = s.entropy_weight();
    if (s.baseline_decay() > 0) o.baseline_decay = s.baseline_decay();
    if (s.clip() > 0) o.clip = s.clip();
    if (s.batch_size() > 0) o.batch_size = s.batch_size();
    if (s.epochs() > 0) o.epochs = s.epochs();
    if (s.hidden_size() > 0) o.policy.hidden = s.hidden_size();
    if (s.top_fraction() > 0) o.top_fraction = s.top_fraction();
    o.normalize_advantages = s.normalize_advantages();
    o.seed = seed;
    return std::make_unique<PpoStrategy>(space, o);
  }
  return std::make_unique<RandomStrategy>(space, seed);
}

SearchSetup::SearchSetup(const proto::SearchConfig& config, const std::string& db_path)
    : config_(Validated(config)),
      lock_(db_path, "controller of search '" + SearchName(config) + "'"),
      store_(db_path),
      space_(SpaceSpecFromProto(config.space())),
      strategy_(config.has_reevaluation()
                    ? std::make_unique<PlannedRuns>()
                    : MakeStrategy(config.strategy(), &space_, config.seed())),
      name_(SearchName(config)) {
  const std::string config_text = StoredConfigText(config);
  if (const std::optional<storage::SearchRow> existing = store_.FindSearch(name_)) {
    const std::optional<proto::SearchConfig> stored =
        ParseStoredConfig(existing->config, UnknownFields::kRefuse);
    if (!stored) {
      throw ConfigError(db_path + ": the stored config of search '" + name_ +
                        "' does not parse; give this config another name");
    }
    const std::vector<ConfigChange> changes = DiffConfigs(*stored, config);
    std::vector<ConfigChange> refused;
    for (const ConfigChange& change : changes) {
      if (!change.allowed) refused.push_back(change);
    }
    if (!refused.empty()) {
      throw ConfigError(db_path + " already holds a search named '" + name_ +
                        "' whose config differs: " + DescribeChanges(refused) +
                        ". A resumed search may change only its budget, its dispatch settings "
                        "and where its dataset lives; give this config another name to start a "
                        "new search");
    }
    if (!changes.empty()) {
      config_changes_ = DescribeChanges(changes);
      store_.UpdateSearchConfig(existing->id, config_text);
    }
    search_id_ = existing->id;
    if (existing->fingerprint_version != kFingerprintVersion) {
      // Its classes were built by an older fingerprint: rebuilt before the scheduler reads
      // them, so that old and new classes are never compared.
      const int64_t changed =
          store_.UpdateFingerprints(search_id_, kFingerprintVersion, FingerprintOfText);
      fingerprint_note_ = "functional classes rebuilt with fingerprint version " +
                          std::to_string(kFingerprintVersion) + " (was " +
                          std::to_string(existing->fingerprint_version) +
                          "): " + std::to_string(changed) + " candidates changed class";
    }
    // The time budget counts the time controllers ran the search, not its downtime.
    started_at_ = storage::NowSeconds() - existing->active_seconds;
    resumed_ = true;
  } else {
    search_id_ = store_.CreateSearch(
        name_, config_text, static_cast<int64_t>(config.seed()),
        config.has_reevaluation() ? storage::kSearchKindReevaluation : storage::kSearchKindSearch);
    started_at_ = storage::NowSeconds();
  }
  if (config.has_reevaluation()) QueueReevaluationRuns(store_, search_id_, config.reevaluation());
  const DispatchSettings dispatch = DispatchOf(config.dispatch());
  SchedulerOptions o;
  o.search_id = search_id_;
  o.lease_seconds = dispatch.lease_seconds;
  o.max_attempts = dispatch.max_attempts;
  o.max_consecutive_failures = dispatch.max_consecutive_failures;
  o.max_trials = config.budget().max_trials();
  o.max_seconds = config.budget().max_seconds();
  o.max_proposals = config.budget().max_proposals();
  o.seed = config.seed();
  o.stopping = StoppingSettingsOf(config);
  scheduler_ = std::make_unique<Scheduler>(store_, space_, *strategy_, o, started_at_);
}

ServiceOptions SearchSetup::service_options() const {
  const DispatchSettings dispatch = DispatchOf(config_.dispatch());
  ServiceOptions o;
  o.config = config_;
  o.search_name = name_;
  o.strategy_name = strategy_->name();
  o.search_id = search_id_;
  o.search_started_at = started_at_;
  o.heartbeat_seconds = dispatch.heartbeat_seconds;
  o.lease_seconds = dispatch.lease_seconds;
  return o;
}

}  // namespace actsearch::controller
