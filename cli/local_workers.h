// The worker processes of `actsearch local`: started beside the controller, each in its own
// process group (a Ctrl-C reaches the controller, which tells them to release their trials,
// instead of killing them mid-trial), with PR_SET_PDEATHSIG so that they stop with it, and
// supervised: a worker that dies (a crash, an out-of-memory kill) is replaced, its trial
// requeued by its lease; if they keep dying, the search stops as failed rather than waiting
// for workers that will never come.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "controller/controller_server.h"

namespace actsearch::cli {

struct LocalWorkerOptions {
  int workers = 2;
  std::string device = "cpu";  // cuda: worker i gets cuda:i
  int threads = 1;             // CPU threads per worker
  int max_restarts = 0;        // replacements in all before giving up; 0: 2 per worker
};

class LocalWorkers {
 public:
  explicit LocalWorkers(LocalWorkerOptions options) : options_(std::move(options)) {}
  ~LocalWorkers();
  LocalWorkers(const LocalWorkers&) = delete;
  LocalWorkers& operator=(const LocalWorkers&) = delete;

  // Starts the workers against the controller on `port` and supervises them until
  // StopSupervising; `server` must outlive that.
  void Start(int port, controller::ControllerServer& server);
  void StopSupervising();
  // Waits up to `seconds` for the workers to exit (they hear the search's end), then kills
  // what is left.
  void Reap(double seconds);
  // True when the workers kept dying and the search was stopped for it.
  bool gave_up() const { return gave_up_; }

 private:
  // Starts worker `index` (0-based) for the `life`-th time (1 at first).
  pid_t Spawn(int index, int life) const;
  void Supervise(controller::ControllerServer& server);

  LocalWorkerOptions options_;
  int port_ = 0;
  std::vector<pid_t> pids_;  // by worker index; 0 once exited normally
  std::vector<int> lives_;   // by worker index: how many times it was started
  std::atomic<bool> supervising_{false};
  std::atomic<bool> gave_up_{false};
  std::thread supervisor_;
};

}  // namespace actsearch::cli
