#include "cli/trial_commands.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/results_commands.h"
#include "cli/search_choice.h"
#include "cli/table.h"
#include "cli/usage_error.h"
#include "controller/search_config.h"
#include "storage/search_queries.h"
#include "storage/trial_queries.h"

namespace actsearch::cli {
namespace po = boost::program_options;
namespace {

// A learning curve as stored ([[step, loss, validation|null], ...]); a corrupt one as empty.
Json CurveOf(const storage::TrialInfo& t) {
  Json curve = Json::parse(t.learning_curve, nullptr, /*allow_exceptions=*/false);
  return curve.is_array() ? curve : Json::array();
}

// What a trial of `search` trains: the search's config as JSON (the child, the dispatch
// settings, ...); null for a search without one (standalone runs).
class SearchConfigs {
 public:
  explicit SearchConfigs(sql::Database& db) : db_(db) {}

  const Json& Of(int64_t search_id) {
    auto found = configs_.find(search_id);
    if (found != configs_.end()) return found->second;
    Json config = nullptr;
    if (const auto summary = storage::FindSearchSummary(db_, search_id)) {
      if (const auto parsed = controller::ParseStoredConfig(summary->config)) {
        std::string json;
        google::protobuf::util::JsonPrintOptions options;
        options.preserve_proto_field_names = true;
        if (google::protobuf::util::MessageToJsonString(*parsed, &json, options).ok()) {
          config = Json::parse(json, nullptr, false);
        }
      }
    }
    return configs_.emplace(search_id, std::move(config)).first->second;
  }

 private:
  sql::Database& db_;
  std::map<int64_t, Json> configs_;
};

std::string Shortened(const std::string& text, size_t width) {
  const std::string line = text.substr(0, text.find('\n'));
  return line.size() <= width ? line : line.substr(0, width - 3) + "...";
}

// Every column of a trial, for the machine formats.
const std::vector<std::string> kTrialColumns = {
    "trial_id",     "search_id", "state",   "expression", "fingerprint", "tokens",
    "proposed_by",  "attempt",   "seed",    "model",      "worker",      "device",
    "validation",   "test",      "loss",    "steps",      "pruned",      "reward",
    "wall_seconds", "created",   "started", "finished",   "error"};

std::vector<Cell> TrialCells(const storage::TrialInfo& t) {
  return {t.trial_id,
          t.search_id,
          t.state,
          t.expression,
          t.fingerprint,
          t.tokens,
          t.proposed_by,
          t.attempt,
          t.seed,
          t.model,
          t.worker,
          t.device,
          OptionalCell(t.validation_accuracy),
          OptionalCell(t.test_accuracy),
          OptionalCell(t.loss),
          t.steps,
          t.pruned ? "yes" : "",
          OptionalCell(t.reward),
          t.wall_seconds,
          IsoTime(t.created_at),
          t.started_at ? IsoTime(*t.started_at) : "",
          t.finished_at ? IsoTime(*t.finished_at) : "",
          t.error.empty() ? t.screen_reason : t.error};
}

Cell Percent(const std::optional<double>& fraction) {
  return fraction ? Cell(*fraction * 100) : Cell(std::monostate{});
}

}  // namespace

int RunTrialsCommand(const std::vector<std::string>& args) {
  std::string path, format, states, sort = "id";
  SearchChoice choice;
  storage::TrialFilter filter;
  po::options_description options("trials options");
  // clang-format off
  options.add_options()
      ("db", po::value(&path)->required(), "results database (opened read-only)");
  AddSearchFlags(options, choice);
  options.add_options()
      ("state", po::value(&states),
       "only these states, comma-separated: queued, leased, done, diverged, stopped_early, "
       "failed, screened")
      ("worker", po::value(&filter.worker), "only the trials this worker (by name) holds or held")
      ("contains", po::value(&filter.expression_contains),
       "only candidates whose expression contains this text")
      ("sort", Checked<std::string>(&sort, "--sort",
                                    [](const std::string& s) { return s == "id" || s == "reward"; },
                                    "id or reward")->default_value("id"),
       "id (the order trials were created) or reward (best first)")
      ("limit", AtLeast<int64_t>(&filter.limit, "--limit", 1), "show at most this many")
      ("format", FormatFlag(&format), "table, csv, json or jsonl");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch trials --db FILE [options]",
                    "  actsearch trials --db results.db\n"
                    "  actsearch trials --db results.db --state failed,diverged\n"
                    "  actsearch trials --db results.db --sort reward --limit 10 --format csv\n")) {
    return kExitOk;
  }
  filter.states = SplitList(states);
  filter.order =
      sort == "reward" ? storage::TrialFilter::Order::kReward : storage::TrialFilter::Order::kId;
  const auto db = OpenForReading(path);
  filter.search_id = ChooseSearch(*db, choice);
  const std::vector<storage::TrialInfo> trials = storage::ListTrials(*db, filter);
  if (format != "table") {
    Table table(kTrialColumns);
    for (const storage::TrialInfo& t : trials) table.AddRow(TrialCells(t));
    std::cout << table.Render(format);
    return kExitOk;
  }
  if (trials.empty()) {
    std::cout << "no trials" << (filter.states.empty() ? "" : " in these states") << "\n";
    return kExitOk;
  }
  Table table({"trial", "state", "val%", "test%", "steps", "attempt", "worker", "seconds",
               "expression", "error"});
  for (const storage::TrialInfo& t : trials) {
    table.AddRow({t.trial_id, t.state, Percent(t.validation_accuracy), Percent(t.test_accuracy),
                  t.steps, t.attempt, t.worker, t.wall_seconds, t.expression,
                  Shortened(t.error.empty() ? t.screen_reason : t.error, 60)});
  }
  std::cout << table.Render(format, 2);
  return kExitOk;
}

int RunTrialCommand(const std::vector<std::string>& args) {
  std::string path, format;
  int64_t trial_id = 0;
  po::options_description options("trial options");
  // clang-format off
  options.add_options()
      ("db", po::value(&path)->required(), "results database (opened read-only)")
      ("id", AtLeast<int64_t>(&trial_id, "the trial id", 1)->required(),
       "the trial (`actsearch trials` lists them)")
      ("format", FormatFlag(&format), "table, csv (the learning curve), json or jsonl");
  // clang-format on
  po::positional_options_description positional;
  positional.add("id", 1);
  if (!ParseOptions(args, options, positional, "actsearch trial --db FILE ID [options]",
                    "  actsearch trial --db results.db 12\n"
                    "  actsearch trial --db results.db 12 --format json\n")) {
    return kExitOk;
  }
  const auto db = OpenForReading(path);
  const std::optional<storage::TrialInfo> found = storage::FindTrial(*db, trial_id);
  if (!found) {
    throw std::runtime_error(path + ": no trial " + std::to_string(trial_id));
  }
  const storage::TrialInfo& t = *found;
  SearchConfigs configs(*db);
  const Json curve = CurveOf(t);
  Table curve_table({"step", "loss", "validation"});
  for (const Json& point : curve) {
    if (!point.is_array() || point.size() < 3) continue;
    auto number = [](const Json& v) { return v.is_number() ? Cell(v.get<double>()) : Cell(); };
    curve_table.AddRow({point[0].is_number() ? Cell(point[0].get<int64_t>()) : Cell(),
                        number(point[1]), number(point[2])});
  }
  if (format == "csv") {
    std::cout << curve_table.Render(format);
    return kExitOk;
  }
  if (format == "json" || format == "jsonl") {
    Table one(kTrialColumns);
    one.AddRow(TrialCells(t));
    Json object = one.ToJson()[0];
    object["learning_curve"] = curve;
    object["config"] = configs.Of(t.search_id);
    std::cout << object.dump() << "\n";
    return kExitOk;
  }
  const std::vector<std::string> names = kTrialColumns;
  const std::vector<Cell> cells = TrialCells(t);
  for (size_t i = 0; i < names.size(); ++i) {
    std::printf("%-13s %s\n", names[i].c_str(), CellText(cells[i]).c_str());
  }
  const Json& config = configs.Of(t.search_id);
  if (!config.is_null()) std::printf("%-13s %s\n", "config", config.dump().c_str());
  // Under averaged-weights judging the curve's accuracies before the end are the average's.
  const bool averaged = config.is_object() && config.contains("early_stopping") &&
                        config["early_stopping"].value("averaged_weights", false);
  std::printf("\nlearning curve (%zu points%s)\n", curve_table.size(),
              averaged ? "; validation before the end: the averaged weights'" : "");
  if (curve_table.size() > 0) std::cout << curve_table.Render("table", 4);
  return kExitOk;
}

int RunExportCommand(const std::vector<std::string>& args) {
  std::string path, format = "jsonl", out_path;
  SearchChoice choice;
  po::options_description options("export options");
  // clang-format off
  options.add_options()
      ("db", po::value(&path)->required(), "results database (opened read-only)");
  AddSearchFlags(options, choice);
  options.add_options()
      ("format", Checked<std::string>(&format, "--format",
                                      [](const std::string& f) {
                                        return f == "csv" || f == "json" || f == "jsonl";
                                      },
                                      "csv, json or jsonl")->default_value("jsonl"),
       "jsonl (an object per line), json (one array) or csv (curve and config as JSON text)")
      ("out", po::value(&out_path), "write to this file (default: standard output)");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch export --db FILE [options]",
                    "  actsearch export --db results.db --out trials.jsonl\n"
                    "  actsearch export --db results.db --search 'proxy ppo' --format csv "
                    "--out trials.csv\n"
                    "  python3 -c \"import pandas; print(pandas.read_json('trials.jsonl', "
                    "lines=True))\"\n")) {
    return kExitOk;
  }
  const auto db = OpenForReading(path);
  storage::TrialFilter filter;
  filter.search_id = ChooseSearch(*db, choice);
  SearchConfigs configs(*db);
  std::vector<std::string> columns = kTrialColumns;
  columns.insert(columns.end(), {"learning_curve", "config"});
  Table table(columns);
  for (const storage::TrialInfo& t : storage::ListTrials(*db, filter)) {
    std::vector<Cell> cells = TrialCells(t);
    cells.emplace_back(JsonCell{CurveOf(t)});
    cells.emplace_back(JsonCell{configs.Of(t.search_id)});
    table.AddRow(std::move(cells));
  }
  const std::string text = table.Render(format);
  if (out_path.empty()) {
    std::cout << text;
    return kExitOk;
  }
  std::ofstream out(out_path);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(out_path + ": cannot write the export");
  std::fprintf(stderr, "actsearch: %zu trials written to %s\n", table.size(), out_path.c_str());
  return kExitOk;
}

}  // namespace actsearch::cli
