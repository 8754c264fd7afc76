#include "controller/controller_service.h"

#include <boost/asio/post.hpp>

#include "controller/report_check.h"
#include "worker/child_budget.h"
#include "worker/trial_outcome.h"

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

}  // namespace

Blame BlameOf(const proto::TrialOutcome& outcome) {
  return outcome.candidate_at_fault() ? Blame::kCandidate : Blame::kEnvironment;
}

ControllerService::ControllerService(Strand& strand, Scheduler& scheduler,
                                     storage::ResultsStore& store, ServiceOptions options)
    : strand_(strand),
      scheduler_(scheduler),
      store_(store),
      options_(std::move(options)),
      step_budget_(worker::StepBudget(options_.config.child())) {}

grpc::Status ControllerService::CheckSession(int64_t worker_id, const std::string& session) {
  auto known = sessions_.find(worker_id);
  if (known == sessions_.end()) {
    const std::optional<std::string> stored = store_.SessionOf(worker_id);
    if (stored && !stored->empty()) known = sessions_.emplace(worker_id, *stored).first;
  }
  if (known == sessions_.end()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "no registered worker " + std::to_string(worker_id) + ": register first");
  }
  if (session != known->second) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "worker " + std::to_string(worker_id) +
                            ": not its current session (its name was registered again, by "
                            "another process or a restart of this one)");
  }
  return grpc::Status::OK;
}

grpc::Status ControllerService::CheckReport(const proto::ReportResultRequest& request) {
  const std::string trial = "trial " + std::to_string(request.trial_id());
  const std::optional<storage::TrialHolder> holder = store_.HolderOf(request.trial_id());
  if (!holder || holder->search_id != options_.search_id) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no " + trial + " in this search");
  }
  if (holder->worker_id != request.worker_id() &&
      !store_.HeldLease(request.trial_id(), request.worker_id())) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        trial + " was never leased to worker " + std::to_string(request.worker_id()));
  }
  const std::string problem = OutcomeProblem(request.outcome(), step_budget_);
  if (!problem.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, trial + "'s outcome: " + problem);
  }
  if (request.outcome().status() == proto::TrialOutcome::PRUNED &&
      !scheduler_.StoppedAt(request.trial_id(), request.outcome().steps())) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        trial + " reported pruned at step " +
                            std::to_string(request.outcome().steps()) +
                            ", where the search's early stopping did not stop it");
  }
  return grpc::Status::OK;
}

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
    const std::string& name = request->name();
    if (name.empty() || name.size() > 256) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "a worker needs a name of 1 to 256 characters");
    }
    // A worker that holds a lease and renewed it lately is alive: its name stays its own.
    const double alive_seconds = 3 * options_.heartbeat_seconds;
    const std::optional<storage::WorkerRow> existing = store_.FindWorker(name);
    if (existing && existing->holds_lease &&
        storage::NowSeconds() - existing->last_seen < alive_seconds) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "worker name '" + name +
                              "' is in use by a live worker that holds a trial; give each worker "
                              "its own --name (a restarted worker is let in once its old lease "
                              "has gone quiet for " +
                              std::to_string(static_cast<int>(alive_seconds)) + " s)");
    }
    const storage::WorkerSession session = store_.OpenWorkerSession(name, request->device());
    reply->set_worker_id(session.worker_id);
    reply->set_session(session.session);
    reply->set_heartbeat_seconds(options_.heartbeat_seconds);
    reply->set_lease_seconds(options_.lease_seconds);
    *reply->mutable_child() = options_.config.child();
    worker_names_[session.worker_id] = name;
    sessions_[session.worker_id] = session.session;
    ++workers_;
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ControllerService::AcquireTrial(grpc::CallbackServerContext* context,
                                                          const proto::AcquireTrialRequest* request,
                                                          proto::AcquireTrialReply* reply) {
  return OnStrand(context, [this, request, reply] {
    const grpc::Status session = CheckSession(request->worker_id(), request->session());
    if (!session.ok()) return session;
    const Assignment assignment = scheduler_.Acquire(request->worker_id(), storage::NowSeconds());
    switch (assignment.kind) {
      case Assignment::Kind::kTrial: {
        reply->set_status(proto::AcquireTrialReply::TRIAL);
        proto::Trial& trial = *reply->mutable_trial();
        trial.set_trial_id(assignment.trial.trial_id);
        trial.set_attempt(static_cast<int32_t>(assignment.trial.attempt));
        trial.set_expression(assignment.trial.expression);
        *trial.mutable_child() = options_.config.child();
        // A re-evaluation's run may train another network than the config's child.
        if (!assignment.trial.model.empty()) {
          trial.mutable_child()->mutable_resnet()->set_model(assignment.trial.model);
        }
        trial.set_seed(static_cast<uint64_t>(assignment.trial.seed));
        trial.set_time_limit_seconds(options_.config.dispatch().trial_time_limit_seconds());
        for (int64_t step : scheduler_.evaluate_at()) trial.add_evaluate_at(step);
        trial.set_evaluate_averaged_weights(options_.config.early_stopping().averaged_weights());
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
    const grpc::Status session = CheckSession(request->worker_id(), request->session());
    if (!session.ok()) return session;
    std::optional<Evaluation> evaluation;
    const proto::Progress& progress = request->progress();
    if (progress.has_validation_accuracy()) {
      const std::string problem =
          ProgressProblem(progress.step(), progress.validation_accuracy(), step_budget_);
      if (!problem.empty()) {
        return grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            "trial " + std::to_string(request->trial_id()) + "'s progress: " + problem);
      }
      evaluation = Evaluation{progress.step(), progress.validation_accuracy()};
    }
    switch (scheduler_.Heartbeat(request->worker_id(), request->trial_id(), storage::NowSeconds(),
                                 evaluation)) {
      case HeartbeatAction::kContinue: reply->set_action(proto::HeartbeatReply::CONTINUE); break;
      case HeartbeatAction::kStop: reply->set_action(proto::HeartbeatReply::STOP); break;
      case HeartbeatAction::kRelease: reply->set_action(proto::HeartbeatReply::RELEASE); break;
      case HeartbeatAction::kEarlyStop: reply->set_action(proto::HeartbeatReply::EARLY_STOP); break;
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ControllerService::ReportResult(grpc::CallbackServerContext* context,
                                                          const proto::ReportResultRequest* request,
                                                          proto::ReportResultReply* reply) {
  return OnStrand(context, [this, request, reply] {
    grpc::Status checked = CheckSession(request->worker_id(), request->session());
    if (checked.ok()) checked = CheckReport(*request);
    if (!checked.ok()) return checked;
    const proto::TrialOutcome& outcome = request->outcome();
    const ReportReceipt receipt =
        scheduler_.Report(request->worker_id(), request->trial_id(), worker::ToTrialResult(outcome),
                          BlameOf(outcome));
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
    const grpc::Status session = CheckSession(request->worker_id(), request->session());
    if (!session.ok()) return session;
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
