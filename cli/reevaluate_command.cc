// `actsearch reevaluate`: the leaderboard's winners trained again, locally, as themselves
// (plain), as SUGAR surrogates and as PWLU initialisations, beside baselines on the same seeds.
// Every run is recorded in the same database, so the re-evaluation has a leaderboard too.
#include "cli/reevaluate_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "activation/activation_spec.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/progress_bar.h"
#include "cli/results_commands.h"
#include "cli/search_choice.h"
#include "cli/table.h"
#include "cli/usage_error.h"
#include "search_space/parser.h"
#include "search_space/printer.h"
#include "storage/leaderboard.h"
#include "storage/schema.h"
#include "worker/activation_record.h"
#include "worker/data_source.h"
#include "worker/model_registry.h"
#include "worker/reevaluation_modes.h"
#include "worker/trainer.h"

namespace actsearch::cli {
namespace po = boost::program_options;
namespace {

// One row of the result: an activation trained on every seed.
struct Entry {
  std::optional<int64_t> rank;  // the winner's place on the leaderboard; none for baselines
  std::string candidate;        // the winner's expression, or the baseline's name
  std::string mode;             // baseline, plain, sugar or pwlu
  std::string spec;             // what trains
  std::vector<worker::TrainResult> runs;
};

struct Winner {
  int64_t rank = 0;
  Expr expression;
};

std::vector<worker::ReevaluationMode> ParseModes(const std::string& list) {
  std::vector<worker::ReevaluationMode> modes;
  for (const std::string& name : SplitList(list)) {
    const std::optional<worker::ReevaluationMode> mode = worker::ReevaluationModeFromName(name);
    if (!mode) throw UsageError("unknown mode '" + name + "' in --modes (plain, sugar, pwlu)");
    if (std::find(modes.begin(), modes.end(), *mode) == modes.end()) modes.push_back(*mode);
  }
  return modes;
}

// Names (relu, swish) or specs without commas; every one must parse.
std::vector<Entry> ParseBaselines(const std::string& list) {
  std::vector<Entry> baselines;
  for (const std::string& item : SplitList(list)) {
    const std::string spec = item == "swish" ? kSwishExpression : item;
    try {
      ParseActivationSpec(spec);
    } catch (const ParseError& e) {
      throw UsageError("--baselines: " + std::string(e.what()));
    }
    baselines.push_back({std::nullopt, item, "baseline", spec, {}});
  }
  return baselines;
}

// The top `top` classes of the leaderboard of `search` (all searches when unset) that are
// grammar expressions. Rows holding sugar or pwlu specs (earlier re-evaluations) are passed
// over: they are not expressions to re-evaluate.
std::vector<Winner> ReadWinners(sql::Database& db, std::optional<int64_t> search, int64_t top) {
  storage::LeaderboardFilter filter;
  filter.search_id = search;
  filter.top = std::numeric_limits<int64_t>::max();
  std::vector<Winner> winners;
  for (const storage::LeaderboardRow& row : storage::QueryLeaderboard(db, filter)) {
    if (static_cast<int64_t>(winners.size()) == top) break;
    try {
      const ActivationSpec spec = ParseActivationSpec(row.expression);
      if (spec.kind == ActivationSpec::Kind::kRelu) {
        winners.push_back({row.rank, Parse("relu(x)")});
      } else if (spec.kind == ActivationSpec::Kind::kExpression) {
        winners.push_back({row.rank, spec.expression});
      }
    } catch (const ParseError& e) {
      std::fprintf(stderr, "reevaluate: passing over leaderboard row %lld: %s\n",
                   static_cast<long long>(row.rank), e.what());
    }
  }
  return winners;
}

// The entries to train: the baselines, then each winner in each mode, without repeats: an
// activation already in the list (same functional class or same spec) is trained once.
std::vector<Entry> Plan(std::vector<Entry> baselines, const std::vector<Winner>& winners,
                        const std::vector<worker::ReevaluationMode>& modes) {
  std::vector<Entry> entries;
  std::map<std::string, std::string> trained;  // fingerprint -> who trains it
  auto add = [&](Entry entry) {
    const std::string label = entry.mode == "baseline" ? "baseline " + entry.candidate
                                                       : entry.mode + " " + entry.candidate;
    const std::string key = worker::DescribeActivation(0, entry.spec, "").fingerprint;
    const auto [it, added] = trained.emplace(key, label);
    if (!added) {
      std::fprintf(stderr, "reevaluate: skipping %s: the same activation as %s\n", label.c_str(),
                   it->second.c_str());
      return;
    }
    entries.push_back(std::move(entry));
  };
  for (Entry& baseline : baselines) add(std::move(baseline));
  for (const Winner& winner : winners) {
    const std::string text = ToString(winner.expression);
    for (const worker::ReevaluationMode mode : modes) {
      const worker::ModeActivation activation = worker::ActivationForMode(winner.expression, mode);
      if (!activation.skipped.empty()) {
        std::fprintf(stderr, "reevaluate: skipping %s %s: %s\n", worker::ReevaluationModeName(mode),
                     text.c_str(), activation.skipped.c_str());
        continue;
      }
      add({winner.rank, text, worker::ReevaluationModeName(mode), activation.spec, {}});
    }
  }
  return entries;
}

// Mean and sample standard deviation; the deviation needs two values, the mean one.
std::pair<Cell, Cell> MeanAndStd(const std::vector<double>& values, double scale) {
  if (values.empty()) return {std::monostate{}, std::monostate{}};
  double sum = 0;
  for (const double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) return {mean * scale, std::monostate{}};
  double squares = 0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return {mean * scale, std::sqrt(squares / static_cast<double>(values.size() - 1)) * scale};
}

void PrintRunLine(ProgressBar& progress, int done, int total, const Entry& entry, uint64_t seed,
                  const worker::TrainResult& r) {
  char accuracy[64] = "";
  if (r.status == worker::TrainStatus::kDone) {
    std::snprintf(accuracy, sizeof accuracy, "  val %.2f%%", 100 * r.validation_accuracy);
    if (r.test_accuracy) {
      const size_t used = std::strlen(accuracy);
      std::snprintf(accuracy + used, sizeof accuracy - used, "  test %.2f%%",
                    100 * *r.test_accuracy);
    }
  }
  char line[1024];
  std::snprintf(line, sizeof line, "[%d/%d] %s %s seed %llu: %s%s%s  %.1f s", done, total,
                entry.mode.c_str(), entry.candidate.c_str(), static_cast<unsigned long long>(seed),
                worker::TrainStatusName(r.status), accuracy,
                r.error.empty() ? "" : (" (" + r.error + ")").c_str(), r.wall_seconds);
  progress.Note(line);
}

Table ResultTable(const std::vector<Entry>& entries, bool percent) {
  const double scale = percent ? 100.0 : 1.0;
  Table table({"rank", "activation", "mode", percent ? "val%" : "validation_mean",
               percent ? "+-" : "validation_std", percent ? "test%" : "test_mean",
               percent ? "+-" : "test_std", "runs", "diverged", "spec"});
  for (const Entry& e : entries) {
    // Statistics over the runs that finished; diverged runs are counted, not averaged as 0.
    std::vector<double> validation, test;
    int64_t diverged = 0;
    for (const worker::TrainResult& r : e.runs) {
      if (r.status == worker::TrainStatus::kDiverged) ++diverged;
      if (r.status != worker::TrainStatus::kDone) continue;
      validation.push_back(r.validation_accuracy);
      if (r.test_accuracy) test.push_back(*r.test_accuracy);
    }
    const auto [val_mean, val_std] = MeanAndStd(validation, scale);
    const auto [test_mean, test_std] = MeanAndStd(test, scale);
    // The table right-aligns a column whose first row holds a number; baselines come first,
    // without a rank: as text, every rank is aligned alike.
    Cell rank = std::monostate{};
    if (e.rank) rank = percent ? Cell(std::to_string(*e.rank)) : Cell(*e.rank);
    table.AddRow({rank, e.candidate, e.mode, val_mean, val_std, test_mean, test_std,
                  static_cast<int64_t>(e.runs.size()), diverged, e.spec});
  }
  return table;
}

}  // namespace

int RunReevaluateCommand(const std::vector<std::string>& args) {
  std::string db_path, modes_text = "plain,sugar,pwlu", baselines_text = "relu,swish";
  std::string dataset = "fashion-mnist", profile = "quick", format, search_name;
  int64_t top = 3, seeds = 3, steps = 0;
  SearchChoice choice;
  worker::TrainOptions options;
  po::options_description flags("reevaluate options");
  // clang-format off
  flags.add_options()
      ("db", po::value(&db_path)->required(),
       "results database: winners are read from its leaderboard, runs recorded in it");
  AddSearchFlags(flags, choice);
  flags.add_options()
      ("top", InRange<int64_t>(&top, "--top", 1, 1000)->default_value(top),
       "how many functional classes to re-evaluate")
      ("modes", po::value(&modes_text)->default_value(modes_text),
       "comma-separated: plain (the expression), sugar (sugar:expr=E, ReLU forward, E' "
       "backward), pwlu (pwlu:init=E)")
      ("baselines", po::value(&baselines_text)->default_value(baselines_text),
       "comma-separated: relu, swish, or activation specs without commas ('' for none)")
      ("seeds", InRange<int64_t>(&seeds, "--seeds", 1, 1000)->default_value(seeds),
       "seeds 0..S-1 for every activation")
      ("model", po::value(&options.model)->default_value(options.model),
       "the child network (see `actsearch train --help`)")
      ("dataset", po::value(&dataset)->default_value(dataset),
       "fashion-mnist[:DIR], cifar10:DIR, cifar100:DIR, mnist:DIR, synthetic")
      ("profile", po::value(&profile)->default_value(profile), "paper, cpu, quick or test")
      ("steps", InRange<int64_t>(&steps, "--steps", 1, 100000000),
       "training steps (overrides the profile)")
      ("device", po::value(&options.device)->default_value("cpu"), "cpu, cuda or cuda:N")
      ("threads", InRange(&options.threads, "--threads", 0, 1024)->default_value(0),
       "CPU threads (0: all cores)")
      ("search-name", po::value(&search_name),
       "the search the runs are recorded under (default: 'reevaluate MODEL DATASET PROFILE "
       "STEPS steps')")
      ("format", FormatFlag(&format), "table, csv, json or jsonl");
  // clang-format on
  const char* synopsis =
      "actsearch reevaluate --db FILE [options]\n\n"
      "Trains the top classes of a search's leaderboard (the latest search's, by default)\n"
      "again in each mode, and the baselines, on seeds 0..S-1, one run after another in this\n"
      "process. One line per finished run on stderr; the table on stdout: per\n"
      "activation the mean and sample standard deviation of validation and test accuracy over\n"
      "the runs that did not diverge. Modes that would repeat an activation (plain ReLU beside\n"
      "the ReLU baseline, SUGAR of ReLU) are skipped with a note.\n\n"
      "Exit codes: 0 done (diverged runs included), 1 failure (e.g. an unreadable database or\n"
      "bad data files), 2 usage error (bad flags, unknown mode, malformed spec, no winners)";
  if (!ParseOptions(args, flags, {}, synopsis,
                    "  actsearch reevaluate --db proxy.db --top 2 --seeds 2 --dataset cifar10:DIR\n"
                    "  actsearch reevaluate --db proxy.db --search 'proxy ppo' --modes sugar,pwlu "
                    "--baselines relu\n")) {
    return kExitOk;
  }

  const std::vector<worker::ReevaluationMode> modes = ParseModes(modes_text);
  if (modes.empty()) throw UsageError("--modes names no mode (plain, sugar, pwlu)");
  std::vector<Entry> baselines = ParseBaselines(baselines_text);
  try {
    options.profile = worker::ProfileByName(profile);
    worker::CheckModelName(options.model);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (steps > 0) worker::SetSteps(options.profile, steps);
  if (options.device != "cpu" && options.device.rfind("cuda", 0) != 0) {
    throw UsageError("--device must be cpu, cuda or cuda:N");
  }
  if (options.device != "cpu" && !torch::cuda::is_available()) {
    std::cerr << "actsearch: --device " << options.device
              << ": this build or machine has no CUDA device\n";
    return kExitFailure;
  }

  std::vector<Winner> winners;
  {
    const auto db = OpenForReading(db_path);
    // The winners of a search, not of an earlier re-evaluation.
    const std::optional<int64_t> search =
        ChooseSearch(*db, choice, storage::kSearchKindReevaluation);
    winners = ReadWinners(*db, search, top);
    if (winners.empty()) {
      throw UsageError(db_path + ": the leaderboard" +
                       (search ? " of search " + std::to_string(*search) : std::string()) +
                       " has no finished expressions to re-evaluate");
    }
  }
  std::vector<Entry> entries = Plan(std::move(baselines), winners, modes);
  if (entries.empty()) throw UsageError("nothing to train: every mode was skipped (see above)");
  for (const Entry& entry : entries) {
    const ActivationSpec spec = ParseActivationSpec(entry.spec);
    if (spec.kind == ActivationSpec::Kind::kPwlu &&
        options.profile.steps <= spec.pwlu.warmup_steps()) {
      std::fprintf(stderr,
                   "reevaluate: note: %s: %lld steps end within PWLU's %lld warm-up steps, so it "
                   "trains as its initial shape throughout\n",
                   entry.spec.c_str(), static_cast<long long>(options.profile.steps),
                   static_cast<long long>(spec.pwlu.warmup_steps()));
    }
  }

  const worker::DatasetSplits data = worker::LoadDataset(dataset);
  if (search_name.empty()) {
    search_name = "reevaluate " + options.model + " " + data.name + " " + options.profile.name +
                  " " + std::to_string(options.profile.steps) + " steps";
  }
  storage::ResultsStore store(db_path);
  const int64_t search_id = store.FindOrCreateSearch(search_name, storage::kSearchKindReevaluation);
  store.MarkSearchRunning(search_id);

  const int total = static_cast<int>(entries.size() * seeds);
  std::fprintf(stderr,
               "reevaluate: %zu activations x %lld seeds = %d runs of %s on %s (%s, %lld steps, "
               "%s), recorded in search '%s' (id %lld)\n",
               entries.size(), static_cast<long long>(seeds), total, options.model.c_str(),
               data.name.c_str(), options.profile.name.c_str(),
               static_cast<long long>(options.profile.steps), options.device.c_str(),
               search_name.c_str(), static_cast<long long>(search_id));
  int done = 0;
  double wall_seconds = 0;
  // On a terminal, a bar below the runs' lines: runs done, their rate and the time left.
  ProgressBar progress(/*bar_in_plain_lines=*/false);
  const auto started = std::chrono::steady_clock::now();
  for (Entry& entry : entries) {
    for (int64_t seed = 0; seed < seeds; ++seed) {
      options.activation = entry.spec;
      options.seed = static_cast<uint64_t>(seed);
      const worker::TrainResult r = worker::TrainChild(data, options);
      worker::RecordActivationRun(store, search_id, entry.spec, "reevaluate", options.seed, r);
      PrintRunLine(progress, ++done, total, entry, options.seed, r);
      if (progress.terminal() && done < total) {
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const double per_run = elapsed / done;
        char text[128];
        std::snprintf(text, sizeof text, "%d/%d runs  %.2f runs/min  %s, %s left", done, total,
                      60 / per_run, Seconds(elapsed).c_str(),
                      Seconds(per_run * (total - done)).c_str());
        progress.Update(static_cast<double>(done) / total, text);
      }
      wall_seconds += r.wall_seconds;
      entry.runs.push_back(r);
    }
  }
  store.FinishSearch(search_id, storage::SearchStatus::kFinished);
  progress.Note("reevaluate: " + std::to_string(total) + " runs, " +
                std::to_string(std::llround(wall_seconds)) + " s of training");

  std::cout << ResultTable(entries, format == "table").Render(format, 2);
  return kExitOk;
}

}  // namespace actsearch::cli
