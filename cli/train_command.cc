#include "cli/train_command.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/exit_codes.h"
#include "cli/json.h"
#include "cli/options.h"
#include "cli/usage_error.h"
#include "search_space/parser.h"
#include "worker/data_source.h"
#include "worker/model_registry.h"
#include "worker/trainer.h"
#include "worker/trial_record.h"

namespace actsearch::cli {
namespace po = boost::program_options;
namespace {

// One line on a terminal, redrawn in place; plain lines when stderr is a file or pipe.
class ProgressPrinter {
 public:
  ProgressPrinter() : terminal_(isatty(STDERR_FILENO)) {}
  ~ProgressPrinter() {
    if (terminal_ && drawn_) std::fputc('\n', stderr);
  }

  bool operator()(const worker::Progress& p) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * p.step / std::max<int64_t>(1, p.total_steps));
    char validation[32] = "";
    if (p.validation_accuracy) {
      std::snprintf(validation, sizeof validation, "  val %.2f%%", 100 * *p.validation_accuracy);
    }
    const double rate = p.step / std::max(1e-9, p.elapsed_seconds);
    std::fprintf(stderr, "%s[%s%s] step %lld/%lld  loss %.4f%s  %.1f steps/s  %.0f s%s",
                 terminal_ ? "\r" : "", std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, ' ').c_str(), static_cast<long long>(p.step),
                 static_cast<long long>(p.total_steps), p.loss, validation, rate, p.elapsed_seconds,
                 terminal_ ? "\x1b[K" : "\n");
    std::fflush(stderr);
    drawn_ = true;
    return true;
  }

 private:
  bool terminal_;
  bool drawn_ = false;
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
  std::string format = "table";
  int64_t steps = 0, batch = 0, validation = -1, depth = 0;
  double lr = 0;
  bool no_channels_last = false, quiet = false;
  std::string db_path, search_name = "manual runs";
  std::string model;  // empty: --depth, else the default
  const std::string model_help = "the child network (default " + options.model +
                                 "): one of the forms listed below, such as " + JoinedModelNames();
  po::options_description flags("train options");
  // clang-format off
  flags.add_options()
      ("expr", po::value(&options.activation)->default_value("relu"),
       "the activation: relu, or an expression such as 'x * sigmoid(beta * x)'")
      ("dataset", po::value(&dataset)->default_value(dataset),
       "fashion-mnist[:DIR] (Debian's package, the default), cifar10:DIR, cifar100:DIR, "
       "mnist:DIR, synthetic")
      ("profile", po::value(&profile)->default_value(profile), "paper, cpu, quick or test")
      ("steps", po::value(&steps), "training steps (overrides the profile)")
      ("batch", po::value(&batch), "batch size (overrides the profile)")
      ("lr", po::value(&lr), "peak learning rate (overrides the profile)")
      ("model", po::value(&model), model_help.c_str())
      ("depth", po::value(&depth), "shorthand for --model resnetD: 20, 32, 44, 56, 110")
      ("validation", po::value(&validation), "validation images carved from training (5000)")
      ("device", po::value(&options.device)->default_value("cpu"), "cpu, cuda or cuda:N")
      ("seed", po::value(&options.seed)->default_value(0), "seed of initialisation and data order")
      ("time-limit", po::value(&options.time_limit_seconds)->default_value(0),
       "seconds before the trial ends as timed out (0: none)")
      ("threads", po::value(&options.threads)->default_value(0), "CPU threads (0: all cores)")
      ("no-channels-last", po::bool_switch(&no_channels_last), "keep NCHW memory layout")
      ("quiet", po::bool_switch(&quiet), "no progress on stderr")
      ("db", po::value(&db_path), "also record the run in this results database")
      ("search-name", po::value(&search_name)->default_value(search_name),
       "with --db: the search the run is recorded under")
      ("format", po::value(&format)->default_value("table"), "table or json");
  // clang-format on
  const std::string synopsis =
      "actsearch train [options]\n\nExit codes: 0 trained, 1 failure (e.g. bad data files), "
      "2 usage error, 3 diverged, 4 timed out\n\nModels (--model):\n" +
      worker::ModelNameForms() + "\n";
  if (!ParseOptions(args, flags, {}, synopsis.c_str())) {
    return kExitOk;
  }
  if (format != "table" && format != "json") throw UsageError("--format must be table or json");
  try {
    options.profile = worker::ProfileByName(profile);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (steps > 0) options.profile.steps = steps;
  if (batch > 0) options.profile.batch_size = batch;
  if (lr > 0) options.profile.learning_rate = lr;
  options.channels_last = !no_channels_last;
  if (depth != 0) {
    if (!model.empty()) throw UsageError("give --model or --depth, not both");
    if ((depth - 2) % 6 != 0 || depth < 8) {
      throw UsageError("--depth must be 6n + 2 (20, 32, 44, 56, 110)");
    }
    model = "resnet" + std::to_string(depth);
  }
  if (!model.empty()) options.model = model;
  try {
    worker::CheckModelName(options.model);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (options.activation != "relu") {
    try {
      Parse(options.activation);
    } catch (const ParseError& e) {
      throw UsageError(std::string("malformed expression: ") + e.what());
    }
  }
  if (options.device != "cpu" && options.device.rfind("cuda", 0) != 0) {
    throw UsageError("--device must be cpu, cuda or cuda:N");
  }
  if (options.device != "cpu" && !torch::cuda::is_available()) {
    std::cerr << "actsearch: --device " << options.device
              << ": this build or machine has no CUDA device\n";
    return kExitFailure;
  }

  const worker::DatasetSplits data = worker::LoadDataset(dataset, validation);
  ProgressPrinter printer;
  worker::ProgressCallback progress;
  if (!quiet) progress = [&printer](const worker::Progress& p) { return printer(p); };
  // Open the database before training: a bad path fails now, not after an hour of work.
  std::unique_ptr<storage::ResultsStore> store;
  if (!db_path.empty()) store = std::make_unique<storage::ResultsStore>(db_path);
  const worker::TrainResult r = worker::TrainChild(data, options, progress);
  if (store) {
    worker::RecordStandaloneRun(*store, search_name, options.activation, options.seed, r);
  }

  if (format == "json") {
    JsonObject o;
    o.Add("status", worker::TrainStatusName(r.status));
    o.Add("activation", options.activation);
    o.Add("model", options.model);
    o.Add("dataset", data.name);
    o.Add("profile", options.profile.name);
    o.Add("validation_accuracy", r.validation_accuracy);
    o.AddRaw("test_accuracy", r.test_accuracy ? JsonNumber(*r.test_accuracy) : "null");
    o.AddRaw("loss", r.final_loss ? JsonNumber(*r.final_loss) : "null");
    o.Add("steps", static_cast<uint64_t>(r.steps));
    o.Add("wall_seconds", r.wall_seconds);
    o.Add("device", r.device);
    o.Add("parameters", static_cast<uint64_t>(r.parameters));
    o.Add("error", r.error);
    o.AddRaw("learning_curve", worker::ToTrialResult(r).learning_curve);
    std::cout << o.str() << "\n";
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
    std::printf("steps                %lld in %.1f s on %s\n", static_cast<long long>(r.steps),
                r.wall_seconds, r.device.c_str());
  }
  switch (r.status) {
    case worker::TrainStatus::kDiverged: return kExitDiverged;
    case worker::TrainStatus::kTimedOut: return kExitTimedOut;
    default: return kExitOk;
  }
}

}  // namespace actsearch::cli
