// Runs a search as a gRPC server: the service, the strand that owns the scheduler, and on the
// same io_context the lease-expiry timer, periodic checkpoints, progress reports and the
// signal handling. SIGINT or SIGTERM starts a graceful shutdown: no new trials, workers told
// at their next heartbeat to release theirs (queued again, no attempt used), a checkpoint,
// then the server stops; a second signal stops at once.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "controller/controller_service.h"

namespace actsearch::controller {

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // port 0: any free port (see port())
  std::string tls_certificate_file;     // PEM; TLS when both files are given
  std::string tls_key_file;
  double expire_check_seconds = 1;
  double checkpoint_seconds = 30;
  double progress_seconds = 5;  // 0: no progress reports
  // How long a finished or stopping search keeps answering, so that polling workers hear it.
  double linger_seconds = 3;
  double drain_seconds = 30;  // at most this long waiting for workers to release their trials
  bool handle_signals = true;
};

enum class SearchEnd { kFinished, kStopped };

class ControllerServer {
 public:
  using ProgressReport = std::function<void(const SchedulerStatus&, double elapsed_seconds)>;

  // Binds the port (throws std::runtime_error naming the address if it cannot).
  ControllerServer(Scheduler& scheduler, storage::ResultsStore& store, ServiceOptions service,
                   ServerOptions options, ProgressReport progress = nullptr);
  ~ControllerServer();

  int port() const { return port_; }
  // Serves until the search is finished or stopped; records the end in the store.
  SearchEnd Run();
  // Starts the graceful shutdown from any thread (what SIGTERM does).
  void RequestStop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace actsearch::controller
