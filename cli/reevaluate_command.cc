// `actsearch reevaluate`: the leaderboard's winners trained again, locally, as themselves
// (plain), as SUGAR surrogates and as PWLU initialisations, beside baselines on the same seeds.
// Every run is recorded in the same database, so the re-evaluation has a leaderboard too.
#include "cli/reevaluate_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "activation/activation_spec.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/progress_bar.h"
#include "cli/reevaluation_table.h"
#include "cli/results_commands.h"
#include "cli/search_choice.h"
#include "cli/table.h"
#include "cli/usage_error.h"
#include "controller/search_config.h"
#include "search_space/parser.h"
#include "search_space/printer.h"
#include "storage/leaderboard.h"
#include "storage/schema.h"
#include "storage/search_queries.h"
#include "worker/activation_record.h"
#include "worker/data_source.h"
#include "worker/model_registry.h"
#include "worker/reevaluation_modes.h"
#include "worker/trainer.h"

namespace actsearch::cli {
namespace po = boost::program_options;
namespace {

// One row of the result: an activation trained on one model on every seed.
struct Entry {
  std::optional<int64_t> rank;  // the winner's place on the leaderboard; none for baselines
  std::string candidate;        // the winner's expression, or the baseline's name
  std::string mode;             // baseline, plain, sugar or pwlu
  std::string spec;             // what trains
  std::string model;            // the child network, set once the plan is crossed with --model
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
    baselines.push_back({std::nullopt, item, "baseline", spec, "", {}});
  }
  return baselines;
}

// The top `top` classes of the leaderboard of `search` (all searches when unset) that are
// grammar expressions. Rows holding sugar or pwlu specs (earlier re-evaluations) are passed
// over: they are not expressions to re-evaluate; so is a class's row on a second model.
std::vector<Winner> ReadWinners(sql::Database& db, std::optional<int64_t> search, int64_t top) {
  storage::LeaderboardFilter filter;
  filter.search_id = search;
  filter.top = std::numeric_limits<int64_t>::max();
  std::vector<Winner> winners;
  std::set<std::string> classes;
  for (const storage::LeaderboardRow& row : storage::QueryLeaderboard(db, filter)) {
    if (static_cast<int64_t>(winners.size()) == top) break;
    if (!classes.insert(row.fingerprint).second) continue;
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
      add({winner.rank, text, worker::ReevaluationModeName(mode), activation.spec, "", {}});
    }
  }
  return entries;
}

// The models of --model (comma-separated), each a name the model registry builds.
std::vector<std::string> ParseModels(const std::string& list) {
  std::vector<std::string> models;
  for (const std::string& name : SplitList(list)) {
    try {
      worker::CheckModelName(name);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--model: ") + e.what());
    }
    if (std::find(models.begin(), models.end(), name) == models.end()) models.push_back(name);
  }
  if (models.empty()) throw UsageError("--model names no model (e.g. resnet20)");
  return models;
}

// Every planned activation on every model, model after model: one row of the table each.
std::vector<Entry> OnModels(const std::vector<Entry>& planned,
                            const std::vector<std::string>& models) {
  std::vector<Entry> entries;
  for (const std::string& model : models) {
    for (Entry entry : planned) {
      entry.model = model;
      entries.push_back(std::move(entry));
    }
  }
  return entries;
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
  std::snprintf(line, sizeof line, "[%d/%d] %s %s on %s seed %llu: %s%s%s  %.1f s", done, total,
                entry.mode.c_str(), entry.candidate.c_str(), entry.model.c_str(),
                static_cast<unsigned long long>(seed), worker::TrainStatusName(r.status), accuracy,
                r.error.empty() ? "" : (" (" + r.error + ")").c_str(), r.wall_seconds);
  progress.Note(line);
}

// The table's rows for runs trained here: statistics over the runs that finished.
std::vector<ReevaluationRow> RowsOf(const std::vector<Entry>& entries) {
  std::vector<ReevaluationRow> rows;
  for (const Entry& e : entries) {
    ReevaluationRow row{e.rank, e.candidate, e.mode, e.spec, e.model, {}, {}, 0, 0};
    row.runs = static_cast<int64_t>(e.runs.size());
    for (const worker::TrainResult& r : e.runs) {
      if (r.status == worker::TrainStatus::kDiverged) ++row.diverged;
      if (r.status != worker::TrainStatus::kDone) continue;
      row.validation.push_back(r.validation_accuracy);
      if (r.test_accuracy) row.test.push_back(*r.test_accuracy);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// The dataset's name in a search's name: the spec's kind (cifar10 for cifar10:DIR).
std::string DatasetKind(const std::string& spec) { return spec.substr(0, spec.find(':')); }

// The default name of a re-evaluation's search: 'reevaluate MODEL DATASET PROFILE STEPS steps'.
std::string DefaultSearchName(const std::string& model, const std::string& dataset,
                              const worker::TrainingProfile& profile) {
  return "reevaluate " + model + " " + dataset + " " + profile.name + " " +
         std::to_string(profile.steps) + " steps";
}

// A config that serves `entries` x `seeds` as trials through the controller (the workers load
// `dataset` themselves), written to `path` with a note on how to run it. The child is the first
// model's; with several models, each run names its own.
void WriteReevaluationConfig(const std::string& path, const std::string& name,
                             const std::vector<Entry>& entries, int64_t seeds,
                             const std::string& dataset, const std::vector<std::string>& models,
                             const std::string& profile, int64_t steps) {
  proto::SearchConfig config;
  config.set_name(name);
  proto::ResNetChild& child = *config.mutable_child()->mutable_resnet();
  child.set_dataset(dataset);
  child.set_model(models.front());
  child.set_profile(profile);
  child.set_steps(steps);
  proto::Reevaluation& reevaluation = *config.mutable_reevaluation();
  reevaluation.set_seeds(seeds);
  for (const Entry& entry : entries) {
    const storage::NewCandidate described = worker::DescribeActivation(0, entry.spec, "reevaluate");
    proto::Reevaluation::Run& run = *reevaluation.add_runs();
    run.set_spec(described.expression);
    run.set_fingerprint(described.fingerprint);
    run.set_candidate(entry.candidate);
    run.set_mode(entry.mode);
    run.set_rank(entry.rank.value_or(0));
    if (models.size() > 1) run.set_model(entry.model);
    for (const std::string& op : described.operators) run.add_operators(op);
  }
  controller::ValidateSearchConfig(config);
  std::ofstream out(path);
  out << "# A re-evaluation written by `actsearch reevaluate --write-config`: each run below\n"
         "# trains on seeds 0.."
      << seeds - 1
      << " as trials any worker leases (docs/reevaluation.md). Serve it with\n"
         "#   actsearch controller --config FILE --db DB --listen HOST:PORT   (or actsearch "
         "local)\n"
         "# and see its table with `actsearch reevaluate --db DB --report`.\n"
      << controller::StoredConfigText(config);
  if (!out.flush()) throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
}

// The latest re-evaluation served by a controller in the database, or the one `search` names.
int64_t ServedReevaluation(sql::Database& db, const std::string& search) {
  if (!search.empty()) return storage::ResolveSearch(db, search);
  const std::vector<storage::SearchSummary> searches = storage::ListSearches(db);
  for (auto it = searches.rbegin(); it != searches.rend(); ++it) {
    const std::optional<proto::SearchConfig> config = controller::ParseStoredConfig(it->config);
    if (config && config->has_reevaluation()) return it->id;
  }
  throw std::runtime_error(db.path() +
                           ": holds no re-evaluation served by a controller (write one with "
                           "--write-config)");
}

}  // namespace

int RunReevaluateCommand(const std::vector<std::string>& args) {
  std::string db_path, modes_text = "plain,sugar,pwlu", baselines_text = "relu,swish";
  std::string dataset = "fashion-mnist", profile = "quick", format, search_name, config_path;
  std::string models_text = worker::TrainOptions().model;
  std::optional<std::string> report;
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
      ("model", po::value(&models_text)->default_value(models_text),
       "the child network, or several comma-separated: every activation trains on each (see "
       "`actsearch train --help`)")
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
       "STEPS steps'); several models trained here make one search each: the default name "
       "of each model, or this name followed by the model's")
      ("write-config", po::value(&config_path),
       "plan the runs and write them to this file as a config that `actsearch controller` (or "
       "`local`) serves to workers, instead of training them here")
      ("report", po::value<std::string>()->implicit_value("")->notifier(
                     [&report](const std::string& value) { report = value; }),
       "print the table of a re-evaluation served by a controller (the latest, or this name or "
       "id) from the database, and exit")
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
      "On a cluster, --write-config FILE plans the same runs as a config: `actsearch\n"
      "controller --config FILE` leases them to any workers (each run and seed one trial,\n"
      "retried when its worker dies, resumed when the controller restarts) and prints the\n"
      "table at the end; --report prints it from the database at any time.\n\n"
      "Exit codes: 0 done (diverged runs included), 1 failure (e.g. an unreadable database or\n"
      "bad data files), 2 usage error (bad flags, unknown mode, malformed spec, no winners)";
  if (!ParseOptions(
          args, flags, {}, synopsis,
          "  actsearch reevaluate --db proxy.db --top 2 --seeds 2 --dataset cifar10:DIR\n"
          "  actsearch reevaluate --db proxy.db --search 'proxy ppo' --modes sugar,pwlu "
          "--baselines relu\n"
          "  actsearch reevaluate --db proxy.db --top 5 --seeds 5 --model resnet20,resnet56 \\\n"
          "      --dataset cifar10:/data/cifar10 --write-config reevaluate.textproto\n"
          "  actsearch reevaluate --db proxy.db --report\n")) {
    return kExitOk;
  }
  if (report) {
    const auto db = OpenForReading(db_path);
    std::cout << ServedReevaluationReport(*db, ServedReevaluation(*db, *report), format);
    return kExitOk;
  }

  const std::vector<worker::ReevaluationMode> modes = ParseModes(modes_text);
  if (modes.empty()) throw UsageError("--modes names no mode (plain, sugar, pwlu)");
  std::vector<Entry> baselines = ParseBaselines(baselines_text);
  const std::vector<std::string> models = ParseModels(models_text);
  try {
    options.profile = worker::ProfileByName(profile);
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
  const std::vector<Entry> planned = Plan(std::move(baselines), winners, modes);
  if (planned.empty()) throw UsageError("nothing to train: every mode was skipped (see above)");
  for (const Entry& entry : planned) {
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
  std::vector<Entry> entries = OnModels(planned, models);
  const int total = static_cast<int>(entries.size() * seeds);
  char plan[256];
  std::snprintf(plan, sizeof plan, "%zu activations x %zu model%s x %lld seeds = %d runs",
                planned.size(), models.size(), models.size() == 1 ? "" : "s",
                static_cast<long long>(seeds), total);

  if (!config_path.empty()) {
    try {
      worker::CheckDatasetSpec(dataset);
    } catch (const std::exception& e) {
      throw UsageError(std::string("--dataset: ") + e.what());
    }
    if (search_name.empty()) {
      std::string model_names;
      for (const std::string& model : models) {
        model_names += (model_names.empty() ? "" : ",") + model;
      }
      search_name = DefaultSearchName(model_names, DatasetKind(dataset), options.profile);
    }
    WriteReevaluationConfig(config_path, search_name, entries, seeds, dataset, models, profile,
                            options.profile.steps);
    std::fprintf(stderr,
                 "reevaluate: wrote %s as '%s' to %s; serve them with\n  actsearch controller "
                 "--config %s --db %s --listen HOST:PORT\n",
                 plan, search_name.c_str(), config_path.c_str(), config_path.c_str(),
                 db_path.c_str());
    return kExitOk;
  }
  const worker::DatasetSplits data = worker::LoadDataset(dataset);
  // Trained here, each model's runs are a search of their own: its leaderboard compares
  // activations on one network.
  auto search_name_of = [&](const std::string& model) {
    if (search_name.empty()) return DefaultSearchName(model, data.name, options.profile);
    return models.size() == 1 ? search_name : search_name + " " + model;
  };
  storage::ResultsStore store(db_path);
  std::map<std::string, int64_t> search_of_model;
  for (const std::string& model : models) {
    const std::string name = search_name_of(model);
    const int64_t id = store.FindOrCreateSearch(name, storage::kSearchKindReevaluation);
    store.MarkSearchRunning(id);
    search_of_model[model] = id;
    std::fprintf(stderr, "reevaluate: runs of %s recorded in search '%s' (id %lld)\n",
                 model.c_str(), name.c_str(), static_cast<long long>(id));
  }
  std::fprintf(stderr, "reevaluate: %s on %s (%s, %lld steps, %s)\n", plan, data.name.c_str(),
               options.profile.name.c_str(), static_cast<long long>(options.profile.steps),
               options.device.c_str());
  int done = 0;
  double wall_seconds = 0;
  // On a terminal, a bar below the runs' lines: runs done, their rate and the time left.
  ProgressBar progress(/*bar_in_plain_lines=*/false);
  const auto started = std::chrono::steady_clock::now();
  for (Entry& entry : entries) {
    for (int64_t seed = 0; seed < seeds; ++seed) {
      options.activation = entry.spec;
      options.model = entry.model;
      options.seed = static_cast<uint64_t>(seed);
      const worker::TrainResult r = worker::TrainChild(data, options);
      worker::RecordActivationRun(store, search_of_model.at(entry.model), entry.spec, "reevaluate",
                                  options.seed, r);
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
  for (const auto& [model, id] : search_of_model) {
    store.FinishSearch(id, storage::SearchStatus::kFinished);
  }
  progress.Note("reevaluate: " + std::to_string(total) + " runs, " +
                std::to_string(std::llround(wall_seconds)) + " s of training");

  std::cout << ReevaluationTable(RowsOf(entries), format == "table").Render(format, 2);
  return kExitOk;
}

}  // namespace actsearch::cli
