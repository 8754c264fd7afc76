#include "cli/worker_processes.h"

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

WorkerProcesses::~WorkerProcesses() {
  StopSupervising();
  Reap(0);
}

pid_t WorkerProcesses::Spawn(int index, int life) const {
  std::vector<std::string> argv = {"actsearch", "worker"};
  for (std::string& a : options_.arguments(index, life)) argv.push_back(std::move(a));
  argv.push_back("--exit-with-parent");
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

void WorkerProcesses::Start(std::function<void(const std::string& why)> give_up) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (int i = 0; i < options_.processes; ++i) pids_.push_back(Spawn(i, 1));
    lives_.assign(pids_.size(), 1);
    codes_.assign(pids_.size(), 0);
  }
  supervising_ = true;
  supervisor_ = std::thread([this, give_up = std::move(give_up)] { Supervise(give_up); });
}

void WorkerProcesses::Supervise(const std::function<void(const std::string&)>& give_up) {
  const int max_restarts =
      options_.max_restarts > 0 ? options_.max_restarts : 2 * options_.processes;
  int restarts = 0;
  bool unreplaced = false;  // a process died and no replacement was left
  while (supervising_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    bool any_alive = false;
    const std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] == 0) continue;
      int status = 0;
      if (waitpid(pids_[i], &status, WNOHANG) == 0) {
        any_alive = true;
        continue;
      }
      pids_[i] = 0;
      codes_[i] = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      if (ExitedNormally(status) || !supervising_) continue;
      std::fprintf(stderr, "%s: worker %s-%zu %s", options_.label.c_str(), options_.label.c_str(),
                   i + 1, Describe(status).c_str());
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
    if (!any_alive) {
      all_exited_ = true;
      if (unreplaced && supervising_) {
        gave_up_ = true;
        give_up("every worker process died (" + std::to_string(restarts) +
                " replaced); see their errors above");
      }
      return;
    }
  }
}

void WorkerProcesses::StopSupervising() {
  supervising_ = false;
  if (supervisor_.joinable()) supervisor_.join();
}

void WorkerProcesses::Signal(int signal) {
  const std::lock_guard<std::mutex> lock(mutex_);
  for (pid_t pid : pids_) {
    if (pid != 0) kill(pid, signal);
  }
}

std::vector<int> WorkerProcesses::exit_codes() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return codes_;
}

void WorkerProcesses::Reap(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < pids_.size(); ++i) {
    pid_t& pid = pids_[i];
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
    codes_[i] = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid = 0;
  }
}

}  // namespace actsearch::cli
