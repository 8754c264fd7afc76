// Reading the text-format protobuf search configuration.
#pragma once

#include <optional>
#include <string>

#include "proto/search_config.pb.h"
#include "search_space/space.h"

namespace actsearch::cli {

// Throws UsageError naming the file, and the line and column of a syntax error.
proto::SearchConfig ReadSearchConfig(const std::string& path);

// Throws UsageError naming the first invalid field ("config field dispatch.lease_seconds: ...").
void ValidateSearchConfig(const proto::SearchConfig& config);

// Throws UsageError naming the field of an invalid space.
SpaceSpec SpaceSpecFromProto(const proto::SearchSpace& space);

// A config as the results database stores it (text protobuf); nullopt when it does not parse
// (a search of another kind stores none).
std::optional<proto::SearchConfig> ParseStoredConfig(const std::string& text);

// ppo, exhaustive or random (the default).
std::string StrategyName(const proto::Strategy& strategy);

}  // namespace actsearch::cli
