// The commands that read and maintain a results database: leaderboard, searches, db.
#pragma once

#include <string>
#include <vector>

namespace actsearch::cli {

int RunLeaderboardCommand(const std::vector<std::string>& args);
int RunSearchesCommand(const std::vector<std::string>& args);
int RunDbCommand(const std::vector<std::string>& args);

}  // namespace actsearch::cli
