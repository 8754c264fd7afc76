#include "cli/search_commands.h"

#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "cli/config_file.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/results_commands.h"
#include "cli/usage_error.h"
#include "controller/controller_server.h"
#include "controller/search_setup.h"
#include "worker/trial_runner.h"
#include "worker/worker_loop.h"

extern char** environ;

namespace actsearch::cli {
namespace po = boost::program_options;
namespace {

constexpr const char* kTokenVariable = "ACTSEARCH_TOKEN";

// The shared token: the first line of --token-file, else $ACTSEARCH_TOKEN, else none.
std::string ReadToken(const std::string& token_file) {
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) throw UsageError(token_file + ": cannot read the token file");
    std::string token;
    std::getline(in, token);
    if (token.empty()) throw UsageError(token_file + ": the token file is empty");
    return token;
  }
  const char* from_environment = std::getenv(kTokenVariable);
  return from_environment ? from_environment : "";
}

bool IsLoopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address.rfind("localhost:", 0) == 0 ||
         address.rfind("[::1]:", 0) == 0;
}

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

void PrintProgress(const controller::SchedulerStatus& s, double elapsed) {
  const double per_minute = elapsed > 0 ? s.trained * 60.0 / elapsed : 0;
  std::fprintf(stderr,
               "[%7.1f s] trained %lld, in flight %lld, queued %lld, screened %lld, repeats %lld, "
               "%.1f trials/min; best %.4f %s\n",
               elapsed, static_cast<long long>(s.trained), static_cast<long long>(s.in_flight),
               static_cast<long long>(s.queued), static_cast<long long>(s.screened),
               static_cast<long long>(s.repeats), per_minute, s.best_reward,
               s.best_expression.c_str());
}

struct ControllerFlags {
  std::string config_path, db_path, listen = "127.0.0.1:50051", token_file, tls_cert, tls_key;
  double checkpoint_seconds = 30, progress_seconds = 10;
};

void AddControllerFlags(po::options_description& flags, ControllerFlags& f) {
  // clang-format off
  flags.add_options()
      ("config", po::value(&f.config_path)->required(),
       "search config, text-format protobuf (docs/configs/ has examples)")
      ("db", po::value(&f.db_path)->required(),
       "results database; a search of the same name in it is resumed")
      ("checkpoint-seconds", po::value(&f.checkpoint_seconds)->default_value(30),
       "seconds between strategy checkpoints")
      ("progress-seconds", po::value(&f.progress_seconds)->default_value(10),
       "seconds between progress lines on stderr (0: none)");
  // clang-format on
}

// Builds the search and serves it until it ends; returns the exit code.
int ServeSearch(const ControllerFlags& f, const std::string& token,
                const std::function<void(int port)>& on_listening) {
  const proto::SearchConfig config = ReadSearchConfig(f.config_path);
  ValidateSearchConfig(config);
  std::unique_ptr<controller::SearchSetup> search;
  try {
    search = std::make_unique<controller::SearchSetup>(config, SpaceSpecFromProto(config.space()),
                                                       f.db_path);
  } catch (const controller::ConfigError& e) {
    throw UsageError(e.what());
  }
  controller::ServiceOptions service;
  service.token = token;
  service.config = config;
  service.search_name = search->name();
  service.strategy_name = search->strategy().name();
  service.search_id = search->search_id();
  service.search_started_at = search->started_at();
  if (config.dispatch().heartbeat_seconds() > 0) {
    service.heartbeat_seconds = config.dispatch().heartbeat_seconds();
  }
  if (config.dispatch().lease_seconds() > 0) service.lease_seconds = config.dispatch().lease_seconds();
  controller::ServerOptions server_options;
  server_options.listen = f.listen;
  server_options.tls_certificate_file = f.tls_cert;
  server_options.tls_key_file = f.tls_key;
  server_options.checkpoint_seconds = f.checkpoint_seconds;
  server_options.progress_seconds = f.progress_seconds;
  server_options.expire_check_seconds = std::min(1.0, service.lease_seconds / 4);
  controller::ControllerServer server(search->scheduler(), search->store(), service,
                                      server_options, PrintProgress);
  std::fprintf(stderr, "controller: %s search '%s' (id %lld, %s) on port %d\n",
               search->resumed() ? "resuming" : "starting", search->name().c_str(),
               static_cast<long long>(search->search_id()), search->strategy().name().c_str(),
               server.port());
  if (on_listening) on_listening(server.port());
  const controller::SearchEnd end = server.Run();
  std::fprintf(stderr, "controller: search %s\n",
               end == controller::SearchEnd::kFinished ? "finished" : "stopped (resumable)");
  return end == controller::SearchEnd::kFinished ? kExitOk : kExitSearchStopped;
}

std::atomic<bool> g_worker_stop{false};
extern "C" void StopWorkerOnSignal(int) { g_worker_stop = true; }

// SIGTERM (a graceful stop) when the parent process ends. `actsearch local` starts its workers
// so: killed outright, it would otherwise leave them training on for a controller that is gone.
void StopWhenParentExits() {
  const pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) raise(SIGTERM);  // the parent ended before prctl took effect
}

}  // namespace

int RunControllerCommand(const std::vector<std::string>& args) {
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
  if (!ParseOptions(args, flags, {},
                    "actsearch controller --config F --db F [options]\n\n"
                    "Serves a search to workers (`actsearch worker`) until its budget is spent or "
                    "its space exhausted.\nSIGINT/SIGTERM stops it gracefully; running it again "
                    "on the same database resumes it.\n\nExit codes: 0 search finished, 1 "
                    "failure, 2 usage or config error, 5 stopped before its end (resumable)")) {
    return kExitOk;
  }
  const std::string token = ReadToken(f.token_file);
  if (token.empty() && !IsLoopback(f.listen)) {
    throw UsageError("refusing to serve on " + f.listen +
                     " without a token: give --token-file or set $ACTSEARCH_TOKEN");
  }
  return ServeSearch(f, token, nullptr);
}

int RunWorkerCommand(const std::vector<std::string>& args) {
  worker::WorkerLoopOptions options;
  worker::TrialRunnerOptions runner;
  std::string token_file;
  bool exit_with_parent = false;
  po::options_description flags("worker options");
  // clang-format off
  flags.add_options()
      ("controller", po::value(&options.controller)->required(), "the controller's HOST:PORT")
      ("token-file", po::value(&token_file),
       "file whose first line is the shared token (else $ACTSEARCH_TOKEN)")
      ("tls-ca", po::value(&options.tls_ca_file), "PEM of the controller's CA: connect with TLS")
      ("device", po::value(&runner.device)->default_value("cpu"), "cpu, cuda or cuda:N")
      ("threads", po::value(&runner.threads)->default_value(0), "CPU threads (0: all cores)")
      ("name", po::value(&options.name), "worker name, stable across restarts (default host:device:pid)")
      ("give-up-seconds", po::value(&options.give_up_seconds)->default_value(120),
       "exit when the controller has been unreachable this long")
      ("quiet", po::bool_switch(&options.quiet), "no log lines on stderr")
      ("exit-with-parent", po::bool_switch(&exit_with_parent),
       "stop as on SIGTERM when the process that started this one ends");
  // clang-format on
  if (!ParseOptions(args, flags, {},
                    "actsearch worker --controller HOST:PORT [options]\n\n"
                    "Trains the trials of a controller's search, one at a time, until the search "
                    "ends.\nRun one per GPU (--device cuda:N).\n\nExit codes: 0 search finished, "
                    "1 failure, 2 usage error, 5 stopped by a signal, 6 refused by the controller "
                    "(token), 7 controller unreachable")) {
    return kExitOk;
  }
  options.token = ReadToken(token_file);
  options.device = runner.device;
  signal(SIGINT, StopWorkerOnSignal);
  signal(SIGTERM, StopWorkerOnSignal);
  if (exit_with_parent) StopWhenParentExits();
  const worker::WorkerExit exit =
      worker::RunWorkerLoop(options, worker::MakeTrialRunner(runner), g_worker_stop);
  if (!options.quiet) std::fprintf(stderr, "worker: %s\n", worker::WorkerExitName(exit));
  switch (exit) {
    case worker::WorkerExit::kSearchFinished: return kExitOk;
    case worker::WorkerExit::kStopped: return kExitSearchStopped;
    case worker::WorkerExit::kRefused: return kExitRefused;
    case worker::WorkerExit::kUnreachable: return kExitUnreachable;
  }
  return kExitFailure;
}

int RunLocalCommand(const std::vector<std::string>& args) {
  ControllerFlags f;
  int workers = 2;
  std::string device = "cpu";
  int threads = 0;
  int top = 10;
  po::options_description flags("local options");
  AddControllerFlags(flags, f);
  // clang-format off
  flags.add_options()
      ("workers", po::value(&workers)->default_value(2), "worker processes to start")
      ("device", po::value(&device)->default_value("cpu"),
       "cpu, or cuda (worker i gets cuda:i)")
      ("threads", po::value(&threads)->default_value(0),
       "CPU threads per worker (0: the cores shared out among the workers)")
      ("top", po::value(&top)->default_value(10), "rows of the leaderboard printed at the end");
  // clang-format on
  if (!ParseOptions(args, flags, {},
                    "actsearch local --config F --db F [--workers N] [options]\n\n"
                    "Runs a search on this machine: a controller on loopback and N worker "
                    "processes,\nprints progress, and ends with the leaderboard. Running it again "
                    "on the same database resumes the search.\n\nExit codes: 0 search finished, "
                    "1 failure, 2 usage or config error, 5 stopped before its end (resumable)")) {
    return kExitOk;
  }
  if (workers < 1) throw UsageError("--workers must be at least 1");
  if (threads == 0) {
    threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / workers);
  }
  f.listen = "127.0.0.1:0";
  const std::string token = RandomToken();
  setenv(kTokenVariable, token.c_str(), 1);  // the workers' token, not on their command line
  std::vector<pid_t> children;
  int64_t search_id = 0;
  const int code = ServeSearch(f, token, [&](int port) {
    for (int i = 0; i < workers; ++i) {
      const std::string worker_device = device == "cuda" ? "cuda:" + std::to_string(i) : device;
      std::vector<std::string> argv = {"actsearch", "worker",
                                       "--controller", "127.0.0.1:" + std::to_string(port),
                                       "--device", worker_device,
                                       "--threads", std::to_string(threads),
                                       "--name", "local-" + std::to_string(i + 1),
                                       "--give-up-seconds", "15",
                                       "--exit-with-parent",
                                       "--quiet"};  // the controller's progress lines say it all
      std::vector<char*> c_argv;
      for (std::string& a : argv) c_argv.push_back(a.data());
      c_argv.push_back(nullptr);
      // Their own process group: a Ctrl-C reaches the controller, which tells them to release
      // their trials, instead of killing them mid-trial.
      posix_spawnattr_t attributes;
      posix_spawnattr_init(&attributes);
      posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
      posix_spawnattr_setpgroup(&attributes, 0);
      pid_t pid = 0;
      const int error =
          posix_spawn(&pid, "/proc/self/exe", nullptr, &attributes, c_argv.data(), environ);
      posix_spawnattr_destroy(&attributes);
      if (error != 0) throw std::runtime_error("cannot start a worker process");
      children.push_back(pid);
    }
  });
  // The workers heard the end (finished, or release) and exit; give them a moment, then stop
  // any straggler.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (pid_t pid : children) {
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  {
    storage::ResultsStore store(f.db_path);
    const proto::SearchConfig config = ReadSearchConfig(f.config_path);
    search_id = store.FindSearch(config.name().empty() ? "search" : config.name())->id;
  }
  std::fprintf(stderr, "\n");
  RunLeaderboardCommand({"--db", f.db_path, "--search", std::to_string(search_id), "--top",
                         std::to_string(top)});
  return code;
}

}  // namespace actsearch::cli
