// A search's configuration: read from its text-format file or from the results database that
// holds the search, validated, and its defaults applied, all here, once. The command line, the
// search itself (search_setup.h), tests and benchmarks go through these functions;
// docs/config.md is the reference of every field.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "controller/stored_config.h"  // the config as a database stores it
#include "proto/search_config.pb.h"
#include "search_space/space.h"

namespace actsearch::controller {

// A configuration mistake (which field or file, what is wrong): the command line reports it as
// a usage error.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where a search's config comes from: its file, or, without one, the stored config of the
// search being resumed; a new budget can be set over either.
struct ConfigSource {
  std::string file;                   // text-format protobuf; empty: the stored config
  std::string db_path;                // the results database, where a stored config is read
  std::string search;                 // without a file: the search by name or id; empty: the latest
  std::optional<int64_t> max_trials;  // the budget's trainings (0: no limit)
  std::optional<double> max_seconds;  // the budget's running seconds (0: no limit)
};

// The config from `source`, the budget set over it, validated. Throws ConfigError naming the
// file (with the line and column of a syntax error) or the first invalid field, or saying why
// there is no stored config; sql::Error for a database that cannot be read.
proto::SearchConfig LoadSearchConfig(const ConfigSource& source);

// The file alone, not yet validated. Throws ConfigError naming the file, and the line and
// column of a syntax error.
proto::SearchConfig ReadSearchConfig(const std::string& path);

// Throws ConfigError naming the first invalid field ("config field dispatch.lease_seconds:
// ..."). The child's model and dataset are checked where they can be loaded (the worker).
void ValidateSearchConfig(const proto::SearchConfig& config);

// The defaults, the one place each is applied.
// The name the search is stored under; "search" when the config names none.
std::string SearchName(const proto::SearchConfig& config);
// ppo, exhaustive or random (the default).
std::string StrategyName(const proto::Strategy& strategy);
// The space: 1 unit and every operator where the config says nothing. Throws ConfigError
// naming the field of an invalid space.
SpaceSpec SpaceSpecFromProto(const proto::SearchSpace& space);

// The dispatch settings with their defaults in place of zeros.
struct DispatchSettings {
  double lease_seconds = 120;
  double heartbeat_seconds = 10;
  int max_attempts = 3;
  int max_consecutive_failures = 5;     // 0: never (negative in the config)
  double trial_time_limit_seconds = 0;  // 0: none
};
DispatchSettings DispatchOf(const proto::Dispatch& dispatch);

}  // namespace actsearch::controller
