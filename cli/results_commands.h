// The commands that read and maintain a results database: leaderboard, searches, db.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/leaderboard.h"
#include "storage/sqlite.h"

namespace actsearch::cli {

// Opens a results database read-only (it may be live) and checks it is one this build reads.
std::unique_ptr<sql::Database> OpenForReading(const std::string& path);

int RunLeaderboardCommand(const std::vector<std::string>& args);
// The leaderboard `filter` selects in `db` (any connection: a reader's, or the writer's of a
// search that just ended), printed as `format` (table, csv, json or jsonl).
void PrintLeaderboard(sql::Database& db, const storage::LeaderboardFilter& filter,
                      const std::string& format);
int RunSearchesCommand(const std::vector<std::string>& args);
int RunDbCommand(const std::vector<std::string>& args);

}  // namespace actsearch::cli
