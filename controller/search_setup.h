// Everything a running search owns, built from its config and results database: the store, the
// space, the strategy, and the scheduler rebuilt from what the database holds. A database that
// already has a search of this name resumes it (its config must be the same).
#pragma once

#include <memory>
#include <string>

#include "controller/scheduler.h"
#include "controller/strategy.h"
#include "proto/search_config.pb.h"
#include "search_space/space.h"
#include "storage/results_store.h"

namespace actsearch::controller {

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
  // Throws ConfigError when the database holds a search of the same name with another config.
  SearchSetup(const proto::SearchConfig& config, SpaceSpec space, const std::string& db_path);

  const std::string& name() const { return name_; }
  int64_t search_id() const { return search_id_; }
  double started_at() const { return started_at_; }
  bool resumed() const { return resumed_; }
  storage::ResultsStore& store() { return store_; }
  Scheduler& scheduler() { return *scheduler_; }
  const Strategy& strategy() const { return *strategy_; }

 private:
  storage::ResultsStore store_;
  Space space_;
  std::unique_ptr<Strategy> strategy_;
  std::string name_;
  int64_t search_id_ = 0;
  double started_at_ = 0;
  bool resumed_ = false;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace actsearch::controller
