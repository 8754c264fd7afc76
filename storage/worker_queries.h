// The workers, a read-side query for the dashboard: who is alive, what each one trains, and how
// many children it finishes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"

namespace actsearch::storage {

struct WorkerInfo {
  int64_t id = 0;
  std::string name;
  std::string capabilities;  // what it said it can train on (its device)
  double registered_at = 0;
  double last_seen = 0;                  // its last call: registration, lease or heartbeat
  std::optional<int64_t> current_trial;  // the trial it holds now
  std::string current_expression;
  int64_t finished = 0;               // trials it reported a result for
  int64_t finished_last_hour = 0;     // of those, the ones reported in the hour before `now`
  std::optional<double> first_lease;  // when it first took a trial
  std::optional<double> last_result;  // when it last reported one
};

// Every worker, or those that took a trial of `search_id`; counts are of that search then.
std::vector<WorkerInfo> ListWorkers(sql::Database& db, std::optional<int64_t> search_id,
                                    double now);

}  // namespace actsearch::storage
