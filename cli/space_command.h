#pragma once

#include <string>
#include <vector>

namespace actsearch::cli {

// `actsearch space ...`; args start after "space". Returns the exit code; throws UsageError.
int RunSpaceCommand(const std::vector<std::string>& args);

}  // namespace actsearch::cli
