// The search config as the results database stores it (searches.config): text protobuf, and
// back. A library of its own, needing only the protos, so that readers of a database (the
// dashboard) parse it as the controller does.
#pragma once

#include <optional>
#include <string>

#include "proto/search_config.pb.h"

namespace actsearch::controller {

// nullopt when the text does not parse (a search of another kind stores none). Readers skip
// the fields a newer build wrote; a controller resuming the search refuses them, since it
// would drop them.
enum class UnknownFields { kSkip, kRefuse };
std::string StoredConfigText(const proto::SearchConfig& config);
std::optional<proto::SearchConfig> ParseStoredConfig(
    const std::string& text, UnknownFields unknown_fields = UnknownFields::kSkip);

}  // namespace actsearch::controller
