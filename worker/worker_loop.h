// The worker's side of the controller protocol: register, then pull trials, train each while a
// background thread heartbeats its progress (and carries the controller's stop or release
// back), and report the outcome, retrying through controller restarts and network faults.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "proto/controller.pb.h"

namespace actsearch::worker {

struct WorkerLoopOptions {
  std::string controller;  // host:port
  std::string token;       // shared token; empty: none
  std::string tls_ca_file;  // PEM of the controller's CA: TLS when set
  std::string name;         // stable worker name; default host:pid:device
  std::string device = "cpu";
  // The controller unreachable for this long (it died and is not back): give up.
  double give_up_seconds = 120;
  bool quiet = false;
};

// Trains one trial. `keep_going` returns false once the controller said stop or release:
// the runner should end the training early (its outcome is then not reported).
using TrialRunner = std::function<proto::TrialOutcome(
    const proto::Trial& trial, const std::function<bool(const proto::Progress&)>& keep_going)>;

enum class WorkerExit {
  kSearchFinished,   // the controller said the search is over
  kUnreachable,      // no controller for give_up_seconds
  kRefused,          // wrong token, or the controller refused the worker
  kStopped,          // `stop` was set (tests, signals)
};
const char* WorkerExitName(WorkerExit exit);

// Runs until the search is finished, the controller is gone, or `stop` becomes true.
WorkerExit RunWorkerLoop(const WorkerLoopOptions& options, const TrialRunner& runner,
                         const std::atomic<bool>& stop);

}  // namespace actsearch::worker
