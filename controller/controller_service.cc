#include "controller/controller_service.h"

#include <boost/asio/post.hpp>
#include <cmath>
#include <cstdio>

namespace actsearch::controller {
namespace {

bool Authorized(const grpc::CallbackServerContext& context, const std::string& token) {
  if (token.empty()) return true;
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find("authorization");
  if (found == metadata.end()) return false;
  const std::string presented(found->second.data(), found->second.size());
  return presented == "Bearer " + token;
}

std::string CurveJson(const proto::TrialOutcome& outcome) {
  std::string json = "[";
  char point[96];
  for (const proto::CurvePoint& p : outcome.curve()) {
    const double accuracy = p.validation_accuracy();
    if (accuracy >= 0 && std::isfinite(p.loss())) {
      std::snprintf(point, sizeof point, "[%lld, %.6g, %.6g]", static_cast<long long>(p.step()),
                    p.loss(), accuracy);
    } else {
      std::snprintf(point, sizeof point,
                    std::isfinite(p.loss()) ? "[%lld, %.6g, null]" : "[%lld, null, null]",
                    static_cast<long long>(p.step()), p.loss());
    }
    if (json.size() > 1) json += ", ";
    json += point;
  }
  return json + "]";
}

}  // namespace

storage::TrialResult ToTrialResult(const proto::TrialOutcome& outcome) {
  storage::TrialResult r;
  switch (outcome.status()) {
    case proto::TrialOutcome::DONE: r.state = storage::TrialState::kDone; break;
    case proto::TrialOutcome::DIVERGED: r.state = storage::TrialState::kDiverged; break;
    case proto::TrialOutcome::TIMED_OUT: r.state = storage::TrialState::kStoppedEarly; break;
    default: r.state = storage::TrialState::kFailed; break;
  }
  r.validation_accuracy = outcome.validation_accuracy();
  if (r.state == storage::TrialState::kDiverged || r.state == storage::TrialState::kFailed) {
    r.validation_accuracy = 0.0;
  }
  if (outcome.has_test_accuracy()) r.test_accuracy = outcome.test_accuracy();
  r.loss = outcome.final_loss();
  r.learning_curve = CurveJson(outcome);
  r.steps = outcome.steps();
  r.wall_seconds = outcome.wall_seconds();
  r.device = outcome.device();
  r.error = outcome.error();
  return r;
}

Blame BlameOf(const proto::TrialOutcome& outcome) {
  return outcome.candidate_at_fault() ? Blame::kCandidate : Blame::kEnvironment;
}

ControllerService::ControllerService(Strand& strand, Scheduler& scheduler,
                                     storage::ResultsStore& store, ServiceOptions options)
    : strand_(strand), scheduler_(scheduler), store_(store), options_(std::move(options)) {}

grpc::ServerUnaryReactor* ControllerService::OnStrand(grpc::CallbackServerContext* context,
                                                      std::function<grpc::Status()> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (closed_) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the controller is shutting down"));
  } else if (!Authorized(*context, options_.token)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                 "missing or wrong token (authorization: Bearer <token>)"));
  } else {
    boost::asio::post(strand_, [reactor, work = std::move(work)] {
      grpc::Status status;
      try {
        status = work();
      } catch (const std::exception& error) {
        // A failure of the store (disk full, ...): the worker retries; nothing half-done stays.
        status = grpc::Status(grpc::StatusCode::INTERNAL, error.what());
      }
      reactor->Finish(status);
    });
  }
  return reactor;
}

grpc::ServerUnaryReactor* ControllerService::RegisterWorker(
    grpc::CallbackServerContext* context, const proto::RegisterWorkerRequest* request,
    proto::RegisterWorkerReply* reply) {
  return OnStrand(context, [this, request, reply] {
    if (request->name().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a worker needs a name");
    }
    reply->set_worker_id(store_.RegisterWorker(request->name(), request->device()));
    reply->set_heartbeat_seconds(options_.heartbeat_seconds);
    reply->set_lease_seconds(options_.lease_seconds);
    *reply->mutable_child() = options_.config.child();
    worker_names_[reply->worker_id()] = request->name();
    ++workers_;
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ControllerService::AcquireTrial(grpc::CallbackServerContext* context,
                                                          const proto::AcquireTrialRequest* request,
                                                          proto::AcquireTrialReply* reply) {
  return OnStrand(context, [this, request, reply] {
    const Assignment assignment = scheduler_.Acquire(request->worker_id(), storage::NowSeconds());
    switch (assignment.kind) {
      case Assignment::Kind::kTrial: {
        reply->set_status(proto::AcquireTrialReply::TRIAL);
        proto::Trial& trial = *reply->mutable_trial();
        trial.set_trial_id(assignment.trial.trial_id);
        trial.set_attempt(static_cast<int32_t>(assignment.trial.attempt));
        trial.set_expression(assignment.trial.expression);
        *trial.mutable_child() = options_.config.child();
        trial.set_seed(static_cast<uint64_t>(assignment.trial.seed));
        trial.set_time_limit_seconds(options_.config.dispatch().trial_time_limit_seconds());
        break;
      }
      case Assignment::Kind::kWait:
        reply->set_status(proto::AcquireTrialReply::WAIT);
        reply->set_retry_after_seconds(options_.retry_after_seconds);
        break;
      case Assignment::Kind::kFinished:
        reply->set_status(proto::AcquireTrialReply::FINISHED);
        break;
      case Assignment::Kind::kStopping:
        reply->set_status(proto::AcquireTrialReply::STOPPING);
        break;
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ControllerService::Heartbeat(grpc::CallbackServerContext* context,
                                                       const proto::HeartbeatRequest* request,
                                                       proto::HeartbeatReply* reply) {
  return OnStrand(context, [this, request, reply] {
    switch (
        scheduler_.Heartbeat(request->worker_id(), request->trial_id(), storage::NowSeconds())) {
      case HeartbeatAction::kContinue: reply->set_action(proto::HeartbeatReply::CONTINUE); break;
      case HeartbeatAction::kStop: reply->set_action(proto::HeartbeatReply::STOP); break;
      case HeartbeatAction::kRelease: reply->set_action(proto::HeartbeatReply::RELEASE); break;
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ControllerService::ReportResult(grpc::CallbackServerContext* context,
                                                          const proto::ReportResultRequest* request,
                                                          proto::ReportResultReply* reply) {
  return OnStrand(context, [this, request, reply] {
    const proto::TrialOutcome& outcome = request->outcome();
    const ReportReceipt receipt = scheduler_.Report(request->worker_id(), request->trial_id(),
                                                    ToTrialResult(outcome), BlameOf(outcome));
    reply->set_accepted(receipt.accepted);
    if (receipt.accepted && outcome.status() == proto::TrialOutcome::FAILED) {
      LogFailure(request->worker_id(), request->trial_id(), outcome, receipt.state);
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ControllerService::ReleaseTrial(grpc::CallbackServerContext* context,
                                                          const proto::ReleaseTrialRequest* request,
                                                          proto::ReleaseTrialReply* reply) {
  return OnStrand(context, [this, request, reply] {
    reply->set_released(scheduler_.Release(request->worker_id(), request->trial_id()));
    return grpc::Status::OK;
  });
}

void ControllerService::LogFailure(int64_t worker_id, int64_t trial_id,
                                   const proto::TrialOutcome& outcome, storage::TrialState state) {
  if (!options_.log) return;
  const auto name = worker_names_.find(worker_id);
  const std::string worker =
      name != worker_names_.end() ? name->second : "worker " + std::to_string(worker_id);
  std::string what;
  if (outcome.candidate_at_fault()) {
    what = "failed (the candidate's fault: recorded, reward 0)";
  } else if (state == storage::TrialState::kQueued) {
    what = "failed on " + worker + " (requeued)";
  } else {
    what = "failed on " + worker + " (no attempts left: recorded as failed)";
  }
  options_.log("trial " + std::to_string(trial_id) + " " + what + ": " + outcome.error());
}

grpc::ServerUnaryReactor* ControllerService::GetStatus(grpc::CallbackServerContext* context,
                                                       const proto::GetStatusRequest*,
                                                       proto::SearchStatus* reply) {
  return OnStrand(context, [this, reply] {
    const double now = storage::NowSeconds();
    const SchedulerStatus s = scheduler_.status(now);
    reply->set_search_id(options_.search_id);
    reply->set_name(options_.search_name);
    reply->set_strategy(options_.strategy_name);
    reply->set_proposed(s.proposed);
    reply->set_trained(s.trials.trained());
    reply->set_in_flight(s.trials.leased);
    reply->set_queued(s.trials.queued);
    reply->set_screened(s.trials.screened);
    reply->set_failed(s.trials.failed);
    reply->set_diverged(s.trials.diverged);
    reply->set_max_trials(s.max_trials);
    reply->set_repeats(s.repeats);
    reply->set_best_reward(s.best_reward);
    reply->set_best_expression(s.best_expression);
    reply->set_elapsed_seconds(now - options_.search_started_at);
    reply->set_finished(s.finished);
    reply->set_workers(workers_);
    return grpc::Status::OK;
  });
}

}  // namespace actsearch::controller
