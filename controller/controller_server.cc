#include "controller/controller_server.h"

#include <grpcpp/health_check_service_interface.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace actsearch::controller {
namespace {

std::string ReadPemFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the TLS file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::chrono::milliseconds Milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// The listening address with the port the server got ("0.0.0.0:0" -> "0.0.0.0:50123").
std::string BoundAddress(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  return (colon == std::string::npos ? listen : listen.substr(0, colon)) + ":" +
         std::to_string(port);
}

storage::SearchStatus StoredStatus(SearchEnd end) {
  switch (end) {
    case SearchEnd::kFinished: return storage::SearchStatus::kFinished;
    case SearchEnd::kStopped: return storage::SearchStatus::kStopped;
    case SearchEnd::kFailed: return storage::SearchStatus::kFailed;
  }
  return storage::SearchStatus::kFailed;
}

}  // namespace

struct ControllerServer::Impl {
  enum class Phase { kRunning, kDraining, kEnding };

  Impl(Scheduler& scheduler, storage::ResultsStore& store, ServiceOptions service_options,
       ServerOptions server_options, ProgressReport progress_report)
      : strand(boost::asio::make_strand(io)),
        scheduler(scheduler),
        store(store),
        search_id(service_options.search_id),
        started_at(service_options.search_started_at),
        options(std::move(server_options)),
        progress(std::move(progress_report)),
        service(strand, scheduler, store, std::move(service_options)) {}

  // Each timer re-arms itself; its handler runs on the strand, beside the service's handlers.
  void Every(boost::asio::steady_timer& timer, double seconds, void (Impl::*tick)()) {
    timer.expires_after(Milliseconds(seconds));
    timer.async_wait([this, &timer, seconds, tick](const boost::system::error_code& error) {
      if (error || phase_is_over) return;
      (this->*tick)();
      Every(timer, seconds, tick);
    });
  }

  // Re-arms itself after each signal; the handler runs on the strand.
  void WaitForSignal() {
    signals.async_wait(
        boost::asio::bind_executor(strand, [this](const boost::system::error_code& error, int) {
          if (error || phase_is_over) return;
          Stop(SearchEnd::kStopped, "");
          WaitForSignal();
        }));
  }

  void CheckLeasesAndEnd() {
    const double now = storage::NowSeconds();
    scheduler.ExpireLeases(now);
    if (phase == Phase::kRunning && scheduler.failing()) {
      const SchedulerStatus s = scheduler.status(now);
      Stop(SearchEnd::kFailed, std::to_string(s.consecutive_failures) +
                                   " trials in a row failed through no fault of their "
                                   "candidates; the last: " +
                                   s.last_failure);
    }
    if (phase == Phase::kRunning && scheduler.finished(now)) {
      End(SearchEnd::kFinished, "", options.linger_seconds);
    } else if (phase == Phase::kDraining &&
               (scheduler.status(now).trials.leased == 0 || now >= drain_deadline)) {
      End(draining_to, draining_reason, options.linger_seconds);
    }
  }

  // Tells the database this controller is alive, and hears `actsearch stop`.
  void Heartbeat() {
    if (store.ControllerHeartbeat(search_id) && phase == Phase::kRunning) {
      Stop(SearchEnd::kStopped, "");
    }
  }
  // The search's checkpoint, and the WAL's pages into the main file: without it a small search
  // keeps everything in the -wal file, and a copy of the main file alone holds nothing.
  void Checkpoint() {
    scheduler.SaveCheckpoint();
    store.database().CheckpointWal();
  }
  void ReportProgress() {
    const double now = storage::NowSeconds();
    if (progress) progress(scheduler.status(now), now - started_at);
  }
  void ReportStatus() {
    const double now = storage::NowSeconds();
    if (options.status_listener)
      options.status_listener(scheduler.status(now), now - session_start);
  }

  // On the strand: the first request drains, a second ends at once.
  void Stop(SearchEnd how, const std::string& reason) {
    if (phase == Phase::kRunning) {
      phase = Phase::kDraining;
      draining_to = how;
      draining_reason = reason;
      drain_deadline = storage::NowSeconds() + options.drain_seconds;
      scheduler.BeginShutdown();
    } else if (phase == Phase::kDraining) {
      End(draining_to, draining_reason, 0);
    }
  }

  void End(SearchEnd how, const std::string& reason, double linger_seconds) {
    phase = Phase::kEnding;
    end = how;
    end_reason = reason;
    scheduler.SaveCheckpoint();
    store.FinishSearch(search_id, StoredStatus(how), reason);
    store.database().CheckpointWal();
    progress_timer.cancel();  // the last report is this one
    ReportProgress();
    status_timer.cancel();
    ReportStatus();
    end_timer.expires_after(Milliseconds(linger_seconds));
    end_timer.async_wait([this](const boost::system::error_code&) {
      phase_is_over = true;
      service.Close();
      // Shutdown waits for calls in flight, which finish on this strand: not from here.
      shutdown_thread = std::thread([this] {
        server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
        boost::asio::post(io, [this] { io.stop(); });
      });
    });
  }

  boost::asio::io_context io;
  Strand strand;
  Scheduler& scheduler;
  storage::ResultsStore& store;
  int64_t search_id;
  double started_at;
  ServerOptions options;
  ProgressReport progress;
  ControllerService service;
  std::unique_ptr<grpc::Server> server;
  boost::asio::steady_timer expire_timer{strand}, checkpoint_timer{strand}, progress_timer{strand},
      heartbeat_timer{strand}, status_timer{strand}, end_timer{strand};
  double session_start = storage::NowSeconds();
  boost::asio::signal_set signals{io};
  Phase phase = Phase::kRunning;
  bool phase_is_over = false;
  double drain_deadline = 0;
  SearchEnd draining_to = SearchEnd::kStopped;
  std::string draining_reason;
  SearchEnd end = SearchEnd::kFinished;
  std::string end_reason;
  std::thread shutdown_thread;
};

ControllerServer::ControllerServer(Scheduler& scheduler, storage::ResultsStore& store,
                                   ServiceOptions service, ServerOptions options,
                                   ProgressReport progress)
    : impl_(std::make_unique<Impl>(scheduler, store, std::move(service), std::move(options),
                                   std::move(progress))) {
  grpc::EnableDefaultHealthCheckService(true);
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  const ServerOptions& o = impl_->options;
  if (!o.tls_certificate_file.empty() || !o.tls_key_file.empty()) {
    if (o.tls_certificate_file.empty() || o.tls_key_file.empty()) {
      throw std::runtime_error("TLS needs both a certificate file and a key file");
    }
    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back(
        {ReadPemFile(o.tls_key_file), ReadPemFile(o.tls_certificate_file)});
    credentials = grpc::SslServerCredentials(tls);
  }
  grpc::ServerBuilder builder;
  // Without this, a second controller binds the same port silently and splits the workers.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(o.listen, credentials, &port_);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || port_ == 0) {
    throw std::runtime_error("cannot listen on " + o.listen + " (address in use or invalid?)");
  }
}

ControllerServer::~ControllerServer() {
  if (impl_->shutdown_thread.joinable()) impl_->shutdown_thread.join();
}

SearchEnd ControllerServer::Run() {
  Impl& impl = *impl_;
  impl.store.ClaimSearch(impl.search_id, BoundAddress(impl.options.listen, port_));
  if (impl.options.handle_signals) {
    impl.signals.add(SIGINT);
    impl.signals.add(SIGTERM);
    impl.WaitForSignal();
  }
  if (impl.options.stop_requested && *impl.options.stop_requested) RequestStop();
  impl.Every(impl.expire_timer, impl.options.expire_check_seconds, &Impl::CheckLeasesAndEnd);
  impl.Every(impl.checkpoint_timer, impl.options.checkpoint_seconds, &Impl::Checkpoint);
  impl.Every(impl.heartbeat_timer, storage::kControllerHeartbeatSeconds, &Impl::Heartbeat);
  if (impl.options.progress_seconds > 0) {
    impl.Every(impl.progress_timer, impl.options.progress_seconds, &Impl::ReportProgress);
  }
  if (impl.options.status_listener) {
    boost::asio::post(impl.strand, [&impl] { impl.ReportStatus(); });
    impl.Every(impl.status_timer, impl.options.status_seconds, &Impl::ReportStatus);
  }
  impl.io.run();
  if (impl.shutdown_thread.joinable()) impl.shutdown_thread.join();
  impl.signals.clear();
  return impl.end;
}

const std::string& ControllerServer::end_reason() const { return impl_->end_reason; }

void ControllerServer::RequestStop(SearchEnd how, const std::string& reason) {
  boost::asio::post(impl_->strand, [impl = impl_.get(), how, reason] { impl->Stop(how, reason); });
}

}  // namespace actsearch::controller
