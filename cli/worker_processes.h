// Worker processes started and supervised by another actsearch process: the workers of
// `actsearch local` beside its controller, and the per-device workers of `actsearch worker
// --device all|LIST --per-device K`. Each runs `actsearch worker` in its own process group (a
// Ctrl-C reaches the parent, which stops them gracefully instead of killing them mid-trial),
// with --exit-with-parent so that they stop with it. A process that dies (a crash, an
// out-of-memory kill) is replaced, its trial requeued by its lease; if they keep dying, the
// supervisor gives up and says so, rather than waiting for workers that will never come.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace actsearch::cli {

struct WorkerProcessOptions {
  int processes = 2;
  int max_restarts = 0;         // replacements in all before giving up; 0: 2 per process
  std::string label = "local";  // what the supervisor's lines start with
  // The arguments after `actsearch worker` of process `index` (0-based) in its `life`-th start
  // (1 at first). A replacement should get a name of its own: its dead predecessor's name
  // stays bound to that one's lease until the lease goes quiet.
  std::function<std::vector<std::string>(int index, int life)> arguments;
};

class WorkerProcesses {
 public:
  explicit WorkerProcesses(WorkerProcessOptions options) : options_(std::move(options)) {}
  ~WorkerProcesses();
  WorkerProcesses(const WorkerProcesses&) = delete;
  WorkerProcesses& operator=(const WorkerProcesses&) = delete;

  // Starts the processes and supervises them until StopSupervising or until every one has
  // exited. `give_up(why)` is called (from the supervising thread) when they kept dying.
  void Start(std::function<void(const std::string& why)> give_up);
  void StopSupervising();
  // Sends `signal` to every live process.
  void Signal(int signal);
  // True once every process has exited and none was left to replace.
  bool all_exited() const { return all_exited_; }
  // Waits up to `seconds` for the processes to exit, then kills what is left.
  void Reap(double seconds);
  // True when they kept dying and the supervisor gave up.
  bool gave_up() const { return gave_up_; }
  // The exit codes of the processes' last lives (-1: killed by a signal; 0 until exited).
  std::vector<int> exit_codes() const;

 private:
  pid_t Spawn(int index, int life) const;
  void Supervise(const std::function<void(const std::string&)>& give_up);

  WorkerProcessOptions options_;
  mutable std::mutex mutex_;  // guards pids_ and codes_ between the supervisor and callers
  std::vector<pid_t> pids_;   // by process index; 0 once exited
  std::vector<int> lives_;    // by process index: how many times it was started
  std::vector<int> codes_;    // by process index: the last life's exit code
  std::atomic<bool> supervising_{false};
  std::atomic<bool> all_exited_{false};
  std::atomic<bool> gave_up_{false};
  std::thread supervisor_;
};

}  // namespace actsearch::cli
