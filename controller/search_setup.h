// Everything a running search owns, built from its config and results database: the store, the
// space, the strategy, and the scheduler rebuilt from what the database holds. A database that
// already has a search of this name resumes it: its config must be the same, but for the
// changes controller/config_diff.h allows (a bigger budget, say), which are stored.
#pragma once

#include <memory>
#include <string>

#include "controller/scheduler.h"
#include "controller/strategy.h"
#include "proto/search_config.pb.h"
#include "search_space/space.h"
#include "storage/results_store.h"
#include "storage/writer_lock.h"

namespace actsearch::controller {

// The name a config's search is stored under ("search" when it names none).
std::string SearchName(const proto::SearchConfig& config);

// The config's strategy over `space`; `seed` seeds its randomness.
std::unique_ptr<Strategy> MakeStrategy(const proto::Strategy& config, const Space* space,
                                       uint64_t seed);

// A configuration mistake (which field, what is wrong): the command line reports it as a
// usage error.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SearchSetup {
 public:
  // Throws ConfigError when the database holds a search of the same name whose config differs
  // in a way a resumed search may not take, naming the fields; storage::DatabaseLocked while
  // another controller (or `local`) has the database.
  SearchSetup(const proto::SearchConfig& config, SpaceSpec space, const std::string& db_path);

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

 private:
  storage::WriterLock lock_;  // first: nothing is read or written before it is held
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
