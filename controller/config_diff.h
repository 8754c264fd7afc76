// What differs between a search's stored config and the one it is resumed with, and which of
// those changes a resumed search may take: its budget and dispatch settings, and where its
// dataset lives (the same dataset). Anything else (space, strategy, child, seed) would make
// the new trials' rewards incomparable with the old ones.
#pragma once

#include <string>
#include <vector>

#include "proto/search_config.pb.h"

namespace actsearch::controller {

struct ConfigChange {
  std::string field;          // "budget.max_trials", "space.unary", ...
  std::string before, after;  // the values as text; "(unset)" when absent
  bool allowed = false;
};

std::vector<ConfigChange> DiffConfigs(const proto::SearchConfig& stored,
                                      const proto::SearchConfig& given);

// "budget.max_trials 24 -> 48, space.units 1 -> 2"
std::string DescribeChanges(const std::vector<ConfigChange>& changes);

}  // namespace actsearch::controller
