// Runs a search as a gRPC server: the service, the strand that owns the scheduler, and on the
// same io_context the lease-expiry timer, periodic checkpoints, progress reports, the
// controller's heartbeat in the database and the signal handling.
//
// SIGINT, SIGTERM or `actsearch stop` (a request in the database) starts a graceful shutdown:
// no new trials, workers told at their next heartbeat to release theirs (queued again, no
// attempt used), a checkpoint, then the server stops; a second signal stops at once. Failures
// that are not the candidates' fault, max_consecutive_failures in a row, end the search the
// same way, as failed.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "controller/controller_service.h"

namespace actsearch::controller {

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // port 0: any free port (see port())
  std::string tls_certificate_file;    // PEM; TLS when both files are given
  std::string tls_key_file;
  double expire_check_seconds = 1;
  double checkpoint_seconds = 30;
  double progress_seconds = 5;  // 0: no progress reports
  // How long a finished or stopping search keeps answering, so that polling workers hear it.
  double linger_seconds = 3;
  double drain_seconds = 30;  // at most this long waiting for workers to release their trials
  bool handle_signals = true;
  // Set by a signal that came before Run took over the signals (the command's own handler):
  // Run stops at once. May be null.
  const std::atomic<bool>* stop_requested = nullptr;
  // Called on the scheduler's strand every status_seconds and at the end with the search's
  // status and the seconds since this controller started (for metrics). May be empty.
  std::function<void(const SchedulerStatus&, double elapsed_seconds)> status_listener;
  double status_seconds = 1;
};

enum class SearchEnd {
  kFinished,  // the budget is spent or the space exhausted
  kStopped,   // a signal or `actsearch stop`: resumable
  kFailed,    // trials kept failing through no fault of their candidates: resumable once fixed
};

class ControllerServer {
 public:
  using ProgressReport = std::function<void(const SchedulerStatus&, double elapsed_seconds)>;

  // Binds the port (throws std::runtime_error naming the address if it cannot).
  ControllerServer(Scheduler& scheduler, storage::ResultsStore& store, ServiceOptions service,
                   ServerOptions options, ProgressReport progress = nullptr);
  ~ControllerServer();

  int port() const { return port_; }
  // Serves until the search ends; records the end (and why) in the store.
  SearchEnd Run();
  // Why the search failed (kFailed): the error of the failures that ended it.
  const std::string& end_reason() const;
  // Starts the graceful shutdown from any thread: kStopped is what SIGTERM does; kFailed (with
  // why) ends the search as failed once its trials are released.
  void RequestStop(SearchEnd how = SearchEnd::kStopped, const std::string& reason = "");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace actsearch::controller
