#include "cli/train_command.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "activation/activation_spec.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/progress_bar.h"
#include "cli/table.h"
#include "cli/usage_error.h"
#include "search_space/parser.h"
#include "worker/activation_record.h"
#include "worker/data_source.h"
#include "worker/model_registry.h"
#include "worker/trainer.h"
#include "worker/trial_outcome.h"

namespace actsearch::cli {
namespace po = boost::program_options;
namespace {

// Training progress: a bar with the step, loss, validation accuracy, rate and time left.
class ProgressPrinter {
 public:
  // A phase that has no steps: "loading fashion-mnist ...".
  void Note(const std::string& text) { bar_.Note(text); }

  bool operator()(const worker::Progress& p) {
    if (p.phase == worker::Progress::Phase::kEvaluating) {
      Note("evaluating on the validation and test sets after " + std::to_string(p.step) +
           " steps (" + Seconds(p.elapsed_seconds) + ")");
      return true;
    }
    char validation[32] = "";
    if (p.validation_accuracy) {
      std::snprintf(validation, sizeof validation, "  val %.2f%%", 100 * *p.validation_accuracy);
    }
    const double rate = p.step / std::max(1e-9, p.elapsed_seconds);
    const double left = (p.total_steps - p.step) / std::max(1e-9, rate);
    char text[256];
    std::snprintf(text, sizeof text, "step %lld/%lld  loss %.4f%s  %.1f steps/s  %s, %s left",
                  static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.loss,
                  validation, rate, Seconds(p.elapsed_seconds).c_str(), Seconds(left).c_str());
    bar_.Update(static_cast<double>(p.step) / std::max<int64_t>(1, p.total_steps), text);
    return true;
  }

  void EndLine() { bar_.EndLine(); }

 private:
  ProgressBar bar_;
};

std::string JoinedModelNames() {
  std::string joined;
  for (const std::string& name : worker::ModelNames())
    joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

}  // namespace

int RunTrainCommand(const std::vector<std::string>& args) {
  worker::TrainOptions options;
  std::string dataset = "fashion-mnist";
  std::string profile = "quick";
  std::string format;
  int64_t steps = 0, batch = 0, validation = 0, train_images = 0, depth = 0, seed = 0;
  int64_t evaluate_every = 0;
  double lr = 0;
  bool no_channels_last = false, no_cuda_graph = false, quiet = false;
  std::string db_path, search_name = "manual runs";
  std::string model;  // empty: --depth, else the default
  const std::string model_help = "the child network (default " + options.model +
                                 "): one of the forms listed below, such as " + JoinedModelNames();
  po::options_description flags("train options");
  // clang-format off
  flags.add_options()
      ("expr", po::value(&options.activation)->default_value("relu"),
       "the activation: relu, swish, an expression such as 'x * sigmoid(beta * x)', "
       "sugar:<surrogate>, sugar:expr=E, pwlu or pwlu:init=E (docs/reevaluation.md)")
      ("dataset", po::value(&dataset)->default_value(dataset),
       "fashion-mnist[:DIR] (Debian's package, the default), cifar10:DIR, cifar100:DIR, "
       "mnist:DIR, synthetic")
      ("profile", po::value(&profile)->default_value(profile), "paper, cpu, quick or test")
      ("steps", InRange<int64_t>(&steps, "--steps", 1, 100000000),
       "training steps (overrides the profile)")
      ("batch", InRange<int64_t>(&batch, "--batch", 1, 65536), "batch size (overrides the profile)")
      ("lr", Positive(&lr, "--lr"), "peak learning rate (overrides the profile)")
      ("model", po::value(&model), model_help.c_str())
      ("depth", AtLeast<int64_t>(&depth, "--depth", 8),
       "shorthand for --model resnetD: 20, 32, 44, 56, 110")
      ("validation", AtLeast<int64_t>(&validation, "--validation", 1),
       "validation images carved from training (default 5000)")
      ("train-images", AtLeast<int64_t>(&train_images, "--train-images", 1),
       "train on this many images of the training split (default: all): a reduced-data proxy")
      ("evaluate-every", AtLeast<int64_t>(&evaluate_every, "--evaluate-every", 1),
       "also evaluate on the validation set every N steps, into the curve (what a search's "
       "early stopping does; its cost: bench/evaluation_overhead.sh)")
      ("evaluate-averaged", po::bool_switch(&options.evaluate_averaged_weights),
       "with --evaluate-every: those evaluations judge a running average of the weights, as "
       "early_stopping's averaged_weights does; the curve shows both")
      ("device", po::value(&options.device)->default_value("cpu"), "cpu, cuda or cuda:N")
      ("seed", AtLeast<int64_t>(&seed, "--seed", 0)->default_value(0),
       "seed of initialisation and data order")
      ("time-limit", NonNegative(&options.time_limit_seconds, "--time-limit")->default_value(0),
       "seconds before the trial ends as timed out (0: none)")
      ("threads", InRange(&options.threads, "--threads", 0, 1024)->default_value(0),
       "CPU threads (0: all cores)")
      ("no-channels-last", po::bool_switch(&no_channels_last), "keep NCHW memory layout")
      ("no-cuda-graph", po::bool_switch(&no_cuda_graph),
       "on CUDA, run every step eagerly instead of replaying it as a CUDA graph")
      ("quiet", po::bool_switch(&quiet), "no progress on stderr")
      ("db", po::value(&db_path), "also record the run in this results database")
      ("search-name", NonEmpty(&search_name, "--search-name")->default_value(search_name),
       "with --db: the search the run is recorded under")
      ("format", FormatFlag(&format),
       "table, json or jsonl (the result), csv (the learning curve)");
  // clang-format on
  const std::string synopsis =
      "actsearch train [options]\n\nTrains one child network with an activation and prints "
      "its result: the search's reward\n(validation accuracy), test accuracy and learning "
      "curve.\n\nExit codes: 0 trained, 1 failure (e.g. bad data files), 2 usage error, 3 "
      "diverged, 4 timed out\n\nModels (--model):\n" +
      worker::ModelNameForms() + "\n";
  if (!ParseOptions(args, flags, {}, synopsis,
                    "  actsearch train --expr 'x * sigmoid(beta * x)' --steps 300\n"
                    "  actsearch train --expr sugar:bsilu --dataset cifar10:DIR --profile cpu\n"
                    "  actsearch train --expr 'pwlu:init=x * tanh(x)' --format json --quiet\n")) {
    return kExitOk;
  }
  try {
    options.profile = worker::ProfileByName(profile);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--profile: ") + e.what());
  }
  if (steps > 0) worker::SetSteps(options.profile, steps);
  if (batch > 0) options.profile.batch_size = batch;
  if (lr > 0) options.profile.learning_rate = lr;
  options.profile.eval_every = evaluate_every;
  if (options.evaluate_averaged_weights && evaluate_every == 0) {
    throw UsageError("--evaluate-averaged needs --evaluate-every");
  }
  options.seed = static_cast<uint64_t>(seed);
  options.channels_last = !no_channels_last;
  options.cuda_graph = !no_cuda_graph;
  if (depth != 0) {
    if (!model.empty()) throw UsageError("give --model or --depth, not both");
    if ((depth - 2) % 6 != 0) throw UsageError("--depth must be 6n + 2 (20, 32, 44, 56, 110)");
    model = "resnet" + std::to_string(depth);
  }
  if (!model.empty()) options.model = model;
  try {
    worker::CheckModelName(options.model);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--model: ") + e.what());
  }
  try {
    ParseActivationSpec(options.activation);
  } catch (const ParseError& e) {
    throw UsageError(std::string("--expr: ") + e.what());
  }
  if (options.device != "cpu" && options.device.rfind("cuda", 0) != 0) {
    throw UsageError("--device: got " + options.device + ", must be cpu, cuda or cuda:N");
  }
  if (options.device != "cpu" && !torch::cuda::is_available()) {
    std::cerr << "actsearch: --device " << options.device
              << ": this build or machine has no CUDA device\n";
    return kExitFailure;
  }

  ProgressPrinter printer;
  if (!quiet) printer.Note("loading " + dataset + " ...");
  const auto load_start = std::chrono::steady_clock::now();
  worker::DatasetSplits data = worker::LoadDataset(dataset, validation > 0 ? validation : -1);
  if (train_images > 0) worker::KeepTrainingImages(data, train_images);
  if (!quiet) {
    printer.Note(
        "loaded " + data.name + ": " + std::to_string(data.train.size()) + " train, " +
        std::to_string(data.validation.size()) + " validation, " +
        std::to_string(data.test.size()) + " test images (" +
        Seconds(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count()) +
        "); training " + std::to_string(options.profile.steps) + " steps");
  }
  worker::ProgressCallback progress;
  if (!quiet) progress = [&printer](const worker::Progress& p) { return printer(p); };
  // Open the database before training: a bad path fails now, not after an hour of work.
  std::unique_ptr<storage::ResultsStore> store;
  if (!db_path.empty()) store = std::make_unique<storage::ResultsStore>(db_path);
  const worker::TrainResult r = worker::TrainChild(data, options, progress);
  printer.EndLine();
  if (store) {
    const int64_t search = store->FindOrCreateSearch(search_name, storage::kSearchKindRuns);
    worker::RecordActivationRun(*store, search, options.activation, "manual", options.seed, r);
    store->FinishSearch(search, storage::SearchStatus::kFinished);  // nothing runs it now
  }

  const storage::TrialResult recorded = worker::ToTrialResult(r);
  if (format == "csv") {
    const bool averaged = options.evaluate_averaged_weights;
    Table curve(averaged ? std::vector<std::string>{"step", "loss", "validation", "current_weights"}
                         : std::vector<std::string>{"step", "loss", "validation"});
    for (const worker::CurvePoint& p : r.curve) {
      std::vector<Cell> row;
      row.push_back(p.step);
      row.push_back(p.loss);
      row.push_back(OptionalCell(p.validation_accuracy));
      if (averaged) row.push_back(OptionalCell(p.current_weights_accuracy));
      curve.AddRow(std::move(row));
    }
    std::cout << curve.Render(format);
  } else if (format != "table") {
    Json o = Json::object();
    o["status"] = worker::TrainStatusName(r.status);
    o["activation"] = options.activation;
    o["model"] = options.model;
    o["dataset"] = data.name;
    o["profile"] = options.profile.name;
    o["validation_accuracy"] = r.validation_accuracy;
    o["test_accuracy"] = r.test_accuracy ? Json(*r.test_accuracy) : Json(nullptr);
    o["loss"] = r.final_loss ? Json(*r.final_loss) : Json(nullptr);
    o["steps"] = r.steps;
    o["wall_seconds"] = r.wall_seconds;
    o["device"] = r.device;
    o["cuda_graph"] = r.cuda_graph;
    o["parameters"] = r.parameters;
    o["error"] = r.error;
    o["learning_curve"] = Json::parse(recorded.learning_curve, nullptr, false);
    if (options.evaluate_averaged_weights) {
      // The current weights' accuracy where the curve's is the averaged weights'.
      Json current = Json::array();
      for (const worker::CurvePoint& p : r.curve) {
        if (p.current_weights_accuracy) current.push_back({p.step, *p.current_weights_accuracy});
      }
      o["current_weights_curve"] = current;
    }
    std::cout << o.dump() << "\n";
  } else {
    std::printf("status               %s%s\n", worker::TrainStatusName(r.status),
                r.error.empty() ? "" : (" (" + r.error + ")").c_str());
    std::printf("activation           %s\n", options.activation.c_str());
    std::printf("model                %s (%lld parameters)\n", options.model.c_str(),
                static_cast<long long>(r.parameters));
    std::printf("dataset              %s (%lld train, %lld validation, %lld test)\n",
                data.name.c_str(), static_cast<long long>(data.train.size()),
                static_cast<long long>(data.validation.size()),
                static_cast<long long>(data.test.size()));
    std::printf("validation accuracy  %.2f%%\n", 100 * r.validation_accuracy);
    if (r.test_accuracy) std::printf("test accuracy        %.2f%%\n", 100 * *r.test_accuracy);
    if (r.final_loss) std::printf("final loss           %.4f\n", *r.final_loss);
    std::printf("steps                %lld in %.1f s on %s%s\n", static_cast<long long>(r.steps),
                r.wall_seconds, r.device.c_str(), r.cuda_graph ? " (CUDA graph)" : "");
  }
  switch (r.status) {
    case worker::TrainStatus::kDiverged: return kExitDiverged;
    case worker::TrainStatus::kTimedOut: return kExitTimedOut;
    default: return kExitOk;
  }
}

}  // namespace actsearch::cli
