// How many steps a search's child trains: the one rule the worker trains by and the controller
// checks a worker's report against.
#pragma once

#include <cstdint>

#include "proto/search_config.pb.h"
#include "worker/training_profile.h"

namespace actsearch::worker {

inline constexpr int64_t kProxyDefaultSteps = 300;
inline constexpr const char* kDefaultProfile = "quick";

// The profile a ResNet-style child trains with: its named profile (default "quick") and its
// step override. Throws std::invalid_argument for an unknown profile.
TrainingProfile ChildProfile(const proto::ResNetChild& child);

// The child's step budget: a report of more steps than this is false.
int64_t StepBudget(const proto::Child& child);

}  // namespace actsearch::worker
