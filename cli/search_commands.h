// `actsearch controller`, `actsearch worker` and `actsearch local`: a search served over gRPC,
// the workers that train its trials, and both on this machine at once.
#pragma once

#include <string>
#include <vector>

namespace actsearch::cli {

int RunControllerCommand(const std::vector<std::string>& args);
int RunWorkerCommand(const std::vector<std::string>& args);
int RunLocalCommand(const std::vector<std::string>& args);

}  // namespace actsearch::cli
