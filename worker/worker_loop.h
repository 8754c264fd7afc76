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
  std::string controller;   // host:port
  std::string token;        // shared token; empty: none
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

// Checks, before any trial, that this worker can train the search's children (its data files
// load, its device works): an empty string when it can, else why not.
using Preflight = std::function<std::string(const proto::Child& child)>;

enum class WorkerExit {
  kSearchFinished,     // the controller said the search is over
  kUnreachable,        // no controller for give_up_seconds
  kRefused,            // wrong token, or the controller refused the worker
  kStopped,            // `stop` was set (tests, signals)
  kControllerStopped,  // the controller stopped before the search's end (resumable)
  kCannotTrain,        // the preflight failed: this worker cannot train the search's children
};
const char* WorkerExitName(WorkerExit exit);

// Runs until the search is finished, the controller is gone, or `stop` becomes true. After
// registering, runs `preflight` (if any) on the search's child.
WorkerExit RunWorkerLoop(const WorkerLoopOptions& options, const TrialRunner& runner,
                         const std::atomic<bool>& stop, const Preflight& preflight = nullptr);

}  // namespace actsearch::worker
