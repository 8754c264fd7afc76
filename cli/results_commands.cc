// `actsearch leaderboard`, `actsearch searches` and `actsearch db`: readers open the file
// read-only, so they run beside a live search and never modify what they read.
#include "cli/results_commands.h"

#include <ctime>
#include <iostream>
#include <memory>

#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/table.h"
#include "cli/usage_error.h"
#include "storage/leaderboard.h"
#include "storage/schema.h"

namespace actsearch::cli {
namespace po = boost::program_options;
namespace {

std::unique_ptr<sql::Database> OpenForReading(const std::string& path) {
  auto db = std::make_unique<sql::Database>(path, sql::OpenMode::kReadOnly);
  storage::CheckReadable(*db);
  return db;
}

Cell Optional(const std::optional<double>& value) {
  return value ? Cell(*value) : Cell(std::monostate{});
}

std::string IsoTime(double unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &utc);
  return text;
}

}  // namespace

int RunLeaderboardCommand(const std::vector<std::string>& args) {
  std::string path;
  int64_t search = 0;
  std::string format = "table";
  std::string states = "done";
  std::string operators;
  std::string rank = "mean";
  storage::LeaderboardFilter filter;
  po::options_description options("leaderboard options");
  // clang-format off
  options.add_options()
      ("db", po::value(&path)->required(), "results database (opened read-only)")
      ("search", po::value(&search), "only this search (default: all)")
      ("top", po::value(&filter.top)->default_value(20), "how many classes to show")
      ("states", po::value(&states)->default_value("done"),
       "trial states whose results count, comma-separated (done, diverged, stopped_early, ...)")
      ("operators", po::value(&operators), "only candidates using all these operators")
      ("min-trials", po::value(&filter.min_trials)->default_value(1),
       "only classes with at least this many results (seeds, rewritings)")
      ("rank", po::value(&rank)->default_value("mean"), "order by mean or best")
      ("format", po::value(&format)->default_value("table"), "table, csv or json");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch leaderboard --db FILE [options]")) {
    return kExitOk;
  }
  CheckTableFormat(format);
  if (rank != "mean" && rank != "best") throw UsageError("--rank must be mean or best");
  if (filter.top < 1) throw UsageError("--top must be at least 1");
  filter.rank_by = rank == "best" ? storage::LeaderboardFilter::RankBy::kBest
                                  : storage::LeaderboardFilter::RankBy::kMean;
  if (search > 0) filter.search_id = search;
  filter.states = SplitList(states);
  filter.operators = SplitList(operators);

  const auto db = OpenForReading(path);
  const std::vector<storage::LeaderboardRow> rows = storage::QueryLeaderboard(*db, filter);
  // The table shows accuracies in percent; CSV and JSON keep fractions for machines.
  const bool percent = format == "table";
  const double scale = percent ? 100.0 : 1.0;
  Table table({"rank", percent ? "val%" : "validation_mean", percent ? "+-" : "validation_std", "n",
               percent ? "best%" : "validation_best", percent ? "test%" : "test_mean", "expression",
               "fingerprint"});
  for (const storage::LeaderboardRow& r : rows) {
    table.AddRow({r.rank, r.mean * scale, r.stddev * scale, r.trials, r.best * scale,
                  r.mean_test ? Cell(*r.mean_test * scale) : Cell(std::monostate{}), r.expression,
                  r.fingerprint});
  }
  if (rows.empty() && format == "table") {
    std::cout << "no results yet" << (filter.search_id ? " in this search" : "") << "\n";
    return kExitOk;
  }
  std::cout << table.Render(format, 2);
  return kExitOk;
}

int RunSearchesCommand(const std::vector<std::string>& args) {
  std::string path;
  std::string format = "table";
  po::options_description options("searches options");
  // clang-format off
  options.add_options()
      ("db", po::value(&path)->required(), "results database (opened read-only)")
      ("format", po::value(&format)->default_value("table"), "table, csv or json");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch searches --db FILE [options]")) return kExitOk;
  CheckTableFormat(format);
  const auto db = OpenForReading(path);
  Table table({"id", "name", "status", "started", "candidates", "queued", "running", "finished",
               "failed", "best_validation"});
  for (const storage::SearchSummary& s : storage::ListSearches(*db)) {
    table.AddRow({s.id, s.name, s.status, IsoTime(s.started_at), s.candidates, s.queued, s.leased,
                  s.finished, s.failed, Optional(s.best_validation)});
  }
  std::cout << table.Render(format, 4);
  return kExitOk;
}

int RunDbCommand(const std::vector<std::string>& args) {
  const std::string usage = "usage: actsearch db init|check --db FILE\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << usage << "  init   create the file, or migrate it to this build's schema\n"
              << "  check  run SQLite's integrity check and print the schema version\n";
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string command = args[0];
  if (command != "init" && command != "check") {
    throw UsageError("unknown db command '" + command + "'; " + usage);
  }
  std::string path;
  po::options_description options("db options");
  // clang-format off
  options.add_options()
      ("db", po::value(&path)->required(), "results database");
  // clang-format on
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (!ParseOptions(rest, options, {}, "actsearch db init|check --db FILE")) return kExitOk;
  if (command == "init") {
    sql::Database db(path, sql::OpenMode::kReadWriteCreate);
    const int before = storage::SchemaVersion(db);
    storage::Migrate(db);
    std::cout << path << ": schema version " << storage::SchemaVersion(db)
              << (before == storage::SchemaVersion(db) ? " (up to date)" : "") << "\n";
    return kExitOk;
  }
  const auto db = OpenForReading(path);
  const std::string integrity = db->IntegrityCheck();
  std::cout << path << ": schema version " << storage::SchemaVersion(*db) << ", integrity "
            << integrity << "\n";
  return integrity == "ok" ? kExitOk : kExitFailure;
}

}  // namespace actsearch::cli
