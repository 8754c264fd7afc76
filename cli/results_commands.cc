// `actsearch leaderboard`, `actsearch searches` and `actsearch db`: readers open the file
// read-only, so they run beside a live search and never modify what they read.
#include "cli/results_commands.h"

#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/search_choice.h"
#include "cli/table.h"
#include "cli/usage_error.h"
#include "controller/search_config.h"
#include "search_space/suggest.h"
#include "storage/leaderboard.h"
#include "storage/schema.h"
#include "storage/search_queries.h"

namespace actsearch::cli {
namespace po = boost::program_options;

std::unique_ptr<sql::Database> OpenForReading(const std::string& path) {
  auto db = std::make_unique<sql::Database>(path, sql::OpenMode::kReadOnly);
  storage::CheckReadable(*db);
  return db;
}

namespace {

// The names --operators takes: the grammar's operators, and the modes re-evaluations record.
void CheckOperatorNames(const std::vector<std::string>& names) {
  std::vector<std::string> known = AllOperatorNames();
  known.insert(known.end(), {"sugar", "pwlu"});
  for (const std::string& name : names) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw UsageError("--operators: unknown operator '" + name + "'" + DidYouMean(name, known) +
                       " (see `actsearch space ops`; sugar and pwlu select re-evaluation runs)");
    }
  }
}

// What a search spends and has spent: its strategy and budget from the stored config.
struct Budget {
  std::string strategy;
  int64_t max_trials = 0;
  double max_seconds = 0;
};

Budget BudgetOf(const storage::SearchSummary& s) {
  if (s.kind != storage::kSearchKindSearch) return {s.kind, 0, 0};
  const std::optional<proto::SearchConfig> config = controller::ParseStoredConfig(s.config);
  if (!config) return {"?", 0, 0};
  return {controller::StrategyName(config->strategy()), config->budget().max_trials(),
          config->budget().max_seconds()};
}

// "12/24 trials, 63/600 s": progress against whatever budget the search has.
std::string Progress(const storage::SearchSummary& s, const Budget& budget, double elapsed) {
  std::string text = std::to_string(s.trials.trained());
  if (budget.max_trials > 0) text += "/" + std::to_string(budget.max_trials);
  text += " trials";
  if (budget.max_seconds > 0) {
    text += ", " + std::to_string(static_cast<int64_t>(elapsed)) + "/" +
            std::to_string(static_cast<int64_t>(budget.max_seconds)) + " s";
  }
  return text;
}

}  // namespace

int RunLeaderboardCommand(const std::vector<std::string>& args) {
  std::string path;
  SearchChoice choice;
  std::string format;
  std::string states = "done,stopped_early";
  std::string operators;
  std::string rank = "mean";
  storage::LeaderboardFilter filter;
  po::options_description options("leaderboard options");
  // clang-format off
  options.add_options()
      ("db", po::value(&path)->required(), "results database (opened read-only)");
  AddSearchFlags(options, choice);
  options.add_options()
      ("top", AtLeast<int64_t>(&filter.top, "--top", 1)->default_value(20),
       "how many classes to show")
      ("states", NonEmpty(&states, "--states")->default_value("done,stopped_early"),
       "trial states whose results count, comma-separated (done, diverged, stopped_early, ...); "
       "classes rank by the steps their results reached first, then by score")
      ("operators", po::value(&operators), "only candidates using all these operators")
      ("min-trials", AtLeast<int64_t>(&filter.min_trials, "--min-trials", 1)->default_value(1),
       "only classes with at least this many results (seeds, rewritings)")
      ("rank", Checked<std::string>(&rank, "--rank",
                                    [](const std::string& r) { return r == "mean" || r == "best"; },
                                    "mean or best")->default_value("mean"),
       "order by mean or best")
      ("format", FormatFlag(&format), "table, csv, json or jsonl");
  // clang-format on
  if (!ParseOptions(
          args, options, {}, "actsearch leaderboard --db FILE [options]",
          "  actsearch leaderboard --db results.db --top 10\n"
          "  actsearch leaderboard --db results.db --search 'proxy ppo' --format csv\n"
          "  actsearch leaderboard --db results.db --all-searches --operators sigmoid\n")) {
    return kExitOk;
  }
  filter.rank_by = rank == "best" ? storage::LeaderboardFilter::RankBy::kBest
                                  : storage::LeaderboardFilter::RankBy::kMean;
  filter.states = SplitList(states);
  filter.operators = SplitList(operators);
  CheckOperatorNames(filter.operators);

  const auto db = OpenForReading(path);
  filter.search_id = ChooseSearch(*db, choice);
  PrintLeaderboard(*db, filter, format);
  return kExitOk;
}

void PrintLeaderboard(sql::Database& db, const storage::LeaderboardFilter& filter,
                      const std::string& format) {
  const std::vector<storage::LeaderboardRow> rows = storage::QueryLeaderboard(db, filter);
  // The table shows accuracies in percent; the other formats keep fractions for machines.
  const bool percent = format == "table";
  const double scale = percent ? 100.0 : 1.0;
  // A re-evaluation on several models ranks each (class, model) on its own: show the model.
  const bool models = std::any_of(
      rows.begin(), rows.end(), [](const storage::LeaderboardRow& r) { return !r.model.empty(); });
  std::vector<std::string> columns = {
      "rank", percent ? "val%" : "validation_mean",  percent ? "+-" : "validation_std",
      "n",    percent ? "best%" : "validation_best", percent ? "test%" : "test_mean",
      "steps"};
  if (models) columns.push_back("model");
  columns.insert(columns.end(), {"expression", "fingerprint"});
  Table table(columns);
  for (const storage::LeaderboardRow& r : rows) {
    std::vector<Cell> cells;  // pushed one by one: GCC 12 misreads a braced list of variants
    cells.emplace_back(r.rank);
    cells.emplace_back(r.mean * scale);
    cells.emplace_back(r.stddev * scale);
    cells.emplace_back(r.trials);
    cells.emplace_back(r.best * scale);
    if (r.mean_test) {
      cells.emplace_back(*r.mean_test * scale);
    } else {
      cells.emplace_back(std::monostate{});
    }
    cells.emplace_back(r.steps);
    if (models) cells.emplace_back(r.model);
    cells.emplace_back(r.expression);
    cells.emplace_back(r.fingerprint);
    table.AddRow(std::move(cells));
  }
  if (rows.empty() && format == "table") {
    std::cout << "no results yet" << (filter.search_id ? " in this search" : "")
              << (filter.operators.empty() ? "" : " with these operators") << "\n";
    return;
  }
  std::cout << table.Render(format, 2);
}

int RunSearchesCommand(const std::vector<std::string>& args) {
  std::string path;
  std::string format;
  po::options_description options("searches options");
  // clang-format off
  options.add_options()
      ("db", po::value(&path)->required(), "results database (opened read-only)")
      ("format", FormatFlag(&format), "table, csv, json or jsonl");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch searches --db FILE [options]",
                    "  actsearch searches --db results.db\n"
                    "  actsearch searches --db results.db --format json\n")) {
    return kExitOk;
  }
  const auto db = OpenForReading(path);
  const double now = storage::NowSeconds();
  const bool table_format = format == "table";
  Table table = table_format
                    ? Table({"id", "name", "status", "strategy", "progress", "done", "diverged",
                             "failed", "screened", "running", "queued", "elapsed", "best_val%"})
                    : Table({"id",          "name",
                             "kind",        "status",
                             "strategy",    "trained",
                             "max_trials",  "elapsed_seconds",
                             "max_seconds", "done",
                             "diverged",    "stopped_early",
                             "failed",      "screened",
                             "running",     "queued",
                             "candidates",  "best_validation",
                             "started",     "ended",
                             "end_reason",  "controller"});
  const std::vector<storage::SearchSummary> searches = storage::ListSearches(*db);
  for (const storage::SearchSummary& s : searches) {
    const Budget budget = BudgetOf(s);
    const double elapsed = storage::ActiveSeconds(s, now);
    const std::string status = storage::LiveStatus(s, now);
    const storage::TrialCounts& t = s.trials;
    if (table_format) {
      table.AddRow({s.id, s.name, status, budget.strategy, Progress(s, budget, elapsed), t.done,
                    t.diverged, t.failed, t.screened, t.leased, t.queued, Duration(elapsed),
                    s.best_validation ? Cell(*s.best_validation * 100) : Cell(std::monostate{})});
      continue;
    }
    const std::string controller =
        s.controller_host.empty() ? ""
                                  : s.controller_host + " pid " + std::to_string(s.controller_pid) +
                                        " on " + s.controller_address;
    table.AddRow({s.id,
                  s.name,
                  s.kind,
                  status,
                  budget.strategy,
                  t.trained(),
                  budget.max_trials,
                  elapsed,
                  budget.max_seconds,
                  t.done,
                  t.diverged,
                  t.stopped_early,
                  t.failed,
                  t.screened,
                  t.leased,
                  t.queued,
                  s.candidates,
                  OptionalCell(s.best_validation),
                  IsoTime(s.started_at),
                  s.ended_at ? IsoTime(*s.ended_at) : "",
                  s.end_reason,
                  controller});
  }
  std::cout << table.Render(format, 2);
  if (table_format) {  // why a search failed is too long for its row
    for (const storage::SearchSummary& s : searches) {
      if (!s.end_reason.empty()) std::cout << "search " << s.id << ": " << s.end_reason << "\n";
    }
  }
  return kExitOk;
}

int RunDbCommand(const std::vector<std::string>& args) {
  const std::string usage = "usage: actsearch db init|check|backup --db FILE [--to COPY]\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << usage << "  init    create the file, or migrate it to this build's schema\n"
              << "  check   run SQLite's integrity check and print the schema version\n"
              << "  backup  copy the database (its -wal file included) into the new file COPY,\n"
              << "          consistent while a controller writes it\n";
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string command = args[0];
  if (command != "init" && command != "check" && command != "backup") {
    throw UsageError("unknown db command '" + command + "'" +
                     DidYouMean(command, {"init", "check", "backup"}) + "; " + usage);
  }
  std::string path, copy;
  po::options_description options("db options");
  // clang-format off
  options.add_options()
      ("db", po::value(&path)->required(), "results database")
      ("to", po::value(&copy), "backup: the new file to copy it to");
  // clang-format on
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (!ParseOptions(rest, options, {}, "actsearch db init|check|backup --db FILE [--to COPY]",
                    "  actsearch db init --db results.db\n"
                    "  actsearch db check --db results.db\n"
                    "  actsearch db backup --db results.db --to results-$(date +%F).db\n")) {
    return kExitOk;
  }
  if ((command == "backup") != !copy.empty()) {
    throw UsageError(command == "backup" ? "db backup: give --to COPY"
                                         : "--to: only for db backup");
  }
  if (command == "init") {
    sql::Database db(path, sql::OpenMode::kReadWriteCreate);
    const int before = storage::SchemaVersion(db);
    storage::PrepareForWriting(db);
    std::cout << path << ": schema version " << storage::SchemaVersion(db)
              << (before == storage::SchemaVersion(db) ? " (up to date)" : "") << "\n";
    return kExitOk;
  }
  const auto db = OpenForReading(path);
  if (command == "backup") {
    db->CopyTo(copy);
    const auto check = OpenForReading(copy);
    const std::string integrity = check->IntegrityCheck();
    std::cout << path << " -> " << copy << ": schema version " << storage::SchemaVersion(*check)
              << ", integrity " << integrity << "\n";
    return integrity == "ok" ? kExitOk : kExitFailure;
  }
  const std::string integrity = db->IntegrityCheck();
  std::cout << path << ": schema version " << storage::SchemaVersion(*db) << ", integrity "
            << integrity << "\n";
  return integrity == "ok" ? kExitOk : kExitFailure;
}

}  // namespace actsearch::cli
