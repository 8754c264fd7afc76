#pragma once

#include <string>
#include <vector>

namespace actsearch::cli {

// `actsearch train`: trains one child network standalone and prints its result.
int RunTrainCommand(const std::vector<std::string>& args);

}  // namespace actsearch::cli
