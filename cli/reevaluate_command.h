#pragma once

#include <string>
#include <vector>

namespace actsearch::cli {

// `actsearch reevaluate`: trains the leaderboard's winners again, as themselves, as SUGAR
// surrogates and as PWLU initialisations, beside baselines, and prints their statistics.
int RunReevaluateCommand(const std::vector<std::string>& args);

}  // namespace actsearch::cli
