#include "worker/trial_outcome.h"

#include <nlohmann/json.hpp>

namespace actsearch::worker {
namespace {

struct StatusForms {
  proto::TrialOutcome::Status wire;
  const char* name;
  storage::TrialState stored;
};

constexpr StatusForms kStatuses[] = {
    {proto::TrialOutcome::DONE, "done", storage::TrialState::kDone},
    {proto::TrialOutcome::DIVERGED, "diverged", storage::TrialState::kDiverged},
    {proto::TrialOutcome::TIMED_OUT, "timed_out", storage::TrialState::kStoppedEarly},
    {proto::TrialOutcome::STOPPED, "stopped", storage::TrialState::kStoppedEarly},
    {proto::TrialOutcome::FAILED, "failed", storage::TrialState::kFailed},
    {proto::TrialOutcome::PRUNED, "pruned", storage::TrialState::kStoppedEarly},
};

const StatusForms* FormsOf(proto::TrialOutcome::Status status) {
  for (const StatusForms& forms : kStatuses) {
    if (forms.wire == status) return &forms;
  }
  return nullptr;
}

// [[step, loss, validation_accuracy|null], ...]: the library writes null for what is not finite.
std::string CurveJson(const google::protobuf::RepeatedPtrField<proto::CurvePoint>& curve) {
  nlohmann::json points = nlohmann::json::array();
  for (const proto::CurvePoint& p : curve) {
    points.push_back({p.step(), p.loss(),
                      p.has_validation_accuracy() ? nlohmann::json(p.validation_accuracy())
                                                  : nlohmann::json(nullptr)});
  }
  return points.dump();
}

}  // namespace

proto::TrialOutcome::Status OutcomeStatusOf(TrainStatus status) {
  switch (status) {
    case TrainStatus::kDone: return proto::TrialOutcome::DONE;
    case TrainStatus::kDiverged: return proto::TrialOutcome::DIVERGED;
    case TrainStatus::kTimedOut: return proto::TrialOutcome::TIMED_OUT;
    case TrainStatus::kStopped: return proto::TrialOutcome::STOPPED;
  }
  return proto::TrialOutcome::FAILED;
}

storage::TrialState StoredStateOf(proto::TrialOutcome::Status status) {
  const StatusForms* forms = FormsOf(status);
  return forms ? forms->stored : storage::TrialState::kFailed;
}

const char* OutcomeStatusName(proto::TrialOutcome::Status status) {
  const StatusForms* forms = FormsOf(status);
  return forms ? forms->name : "unknown";
}

const char* TrainStatusName(TrainStatus status) {
  return OutcomeStatusName(OutcomeStatusOf(status));
}

proto::TrialOutcome ToTrialOutcome(const TrainResult& r) {
  proto::TrialOutcome out;
  out.set_status(OutcomeStatusOf(r.status));
  if (r.status == TrainStatus::kDone || r.status == TrainStatus::kTimedOut) {
    out.set_validation_accuracy(r.validation_accuracy);
  }
  if (r.test_accuracy) out.set_test_accuracy(*r.test_accuracy);
  if (r.final_loss) out.set_final_loss(*r.final_loss);
  out.set_steps(r.steps);
  out.set_wall_seconds(r.wall_seconds);
  out.set_device(r.device);
  out.set_error(r.error);
  for (const CurvePoint& p : r.curve) {
    proto::CurvePoint* point = out.add_curve();
    point->set_step(p.step);
    point->set_loss(p.loss);
    if (p.validation_accuracy) point->set_validation_accuracy(*p.validation_accuracy);
  }
  return out;
}

proto::TrialOutcome FailedOutcome(const std::string& device, const std::string& error,
                                  bool candidate_at_fault) {
  proto::TrialOutcome failed;
  failed.set_status(proto::TrialOutcome::FAILED);
  failed.set_device(device);
  failed.set_error(error);
  failed.set_candidate_at_fault(candidate_at_fault);
  return failed;
}

proto::TrialOutcome PrunedOutcome(proto::TrialOutcome stopped, int64_t step,
                                  double validation_accuracy) {
  stopped.set_status(proto::TrialOutcome::PRUNED);
  stopped.set_validation_accuracy(validation_accuracy);
  stopped.set_steps(step);
  stopped.set_error("stopped by the search's early stopping at step " + std::to_string(step));
  return stopped;
}

storage::TrialResult ToTrialResult(const proto::TrialOutcome& outcome) {
  storage::TrialResult r;
  r.state = StoredStateOf(outcome.status());
  r.pruned = outcome.status() == proto::TrialOutcome::PRUNED;
  if (r.state == storage::TrialState::kDiverged || r.state == storage::TrialState::kFailed) {
    r.validation_accuracy = 0.0;  // the reward, whatever the report says
  } else if (outcome.has_validation_accuracy()) {
    r.validation_accuracy = outcome.validation_accuracy();
  }
  if (outcome.has_test_accuracy()) r.test_accuracy = outcome.test_accuracy();
  if (outcome.has_final_loss()) r.loss = outcome.final_loss();
  r.learning_curve = CurveJson(outcome.curve());
  r.steps = outcome.steps();
  r.wall_seconds = outcome.wall_seconds();
  r.device = outcome.device();
  r.error = outcome.error();
  return r;
}

storage::TrialResult ToTrialResult(const TrainResult& result) {
  return ToTrialResult(ToTrialOutcome(result));
}

}  // namespace actsearch::worker
