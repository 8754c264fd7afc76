#include "cli/search_commands.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/progress_bar.h"
#include "cli/reevaluation_table.h"
#include "cli/results_commands.h"
#include "cli/serving.h"
#include "cli/table.h"
#include "cli/usage_error.h"
#include "cli/worker_processes.h"
#include "controller/controller_server.h"
#include "controller/metrics.h"
#include "controller/search_config.h"
#include "controller/search_setup.h"
#include "dashboard/http_server.h"
#include "storage/schema.h"
#include "storage/search_queries.h"
#include "storage/worker_queries.h"
#include "worker/data_source.h"
#include "worker/model_registry.h"
#include "worker/trial_runner.h"
#include "worker/worker_loop.h"

namespace actsearch::cli {
namespace po = boost::program_options;
namespace {

constexpr const char* kControllerExitCodes =
    "Exit codes: 0 search finished, 1 failure, 2 usage or config error, 5 stopped before its "
    "end\n(a signal or `actsearch stop`; run again to resume), 8 failed: trials kept failing "
    "through no\nfault of their candidates (the reason is printed; fix it and run again to "
    "resume)";

std::string RandomToken() {
  std::random_device device;
  std::string token;
  for (int i = 0; i < 4; ++i) {
    char part[9];
    std::snprintf(part, sizeof part, "%08x", device());
    token += part;
  }
  return token;
}

// One line of the controller's progress: the database's counters (storage::TrialCounts), this
// controller's rate (a resumed search's downtime does not count), and the time left when the
// budget has a trial count.
// The controller's stderr: progress (a bar redrawn in place on a terminal, plain lines
// otherwise) and log lines, which end a redrawn line first.
ProgressBar& ControllerOutput() {
  static ProgressBar output(/*bar_in_plain_lines=*/false);
  return output;
}

struct ProgressLine {
  int64_t trained_before = 0;  // when this controller started
  double started = storage::NowSeconds();

  void operator()(const controller::SchedulerStatus& s, double elapsed) const {
    const storage::TrialCounts& t = s.trials;
    const double session = storage::NowSeconds() - started;
    const double per_minute = session > 0 ? (t.trained() - trained_before) * 60.0 / session : 0;
    std::string budget = std::to_string(t.trained());
    std::string left;
    if (s.max_trials > 0) {
      budget += "/" + std::to_string(s.max_trials);
      if (per_minute > 0 && t.trained() < s.max_trials) {
        left = ", " + Duration((s.max_trials - t.trained()) * 60.0 / per_minute) + " left";
      }
    }
    // Stopped early (by the search's early stopping, or a time limit): shown once there are.
    const std::string stopped =
        t.stopped_early > 0 ? ", stopped early " + std::to_string(t.stopped_early) : "";
    char text[512];
    std::snprintf(text, sizeof text,
                  "[%7.1f s] trained %s (done %lld%s, diverged %lld, failed %lld), running %lld, "
                  "queued %lld, screened %lld, repeats %lld; %.1f trials/min%s; best %.4f %s",
                  elapsed, budget.c_str(), static_cast<long long>(t.done), stopped.c_str(),
                  static_cast<long long>(t.diverged), static_cast<long long>(t.failed),
                  static_cast<long long>(t.leased), static_cast<long long>(t.queued),
                  static_cast<long long>(t.screened), static_cast<long long>(s.repeats), per_minute,
                  left.c_str(), s.best_reward, s.best_expression.c_str());
    ControllerOutput().Update(
        s.max_trials > 0 ? static_cast<double>(t.trained()) / static_cast<double>(s.max_trials) : 0,
        text);
  }
};

struct ControllerFlags {
  std::string config_path, db_path, search, listen = "127.0.0.1:50051", token_file, tls_cert,
                                            tls_key;
  int64_t max_trials = -1;  // -1: as the config says
  double max_seconds = -1;
  double checkpoint_seconds = 30, progress_seconds = 10;
  std::string metrics_listen;  // empty: no metrics
};

void AddControllerFlags(po::options_description& flags, ControllerFlags& f) {
  // clang-format off
  flags.add_options()
      ("config", po::value(&f.config_path),
       "search config, text-format protobuf (docs/configs/ has examples); without it, the "
       "search named by --search (or the latest) is resumed from its stored config")
      ("db", po::value(&f.db_path)->required(),
       "results database; a search of the same name in it is resumed")
      ("search", po::value(&f.search), "without --config: the search to resume, by name or id")
      ("max-trials", AtLeast<int64_t>(&f.max_trials, "--max-trials", 0),
       "set the budget's trainings (0: no limit): extends a finished search")
      ("max-seconds", NonNegative(&f.max_seconds, "--max-seconds"),
       "set the budget's seconds of running time (downtime excluded; 0: no limit)")
      ("checkpoint-seconds", Positive(&f.checkpoint_seconds, "--checkpoint-seconds")
                                 ->default_value(30), "seconds between strategy checkpoints")
      ("progress-seconds", NonNegative(&f.progress_seconds, "--progress-seconds")->default_value(10),
       "seconds between progress lines on stderr (0: none)")
      ("metrics-listen", po::value(&f.metrics_listen),
       "HOST:PORT to serve Prometheus metrics on (/metrics); beyond loopback it needs the token");
  // clang-format on
}

// The search config: the file, or the stored config of the search being resumed; with the
// budget given on the command line.
proto::SearchConfig LoadSearchConfig(const ControllerFlags& f) {
  if (!f.config_path.empty() && !f.search.empty()) {
    throw UsageError("give --config or --search, not both");
  }
  controller::ConfigSource source;
  source.file = f.config_path;
  source.db_path = f.db_path;
  source.search = f.search;
  if (f.max_trials >= 0) source.max_trials = f.max_trials;
  if (f.max_seconds >= 0) source.max_seconds = f.max_seconds;
  return controller::LoadSearchConfig(source);
}

void CheckModelField(const std::string& model, const std::string& field) {
  try {
    if (!model.empty()) worker::CheckModelName(model);
  } catch (const std::invalid_argument& e) {
    throw UsageError("config field " + field + ": " + e.what());
  }
}

// What the controller can check of the children before any trial: the models' names (the
// child's and a re-evaluation's runs') and the dataset spec's form (workers load the files, on
// their own machines).
void CheckChildConfig(const proto::SearchConfig& config) {
  const proto::Child& child = config.child();
  if (!child.has_resnet()) return;
  const proto::ResNetChild& resnet = child.resnet();
  CheckModelField(resnet.model(), "child.resnet.model");
  for (int i = 0; i < config.reevaluation().runs_size(); ++i) {
    CheckModelField(config.reevaluation().runs(i).model(),
                    "reevaluation.runs[" + std::to_string(i) + "].model");
  }
  try {
    if (!resnet.dataset().empty()) worker::CheckDatasetSpec(resnet.dataset());
  } catch (const std::exception& e) {
    throw UsageError(std::string("config field child.resnet.dataset: ") + e.what());
  }
}

void CheckDevice(const std::string& device, const std::string& flag) {
  if (device != "cpu" && device.rfind("cuda", 0) != 0) {
    throw UsageError(flag + ": got " + device + ", must be cpu, cuda or cuda:N");
  }
}

int ExitCodeOf(controller::SearchEnd end) {
  switch (end) {
    case controller::SearchEnd::kFinished: return kExitOk;
    case controller::SearchEnd::kStopped: return kExitSearchStopped;
    case controller::SearchEnd::kFailed: return kExitSearchFailed;
  }
  return kExitFailure;
}

void LogLine(const std::string& line) { ControllerOutput().Note("controller: " + line); }

// The controller's Prometheus metrics on their own address and thread, from the latest status
// the server's strand handed over (controller/metrics.h).
class MetricsServer {
 public:
  MetricsServer(const std::string& listen, const std::string& token) {
    if (listen.empty()) return;
    // On loopback anyone on the machine may read them; beyond it, only with the token.
    const bool loopback = IsLoopbackListenAddress(listen);
    if (!loopback && token.empty()) {
      throw UsageError("--metrics-listen " + listen + ": serving beyond loopback needs a token");
    }
    server_ = std::make_unique<dashboard::HttpServer>(
        dashboard::HttpServerOptions{listen, loopback ? "" : token, 1, nullptr},
        [this](const dashboard::HttpRequest& r) {
          if (r.path != "/metrics") return dashboard::ErrorResponse(404, "metrics are at /metrics");
          const std::lock_guard<std::mutex> lock(mutex_);
          return dashboard::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", text_};
        });
    thread_ = std::thread([this] { server_->Run(stop_); });
  }
  ~MetricsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool enabled() const { return server_ != nullptr; }

  // On the scheduler's strand: the store may be read there.
  void Update(controller::SearchSetup& search, const controller::SchedulerStatus& s, double elapsed,
              int64_t trained_before) {
    const double now = storage::NowSeconds();
    controller::MetricsContext context;
    context.search = search.name();
    context.session_seconds = elapsed;
    context.trained_at_start = trained_before;
    for (const storage::WorkerInfo& w :
         storage::ListWorkers(search.store().database(), std::nullopt, now)) {
      if (now - w.last_seen < 60) ++context.workers_connected;
    }
    std::string text = controller::PrometheusMetrics(s, context);
    const std::lock_guard<std::mutex> lock(mutex_);
    text_ = std::move(text);
  }

 private:
  std::unique_ptr<dashboard::HttpServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::string text_;
};

// Serves `search` until it ends; `workers` (if any) start once it listens, after its port is
// written to `*workers_port`. Returns the exit code.
int ServeSearch(controller::SearchSetup& search, const ControllerFlags& f, const std::string& token,
                WorkerProcesses* workers = nullptr, int* workers_port = nullptr) {
  controller::ServiceOptions service = search.service_options();
  service.token = token;
  service.log = LogLine;
  controller::ServerOptions server_options;
  server_options.listen = f.listen;
  server_options.tls_certificate_file = f.tls_cert;
  server_options.tls_key_file = f.tls_key;
  server_options.checkpoint_seconds = f.checkpoint_seconds;
  server_options.progress_seconds = f.progress_seconds;
  server_options.expire_check_seconds = std::min(1.0, service.lease_seconds / 4);
  server_options.stop_requested = &g_stop_signal;
  ProgressLine progress;
  progress.trained_before = search.scheduler().status(storage::NowSeconds()).trials.trained();
  MetricsServer metrics(f.metrics_listen, token);
  if (metrics.enabled()) {
    server_options.status_listener = [&](const controller::SchedulerStatus& s, double elapsed) {
      metrics.Update(search, s, elapsed, progress.trained_before);
    };
  }
  controller::ControllerServer server(search.scheduler(), search.store(), service, server_options,
                                      progress);
  LogLine(std::string(search.resumed() ? "resuming" : "starting") + " search '" + search.name() +
          "' (id " + std::to_string(search.search_id()) + ", " + search.strategy().name() +
          ") on port " + std::to_string(server.port()));
  if (!search.config_changes().empty()) LogLine("changed settings: " + search.config_changes());
  if (!search.fingerprint_note().empty()) LogLine(search.fingerprint_note());
  if (!search.scheduler().restore_note().empty()) LogLine(search.scheduler().restore_note());
  if (workers) {
    *workers_port = server.port();
    workers->Start([&server](const std::string& why) {
      server.RequestStop(controller::SearchEnd::kFailed, why);
    });
  }
  const controller::SearchEnd end = server.Run();
  CatchStopSignals();  // Run gave the signals back: the end (reaping workers) is not cut short
  if (workers) workers->StopSupervising();
  switch (end) {
    case controller::SearchEnd::kFinished: LogLine("search finished"); break;
    case controller::SearchEnd::kStopped:
      LogLine("search stopped, its trials released; run again to resume");
      break;
    case controller::SearchEnd::kFailed:
      LogLine("search failed: " + server.end_reason() + "; fix it and run again to resume");
      break;
  }
  return ExitCodeOf(end);
}

// SIGTERM (a graceful stop) when the parent process ends. `actsearch local` starts its workers
// so: killed outright, it would otherwise leave them training on for a controller that is gone.
void StopWhenParentExits() {
  const pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) raise(SIGTERM);  // the parent ended before prctl took effect
}

}  // namespace

int RunControllerCommand(const std::vector<std::string>& args) {
  CatchStopSignals();
  ControllerFlags f;
  po::options_description flags("controller options");
  AddControllerFlags(flags, f);
  // clang-format off
  flags.add_options()
      ("listen", po::value(&f.listen)->default_value(f.listen),
       "address to serve on; anything but loopback needs a token")
      ("token-file", po::value(&f.token_file),
       "file whose first line is the workers' shared token (else $ACTSEARCH_TOKEN)")
      ("tls-cert", po::value(&f.tls_cert), "PEM certificate: serve TLS (with --tls-key)")
      ("tls-key", po::value(&f.tls_key), "PEM private key of --tls-cert");
  // clang-format on
  const std::string synopsis =
      "actsearch controller --config F --db F [options]\n\n"
      "Serves a search to workers (`actsearch worker`) until its budget is spent or its space\n"
      "exhausted. SIGINT, SIGTERM or `actsearch stop` stops it gracefully (a second signal at\n"
      "once); running it again on the same database resumes it.\n\n" +
      std::string(kControllerExitCodes);
  if (!ParseOptions(args, flags, {}, synopsis,
                    "  actsearch controller --config search.textproto --db search.db \\\n"
                    "      --listen 0.0.0.0:50051 --token-file token\n"
                    "  actsearch controller --db search.db --max-trials 400   # extend it\n")) {
    return kExitOk;
  }
  const std::string token = ReadToken(f.token_file);
  if (!IsLoopbackListenAddress(f.listen) && token.empty()) {
    throw UsageError("refusing to serve on " + f.listen +
                     " without a token: give --token-file or set $ACTSEARCH_TOKEN");
  }
  if (!f.tls_cert.empty()) CheckPemFile(f.tls_cert, "--tls-cert", "BEGIN CERTIFICATE");
  if (!f.tls_key.empty()) CheckPemFile(f.tls_key, "--tls-key", "PRIVATE KEY");
  const proto::SearchConfig config = LoadSearchConfig(f);
  CheckChildConfig(config);
  controller::SearchSetup search(config, f.db_path);
  const int code = ServeSearch(search, f, token, nullptr);
  // A re-evaluation's table once all its runs are in (`reevaluate --report` prints it anytime).
  if (config.has_reevaluation() && code == kExitOk) {
    std::cout << ServedReevaluationReport(search.store().database(), search.search_id());
  }
  return code;
}

namespace {

std::string HostName() {
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  return host;
}

std::string JoinedDevices(const std::vector<std::string>& devices) {
  std::string joined;
  for (const std::string& d : devices) joined += (joined.empty() ? "" : ", ") + d;
  return joined;
}

// The devices of `actsearch worker --device`: one, a comma-separated list, or `all`.
std::vector<std::string> ParseDevices(const std::string& text) {
  std::vector<std::string> devices;
  if (text == "all") {
    const int count =
        torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
    if (count == 0) throw UsageError("--device all: this build or machine has no CUDA device");
    for (int i = 0; i < count; ++i) devices.push_back("cuda:" + std::to_string(i));
    return devices;
  }
  std::stringstream list(text);
  for (std::string device; std::getline(list, device, ',');) {
    CheckDevice(device, "--device");
    devices.push_back(device);
  }
  if (devices.empty()) throw UsageError("--device: no device named");
  return devices;
}

// `actsearch worker` with several devices or --per-device above 1: one worker process per
// device and slot, each with this command's own flags but one device, supervised
// (worker/worker_processes.h) until they all end. A signal is passed on to them, so that they
// release their trials. Exit code: 5 when stopped, else 0 when every process finished, else
// the first failure's code.
int RunWorkerProcesses(const std::vector<std::string>& args,
                       const std::vector<std::string>& devices, int per_device,
                       const std::string& name, int threads) {
  // The command's own flags, less those set per process.
  std::vector<std::string> shared;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool per_process = a == "--device" || a == "--per-device" || a == "--name" ||
                             a == "--threads" || a == "--exit-with-parent";
    const bool with_value = per_process && a != "--exit-with-parent";
    const bool inline_value = a.rfind("--device=", 0) == 0 || a.rfind("--per-device=", 0) == 0 ||
                              a.rfind("--name=", 0) == 0 || a.rfind("--threads=", 0) == 0;
    if (per_process || inline_value) {
      if (with_value) ++i;
      continue;
    }
    shared.push_back(a);
  }
  const int processes = static_cast<int>(devices.size()) * per_device;
  if (threads == 0) {
    threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / processes);
  }
  const std::string base = name.empty() ? HostName() : name;
  WorkerProcessOptions options;
  options.processes = processes;
  options.label = "worker";
  options.arguments = [&](int index, int life) {
    const std::string& device = devices[index / per_device];
    std::string process_name = base + ":" + device + "#" + std::to_string(index % per_device + 1);
    if (life > 1) process_name += "." + std::to_string(life);
    std::vector<std::string> argv = shared;
    for (const std::string& a : {std::string("--device"), device, std::string("--threads"),
                                 std::to_string(threads), std::string("--name"), process_name}) {
      argv.push_back(a);
    }
    return argv;
  };
  std::fprintf(stderr, "worker: %d training processes (%d per device on %s)\n", processes,
               per_device, JoinedDevices(devices).c_str());
  WorkerProcesses workers(options);
  workers.Start([](const std::string& why) { std::fprintf(stderr, "worker: %s\n", why.c_str()); });
  while (!workers.all_exited() && !g_stop_signal) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const bool stopped = g_stop_signal;
  if (stopped) workers.Signal(SIGTERM);  // each releases its trial and exits
  while (!workers.all_exited()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  workers.StopSupervising();
  workers.Reap(0);
  if (stopped) return kExitSearchStopped;
  if (workers.gave_up()) return kExitFailure;
  for (int code : workers.exit_codes()) {
    if (code != kExitOk) return code < 0 ? kExitFailure : code;
  }
  return kExitOk;
}

}  // namespace

int RunWorkerCommand(const std::vector<std::string>& args) {
  CatchStopSignals();
  worker::WorkerLoopOptions options;
  worker::TrialRunnerOptions runner;
  std::string token_file, devices = "cpu";
  int per_device = 1;
  bool exit_with_parent = false;
  po::options_description flags("worker options");
  // clang-format off
  flags.add_options()
      ("controller", po::value(&options.controller)->required(), "the controller's HOST:PORT")
      ("token-file", po::value(&token_file),
       "file whose first line is the shared token (else $ACTSEARCH_TOKEN)")
      ("tls-ca", po::value(&options.tls_ca_file), "PEM of the controller's CA: connect with TLS")
      ("device", po::value(&devices)->default_value("cpu"),
       "cpu, cuda, cuda:N, a list (cuda:0,cuda:2) or all (every CUDA device): one training "
       "process per device and --per-device")
      ("per-device", InRange(&per_device, "--per-device", 1, 64)->default_value(1),
       "training processes per device: K children train at once on one GPU")
      ("threads", InRange(&runner.threads, "--threads", 0, 1024)->default_value(0),
       "CPU threads (0: all cores)")
      ("name", po::value(&options.name), "worker name, stable across restarts (default host:device:pid)")
      ("give-up-seconds", Positive(&options.give_up_seconds, "--give-up-seconds")
                              ->default_value(120),
       "exit when the controller has been unreachable this long")
      ("quiet", po::bool_switch(&options.quiet), "no log lines on stderr")
      ("exit-with-parent", po::bool_switch(&exit_with_parent),
       "stop as on SIGTERM when the process that started this one ends");
  // clang-format on
  if (!ParseOptions(
          args, flags, {},
          "actsearch worker --controller HOST:PORT [options]\n\n"
          "Trains the trials of a controller's search, one at a time, until the search "
          "ends.\nRun one per GPU (--device cuda:N), or one per node: --device all (or a list) "
          "starts a\ntraining process per GPU, and --per-device K trains K children at once "
          "on each.\nBefore its first trial it checks "
          "that it can train\nthe search's children (the device works, the data files "
          "load). SIGINT or SIGTERM\nstops it gracefully: its trial goes back to the "
          "queue.\n\nExit codes: 0 search finished, 1 failure (this worker cannot "
          "train the search's children),\n2 usage error, 5 stopped (a signal, or the "
          "controller stopped the search), 6 refused by\nthe controller (its token, TLS), 7 "
          "controller unreachable",
          "  actsearch worker --controller gpu-head:50051 --token-file token "
          "--device cuda:0\n")) {
    return kExitOk;
  }
  const std::vector<std::string> device_list = ParseDevices(devices);
  for (const std::string& device : device_list) {
    if (device != "cpu" && !torch::cuda::is_available()) {
      std::fprintf(stderr, "actsearch: --device %s: this build or machine has no CUDA device\n",
                   device.c_str());
      return kExitFailure;
    }
  }
  options.token = ReadToken(token_file);
  if (!options.tls_ca_file.empty()) {
    CheckPemFile(options.tls_ca_file, "--tls-ca", "BEGIN CERTIFICATE");
  }
  if (exit_with_parent) StopWhenParentExits();
  if (device_list.size() * per_device > 1) {
    return RunWorkerProcesses(args, device_list, per_device, options.name, runner.threads);
  }
  runner.device = device_list.front();
  options.device = runner.device;
  const worker::TrialRunnerWithPreflight trainer = worker::MakeTrialRunner(runner);
  const worker::WorkerExit exit =
      worker::RunWorkerLoop(options, trainer.runner, g_stop_signal, trainer.preflight);
  if (!options.quiet) std::fprintf(stderr, "worker: %s\n", worker::WorkerExitName(exit));
  switch (exit) {
    case worker::WorkerExit::kSearchFinished: return kExitOk;
    case worker::WorkerExit::kStopped:
    case worker::WorkerExit::kControllerStopped: return kExitSearchStopped;
    case worker::WorkerExit::kRefused: return kExitRefused;
    case worker::WorkerExit::kUnreachable: return kExitUnreachable;
    case worker::WorkerExit::kCannotTrain: return kExitFailure;
  }
  return kExitFailure;
}

int RunLocalCommand(const std::vector<std::string>& args) {
  CatchStopSignals();
  ControllerFlags f;
  int workers = 2, threads = 0;
  std::string device = "cpu";
  int64_t top = 10;
  po::options_description flags("local options");
  AddControllerFlags(flags, f);
  // clang-format off
  flags.add_options()
      ("workers", InRange(&workers, "--workers", 1, 256)->default_value(2),
       "worker processes to start")
      ("device", po::value(&device)->default_value("cpu"),
       "cpu, or cuda (worker i gets cuda:i)")
      ("threads", InRange(&threads, "--threads", 0, 1024)->default_value(0),
       "CPU threads per worker (0: the cores shared out among the workers)")
      ("top", AtLeast<int64_t>(&top, "--top", 1)->default_value(10),
       "rows of the leaderboard printed at the end");
  // clang-format on
  if (!ParseOptions(args, flags, {},
                    "actsearch local --config F --db F [--workers N] [options]\n\n"
                    "Runs a search on this machine: a controller on loopback and N worker "
                    "processes,\nprints progress and every failed trial's error, and ends with "
                    "the leaderboard. Ctrl-C,\nSIGTERM or `actsearch stop` stops it gracefully; "
                    "running it again on the same database\nresumes the search.\n\n" +
                        std::string(kControllerExitCodes),
                    "  actsearch local --config docs/configs/proxy-ppo.textproto --db proxy.db "
                    "--workers 2\n"
                    "  actsearch local --db proxy.db --max-trials 400   # extend the search\n")) {
    return kExitOk;
  }
  CheckDevice(device, "--device");
  if (device != "cpu" && !torch::cuda::is_available()) {
    std::fprintf(stderr, "actsearch: --device %s: this build or machine has no CUDA device\n",
                 device.c_str());
    return kExitFailure;
  }
  const proto::SearchConfig config = LoadSearchConfig(f);
  CheckChildConfig(config);
  // The workers load the same files on this machine: a dataset that does not load here fails
  // the search now, not trial by trial.
  const std::string problem = worker::MakeTrialRunner({}).preflight(config.child());
  if (!problem.empty()) {
    std::fprintf(stderr, "actsearch: cannot start the search: %s\n", problem.c_str());
    return kExitFailure;
  }
  if (threads == 0) {
    threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / workers);
  }
  f.listen = "127.0.0.1:0";
  const std::string token = RandomToken();
  setenv(kTokenVariable, token.c_str(), 1);  // the workers' token, not on their command line
  controller::SearchSetup search(config, f.db_path);
  int port = 0;
  WorkerProcessOptions options;
  options.processes = workers;
  options.label = "local";
  options.arguments = [&](int index, int life) {
    std::string name = "local-" + std::to_string(index + 1);
    if (life > 1) name += "." + std::to_string(life);
    const std::string on = device == "cuda" ? "cuda:" + std::to_string(index) : device;
    return std::vector<std::string>{"--controller",
                                    "127.0.0.1:" + std::to_string(port),
                                    "--device",
                                    on,
                                    "--threads",
                                    std::to_string(threads),
                                    "--name",
                                    name,
                                    "--give-up-seconds",
                                    "15",
                                    "--quiet"};  // the controller's lines say it all
  };
  WorkerProcesses processes(options);
  int code = ServeSearch(search, f, token, &processes, &port);
  // The workers heard the end (finished, or release) and exit; stragglers are stopped.
  processes.Reap(20);
  if (processes.gave_up()) code = kExitSearchFailed;
  std::fprintf(stderr, "\n");
  if (config.has_reevaluation()) {
    std::cout << ServedReevaluationReport(search.store().database(), search.search_id());
    return code;
  }
  storage::LeaderboardFilter leaderboard;
  leaderboard.search_id = search.search_id();
  leaderboard.top = top;
  PrintLeaderboard(search.store().database(), leaderboard, "table");
  return code;
}

int RunStopCommand(const std::vector<std::string>& args) {
  std::string path, search;
  double wait_seconds = 60;
  po::options_description flags("stop options");
  // clang-format off
  flags.add_options()
      ("db", po::value(&path)->required(), "results database of the running search")
      ("search", po::value(&search), "the search, by name or id (default: the running one)")
      ("wait-seconds", NonNegative(&wait_seconds, "--wait-seconds")->default_value(60),
       "how long to wait for the controller to release its trials and stop (0: do not wait)");
  // clang-format on
  if (!ParseOptions(args, flags, {},
                    "actsearch stop --db FILE [--search NAME|ID] [options]\n\n"
                    "Asks a running search's controller, wherever it runs, to stop as on "
                    "SIGTERM: its workers\nrelease their trials, and the search can be resumed. "
                    "Waits until it has stopped.\n\nExit codes: 0 stopped (or asked, with "
                    "--wait-seconds 0), 1 no running search, or it did\nnot stop in time, 2 "
                    "usage error",
                    "  actsearch stop --db results.db\n"
                    "  actsearch stop --db results.db --search 'proxy ppo' --wait-seconds 0\n")) {
    return kExitOk;
  }
  int64_t search_id = 0;
  {
    const auto db = OpenForReading(path);
    if (!search.empty()) {
      search_id = storage::ResolveSearch(*db, search);
    } else {
      for (const storage::SearchSummary& s : storage::ListSearches(*db)) {
        if (storage::LiveStatus(s, storage::NowSeconds()) == "running") search_id = s.id;
      }
      if (search_id == 0) throw std::runtime_error(path + ": no search is running");
    }
  }
  const auto status_of = [&] {
    const auto db = OpenForReading(path);
    return *storage::FindSearchSummary(*db, search_id);
  };
  const storage::SearchSummary before = status_of();
  const std::string live = storage::LiveStatus(before, storage::NowSeconds());
  if (live != "running" && live != "stopping") {
    throw std::runtime_error("search '" + before.name + "' is not running (" + live + ")");
  }
  storage::RequestStop(path, search_id);
  std::fprintf(stderr, "actsearch: asked the controller of search '%s' (%s pid %lld) to stop\n",
               before.name.c_str(), before.controller_host.c_str(),
               static_cast<long long>(before.controller_pid));
  if (wait_seconds == 0) return kExitOk;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    const storage::SearchSummary now = status_of();
    if (now.status != storage::SearchStatusName(storage::SearchStatus::kRunning)) {
      std::fprintf(stderr, "actsearch: search '%s' %s: %lld trials trained, %lld queued\n",
                   now.name.c_str(), now.status.c_str(),
                   static_cast<long long>(now.trials.trained()),
                   static_cast<long long>(now.trials.queued));
      return kExitOk;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::fprintf(stderr, "actsearch: search '%s' has not stopped after %.0f s\n", before.name.c_str(),
               wait_seconds);
  return kExitFailure;
}

}  // namespace actsearch::cli
