// The controller's gRPC service. Handlers do no work themselves: each posts its request to the
// strand that owns the Scheduler and finishes the call from there, so the search state needs no
// locks. Every call must carry the shared token (when there is one) as
// `authorization: Bearer <token>` metadata, and every call after registering the worker's
// session: a token holder acts only for the worker it registered, on the trials leased to it.
// What is checked before anything changes:
//   UNAUTHENTICATED      no token or a wrong one
//   PERMISSION_DENIED    an unknown worker, or not its current session
//   FAILED_PRECONDITION  a report for a trial leased to another worker; registering a name
//                        whose worker holds a live lease
//   NOT_FOUND            a trial that is not in this search
//   INVALID_ARGUMENT     a report whose figures no training produces (report_check.h)
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <map>
#include <string>

#include "controller/scheduler.h"
#include "proto/controller.grpc.pb.h"

namespace actsearch::controller {

struct ServiceOptions {
  std::string token;  // empty: no authentication (loopback only; the command enforces it)
  proto::SearchConfig config;
  std::string search_name;
  std::string strategy_name;
  int64_t search_id = 0;
  double search_started_at = 0;
  double heartbeat_seconds = 10;
  double lease_seconds = 120;
  double retry_after_seconds = 1;  // told to workers when there is nothing to do yet
  // Where what an operator must see at once goes (a trial's failure and its error); none: quiet.
  std::function<void(const std::string&)> log;
};

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

class ControllerService final : public proto::Controller::CallbackService {
 public:
  ControllerService(Strand& strand, Scheduler& scheduler, storage::ResultsStore& store,
                    ServiceOptions options);

  // Calls arriving from now on are refused as unavailable (the server is shutting down).
  void Close() { closed_ = true; }
  // Number of distinct workers that registered with this controller.
  int64_t workers() const { return workers_; }

  grpc::ServerUnaryReactor* RegisterWorker(grpc::CallbackServerContext* context,
                                           const proto::RegisterWorkerRequest* request,
                                           proto::RegisterWorkerReply* reply) override;
  grpc::ServerUnaryReactor* AcquireTrial(grpc::CallbackServerContext* context,
                                         const proto::AcquireTrialRequest* request,
                                         proto::AcquireTrialReply* reply) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const proto::HeartbeatRequest* request,
                                      proto::HeartbeatReply* reply) override;
  grpc::ServerUnaryReactor* ReportResult(grpc::CallbackServerContext* context,
                                         const proto::ReportResultRequest* request,
                                         proto::ReportResultReply* reply) override;
  grpc::ServerUnaryReactor* ReleaseTrial(grpc::CallbackServerContext* context,
                                         const proto::ReleaseTrialRequest* request,
                                         proto::ReleaseTrialReply* reply) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const proto::GetStatusRequest* request,
                                      proto::SearchStatus* reply) override;

 private:
  // Checks the token, then runs `work` on the strand and finishes the call with its status.
  grpc::ServerUnaryReactor* OnStrand(grpc::CallbackServerContext* context,
                                     std::function<grpc::Status()> work);
  // OK when `session` is the worker's current one (registering again ends the old one).
  grpc::Status CheckSession(int64_t worker_id, const std::string& session);
  // OK when the worker may report this trial's result: it is this search's, and leased to the
  // worker now or before (a late report of an expired lease); the report's figures are sound.
  grpc::Status CheckReport(const proto::ReportResultRequest& request);
  void LogFailure(int64_t worker_id, int64_t trial_id, const proto::TrialOutcome& outcome,
                  storage::TrialState state);

  Strand& strand_;
  Scheduler& scheduler_;
  storage::ResultsStore& store_;
  ServiceOptions options_;
  std::atomic<bool> closed_{false};
  std::atomic<int64_t> workers_{0};
  int64_t step_budget_;  // of the search's child: no report may claim more steps
  // On the strand: each worker's name (for log lines) and current session (read once from the
  // database, which keeps sessions across controller restarts).
  std::map<int64_t, std::string> worker_names_;
  std::map<int64_t, std::string> sessions_;
};

// Whom a failure is blamed on. What the report becomes in the results store is
// worker::ToTrialResult (worker/trial_outcome.h).
Blame BlameOf(const proto::TrialOutcome& outcome);

}  // namespace actsearch::controller
