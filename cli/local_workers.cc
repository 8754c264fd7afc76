#include "cli/local_workers.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "cli/exit_codes.h"

extern char** environ;

namespace actsearch::cli {
namespace {

// A worker that exited with one of these is done, not dead: the search ended or stopped.
bool ExitedNormally(int status) {
  return WIFEXITED(status) &&
         (WEXITSTATUS(status) == kExitOk || WEXITSTATUS(status) == kExitSearchStopped);
}

std::string Describe(int status) {
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

LocalWorkers::~LocalWorkers() {
  StopSupervising();
  Reap(0);
}

pid_t LocalWorkers::Spawn(int index, int life) const {
  const std::string device =
      options_.device == "cuda" ? "cuda:" + std::to_string(index) : options_.device;
  // A replacement gets a name of its own: its dead predecessor's name stays bound to that
  // one's lease until the lease goes quiet.
  std::string name = "local-" + std::to_string(index + 1);
  if (life > 1) name += "." + std::to_string(life);
  // clang-format off
  std::vector<std::string> argv = {"actsearch", "worker",
                                   "--controller", "127.0.0.1:" + std::to_string(port_),
                                   "--device", device,
                                   "--threads", std::to_string(options_.threads),
                                   "--name", name,
                                   "--give-up-seconds", "15",
                                   "--exit-with-parent",
                                   "--quiet"};  // the controller's lines say it all
  // clang-format on
  std::vector<char*> c_argv;
  for (std::string& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = 0;
  const int error =
      posix_spawn(&pid, "/proc/self/exe", nullptr, &attributes, c_argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::runtime_error("cannot start a worker process");
  return pid;
}

void LocalWorkers::Start(int port, controller::ControllerServer& server) {
  port_ = port;
  for (int i = 0; i < options_.workers; ++i) pids_.push_back(Spawn(i, 1));
  lives_.assign(pids_.size(), 1);
  supervising_ = true;
  supervisor_ = std::thread([this, &server] { Supervise(server); });
}

void LocalWorkers::Supervise(controller::ControllerServer& server) {
  const int max_restarts = options_.max_restarts > 0 ? options_.max_restarts : 2 * options_.workers;
  int restarts = 0;
  bool unreplaced = false;  // a worker died and no replacement was left
  while (supervising_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    bool any_alive = false;
    for (size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] == 0) continue;
      int status = 0;
      if (waitpid(pids_[i], &status, WNOHANG) == 0) {
        any_alive = true;
        continue;
      }
      pids_[i] = 0;
      if (ExitedNormally(status) || !supervising_) continue;
      std::fprintf(stderr, "local: worker local-%zu %s", i + 1, Describe(status).c_str());
      if (restarts < max_restarts) {
        ++restarts;
        std::fprintf(stderr, "; starting another (%d of %d replacements)\n", restarts,
                     max_restarts);
        pids_[i] = Spawn(static_cast<int>(i), ++lives_[i]);
        any_alive = true;
      } else {
        std::fprintf(stderr, "; no replacements left\n");
        unreplaced = true;
      }
    }
    if (!any_alive && supervising_ && unreplaced) {
      gave_up_ = true;
      server.RequestStop(controller::SearchEnd::kFailed,
                         "every worker of `actsearch local` died (" + std::to_string(restarts) +
                             " replaced); see their errors above");
      return;
    }
  }
}

void LocalWorkers::StopSupervising() {
  supervising_ = false;
  if (supervisor_.joinable()) supervisor_.join();
}

void LocalWorkers::Reap(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (pid_t& pid : pids_) {
    if (pid == 0) continue;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    pid = 0;
  }
}

}  // namespace actsearch::cli
