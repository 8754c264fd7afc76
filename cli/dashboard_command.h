// `actsearch dashboard`: a results database served read-only over HTTP (dashboard/).
#pragma once

#include <string>
#include <vector>

namespace actsearch::cli {

int RunDashboardCommand(const std::vector<std::string>& args);

}  // namespace actsearch::cli
