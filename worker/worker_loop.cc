#include "worker/worker_loop.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "proto/controller.grpc.pb.h"
#include "worker/connection_probe.h"
#include "worker/trial_outcome.h"

namespace actsearch::worker {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kCallTimeoutSeconds = 10;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the TLS CA file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string DefaultName(const std::string& device) {
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + device + ":" + std::to_string(getpid());
}

// What may pass with time (the controller restarting, a network fault) as against an answer
// (a wrong token, a refused request) that asking again does not change.
bool Transient(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:  // the controller's store failed (a full disk)
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::CANCELLED: return true;
    default: return false;
  }
}

// A report the controller will not take for this trial (it is not ours any more, or not
// there): the worker drops it and goes on.
bool ReportNotOurs(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
         status.error_code() == grpc::StatusCode::NOT_FOUND;
}

// Sleeps up to `seconds`, waking early when `stop` is set.
void SleepUnlessStopped(double seconds, const std::atomic<bool>& stop) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (!stop && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

class ControllerClient {
 public:
  explicit ControllerClient(const WorkerLoopOptions& options) : options_(options) {
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (!options.tls_ca_file.empty()) {
      grpc::SslCredentialsOptions tls;
      tls.pem_root_certs = ReadFile(options.tls_ca_file);
      credentials = grpc::SslCredentials(tls);
    }
    // gRPC's default reconnect backoff grows to two minutes: a worker started before its
    // controller (common on a cluster) would sit idle long after the controller is up.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    stub_ = proto::Controller::NewStub(
        grpc::CreateCustomChannel(options.controller, credentials, args));
  }

  template <typename Request, typename Reply>
  using Method = grpc::Status (proto::Controller::Stub::*)(grpc::ClientContext*, const Request&,
                                                           Reply*);

  template <typename Request, typename Reply>
  grpc::Status Call(Method<Request, Reply> method, const Request& request, Reply* reply) {
    grpc::ClientContext context;
    if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
    context.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(1000 * kCallTimeoutSeconds)));
    return (stub_.get()->*method)(&context, request, reply);
  }

  // Retries what can pass (the controller restarting, a network fault; `also_retry` too) with
  // backoff, for up to give_up_seconds; returns at once for what cannot (a wrong token, a
  // refused request).
  template <typename Request, typename Reply>
  grpc::Status CallWithRetry(Method<Request, Reply> method, const Request& request, Reply* reply,
                             const std::atomic<bool>& stop,
                             grpc::StatusCode also_retry = grpc::StatusCode::OK) {
    const auto start = Clock::now();
    double backoff = 0.1;
    while (true) {
      const grpc::Status status = Call(method, request, reply);
      if (status.ok() || stop) return status;
      if (!Transient(status) && status.error_code() != also_retry) return status;
      if (const std::string wrong = Misconfiguration(status); !wrong.empty()) {
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, wrong);
      }
      const double waited = std::chrono::duration<double>(Clock::now() - start).count();
      if (waited >= options_.give_up_seconds) return status;
      if (!options_.quiet && backoff >= 1.6) {
        std::fprintf(stderr, "worker: controller %s: %s; retrying\n", options_.controller.c_str(),
                     status.error_message().c_str());
      }
      SleepUnlessStopped(backoff, stop);
      backoff = std::min(backoff * 2, 2.0);
    }
  }

 private:
  // For a connection that fails at a live port (not refused): whether the two ends disagree on
  // TLS, or the certificate does not verify; empty when not, or when it cannot tell.
  std::string Misconfiguration(const grpc::Status& status) const {
    const std::string& message = status.error_message();
    const bool at_connect = message.find("failed to connect") != std::string::npos ||
                            message.find("andshake") != std::string::npos;
    if (!at_connect || message.find("Connection refused") != std::string::npos) return "";
    return DiagnoseConnection(options_.controller, options_.tls_ca_file,
                              ProbeController(options_.controller));
  }

  const WorkerLoopOptions& options_;
  std::unique_ptr<proto::Controller::Stub> stub_;
};

// The controller took the trial back: its lease is gone, or the controller is shutting down.
bool LeaseEnded(proto::HeartbeatReply::Action action) {
  return action == proto::HeartbeatReply::STOP || action == proto::HeartbeatReply::RELEASE;
}

proto::HeartbeatRequest HeartbeatFor(const proto::RegisterWorkerReply& registered, int64_t trial_id,
                                     const proto::Progress& progress) {
  proto::HeartbeatRequest request;
  request.set_worker_id(registered.worker_id());
  request.set_session(registered.session());
  request.set_trial_id(trial_id);
  *request.mutable_progress() = progress;
  return request;
}

// Heartbeats a trial every `interval` seconds from its own thread, with the latest progress.
class Heartbeater {
 public:
  Heartbeater(ControllerClient& client, const proto::RegisterWorkerReply& registered,
              int64_t trial_id)
      : thread_([this, &client, registered, trial_id] {
          const double interval = registered.heartbeat_seconds();
          std::unique_lock<std::mutex> lock(mutex_);
          while (!done_) {
            if (wake_.wait_for(lock, std::chrono::duration<double>(interval),
                               [this] { return done_; })) {
              break;
            }
            const proto::HeartbeatRequest request = HeartbeatFor(registered, trial_id, progress_);
            lock.unlock();
            proto::HeartbeatReply reply;
            const grpc::Status status =
                client.Call(&proto::Controller::Stub::Heartbeat, request, &reply);
            // A heartbeat lost in the network is not fatal: the lease may survive it, and if it
            // does not, the controller says stop at the next one. A refused one is. (An early
            // stop is heard by the evaluation's own heartbeat.)
            if (status.ok() ? LeaseEnded(reply.action()) : !Transient(status)) {
              told_to_stop_ = true;
            }
            lock.lock();
          }
        }) {}

  ~Heartbeater() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void Update(const proto::Progress& progress) {
    std::lock_guard<std::mutex> lock(mutex_);
    progress_ = progress;
  }
  bool told_to_stop() const { return told_to_stop_; }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  proto::Progress progress_;
  bool done_ = false;
  std::atomic<bool> told_to_stop_{false};
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace

const char* WorkerExitName(WorkerExit exit) {
  switch (exit) {
    case WorkerExit::kSearchFinished: return "search finished";
    case WorkerExit::kUnreachable: return "controller unreachable";
    case WorkerExit::kRefused: return "refused by the controller";
    case WorkerExit::kStopped: return "stopped";
    case WorkerExit::kControllerStopped: return "the controller stopped the search (resumable)";
    case WorkerExit::kCannotTrain: return "cannot train this search's children";
  }
  return "unknown";
}

WorkerExit RunWorkerLoop(const WorkerLoopOptions& options, const TrialRunner& runner,
                         const std::atomic<bool>& stop, const Preflight& preflight) {
  ControllerClient client(options);
  auto failure = [&](const grpc::Status& status, const char* call) {
    if (!options.quiet) {
      std::fprintf(stderr, "worker: %s at %s failed: %s\n", call, options.controller.c_str(),
                   status.error_message().c_str());
    }
    if (stop) return WorkerExit::kStopped;
    return Transient(status) ? WorkerExit::kUnreachable : WorkerExit::kRefused;
  };

  proto::RegisterWorkerRequest hello;
  hello.set_name(options.name.empty() ? DefaultName(options.device) : options.name);
  hello.set_device(options.device);
  proto::RegisterWorkerReply registered;
  // A name still held by a live lease (this worker's own, before a quick restart) is let in
  // once that lease goes quiet: wait for it.
  grpc::Status status =
      client.CallWithRetry(&proto::Controller::Stub::RegisterWorker, hello, &registered, stop,
                           grpc::StatusCode::FAILED_PRECONDITION);
  if (!status.ok()) return failure(status, "registering");
  const int64_t worker_id = registered.worker_id();
  if (preflight) {
    const std::string problem = preflight(registered.child());
    if (!problem.empty()) {
      std::fprintf(stderr, "worker: cannot train this search's children: %s\n", problem.c_str());
      return WorkerExit::kCannotTrain;
    }
  }

  while (!stop) {
    proto::AcquireTrialRequest ask;
    ask.set_worker_id(worker_id);
    ask.set_session(registered.session());
    proto::AcquireTrialReply offer;
    status = client.CallWithRetry(&proto::Controller::Stub::AcquireTrial, ask, &offer, stop);
    if (!status.ok()) return failure(status, "asking for a trial");
    if (offer.status() == proto::AcquireTrialReply::FINISHED) return WorkerExit::kSearchFinished;
    if (offer.status() == proto::AcquireTrialReply::STOPPING) {
      return WorkerExit::kControllerStopped;
    }
    if (offer.status() == proto::AcquireTrialReply::WAIT) {
      SleepUnlessStopped(offer.retry_after_seconds(), stop);
      continue;
    }
    const proto::Trial& trial = offer.trial();
    proto::TrialOutcome outcome;
    bool told_to_stop = false;
    std::optional<proto::Progress> pruned_at;  // where the search's early stopping stopped it
    {
      Heartbeater heartbeater(client, registered, trial.trial_id());
      outcome = runner(trial, [&](const proto::Progress& progress) {
        heartbeater.Update(progress);
        if (stop || heartbeater.told_to_stop()) return false;
        if (!progress.has_validation_accuracy() ||
            !std::count(trial.evaluate_at().begin(), trial.evaluate_at().end(), progress.step())) {
          return true;
        }
        // An evaluation the search decides on: the verdict before the next step. Unheard (a
        // network fault), the child goes on, and the next heartbeat renews its lease.
        proto::HeartbeatReply reply;
        const grpc::Status heard =
            client.Call(&proto::Controller::Stub::Heartbeat,
                        HeartbeatFor(registered, trial.trial_id(), progress), &reply);
        if (!heard.ok()) return true;
        if (reply.action() == proto::HeartbeatReply::EARLY_STOP) pruned_at = progress;
        if (LeaseEnded(reply.action())) told_to_stop = true;
        return reply.action() == proto::HeartbeatReply::CONTINUE;
      });
      told_to_stop = told_to_stop || heartbeater.told_to_stop();
    }
    if (told_to_stop) continue;  // the trial is no longer ours to report
    if (pruned_at && !stop) {
      outcome = PrunedOutcome(outcome, pruned_at->step(), pruned_at->validation_accuracy());
    }
    if (stop) {
      // Stopping (a signal): give the trial back at once rather than let its lease run out.
      proto::ReleaseTrialRequest release;
      release.set_worker_id(worker_id);
      release.set_session(registered.session());
      release.set_trial_id(trial.trial_id());
      proto::ReleaseTrialReply released;
      client.Call(&proto::Controller::Stub::ReleaseTrial, release, &released);
      break;
    }
    if (!options.quiet) {
      char validation[32] = "";
      if (outcome.has_validation_accuracy()) {
        std::snprintf(validation, sizeof validation, ", validation %.4f",
                      outcome.validation_accuracy());
      }
      // A re-evaluation's run may name another network than the search's child.
      const std::string& model = trial.child().resnet().model();
      const std::string on =
          model != registered.child().resnet().model() ? " on " + model : std::string();
      std::fprintf(stderr, "worker: trial %lld (attempt %d) %s%s: %s%s, %.1f s%s%s\n",
                   static_cast<long long>(trial.trial_id()), trial.attempt(),
                   trial.expression().c_str(), on.c_str(), OutcomeStatusName(outcome.status()),
                   validation, outcome.wall_seconds(), outcome.error().empty() ? "" : ": ",
                   outcome.error().c_str());
    }
    proto::ReportResultRequest report;
    report.set_worker_id(worker_id);
    report.set_session(registered.session());
    report.set_trial_id(trial.trial_id());
    *report.mutable_outcome() = outcome;
    proto::ReportResultReply receipt;
    status = client.CallWithRetry(&proto::Controller::Stub::ReportResult, report, &receipt, stop);
    if (ReportNotOurs(status)) {
      if (!options.quiet) {
        std::fprintf(stderr, "worker: the controller dropped the report of trial %lld: %s\n",
                     static_cast<long long>(trial.trial_id()), status.error_message().c_str());
      }
      continue;
    }
    if (!status.ok()) return failure(status, "reporting a result");
  }
  return WorkerExit::kStopped;
}

}  // namespace actsearch::worker
