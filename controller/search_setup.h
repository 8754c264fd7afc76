// Everything a running search owns, built from its config and results database: the store, the
// space, the strategy, and the scheduler rebuilt from what the database holds. A database that
// already has a search of this name resumes it: its config must be the same, but for the
// changes controller/config_diff.h allows (a bigger budget, say), which are stored.
#pragma once

#include <memory>
#include <string>

#include "controller/controller_service.h"
#include "controller/scheduler.h"
#include "controller/search_config.h"
#include "controller/strategy.h"
#include "proto/search_config.pb.h"
#include "search_space/space.h"
#include "storage/results_store.h"
#include "storage/writer_lock.h"

namespace actsearch::controller {

// The config's strategy over `space`; `seed` seeds its randomness.
std::unique_ptr<Strategy> MakeStrategy(const proto::Strategy& config, const Space* space,
                                       uint64_t seed);

class SearchSetup {
 public:
  // Throws ConfigError for an invalid config (search_config.h validates it here too, so that
  // a config built in code keeps the same rules), and when the database holds a search of the
  // same name whose config differs in a way a resumed search may not take, naming the fields;
  // storage::DatabaseLocked while another controller (or `local`) has the database.
  SearchSetup(const proto::SearchConfig& config, const std::string& db_path);

  const std::string& name() const { return name_; }
  int64_t search_id() const { return search_id_; }
  // When the search would have started had it run without a break: now minus its active
  // seconds for a resumed search. Its time budget and elapsed time count from here.
  double started_at() const { return started_at_; }
  bool resumed() const { return resumed_; }
  // The allowed changes a resumed search took from the given config ("" when none).
  const std::string& config_changes() const { return config_changes_; }
  // What rebuilding an older build's functional classes changed ("" when nothing was rebuilt).
  const std::string& fingerprint_note() const { return fingerprint_note_; }
  storage::ResultsStore& store() { return store_; }
  Scheduler& scheduler() { return *scheduler_; }
  const Strategy& strategy() const { return *strategy_; }
  // What the gRPC service needs of this search: its config, name, strategy, id, start and
  // dispatch settings. The caller adds the token and the log.
  ServiceOptions service_options() const;

 private:
  proto::SearchConfig config_;
  storage::WriterLock lock_;  // nothing is read or written before it is held
  storage::ResultsStore store_;
  Space space_;
  std::unique_ptr<Strategy> strategy_;
  std::string name_;
  int64_t search_id_ = 0;
  double started_at_ = 0;
  bool resumed_ = false;
  std::string config_changes_;
  std::string fingerprint_note_;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace actsearch::controller
