// `actsearch controller`, `actsearch worker`, `actsearch local` and `actsearch stop`: a search
// served over gRPC, the workers that train its trials, both on this machine at once, and the
// request that stops a running one.
#pragma once

#include <string>
#include <vector>

namespace actsearch::cli {

int RunControllerCommand(const std::vector<std::string>& args);
int RunWorkerCommand(const std::vector<std::string>& args);
int RunLocalCommand(const std::vector<std::string>& args);
int RunStopCommand(const std::vector<std::string>& args);

}  // namespace actsearch::cli
