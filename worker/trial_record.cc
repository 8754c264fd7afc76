#include "worker/trial_record.h"

#include <cmath>
#include <cstdio>

namespace actsearch::worker {
namespace {

std::string Number(double value) {
  if (!std::isfinite(value)) return "null";
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string CurveJson(const std::vector<CurvePoint>& curve) {
  std::string out = "[";
  for (const CurvePoint& c : curve) {
    if (out.size() > 1) out += ",";
    out += "[" + std::to_string(c.step) + "," + Number(c.loss) + "," +
           (c.validation_accuracy ? Number(*c.validation_accuracy) : "null") + "]";
  }
  return out + "]";
}

}  // namespace

storage::TrialResult ToTrialResult(const TrainResult& r) {
  storage::TrialResult out;
  switch (r.status) {
    case TrainStatus::kDone: out.state = storage::TrialState::kDone; break;
    case TrainStatus::kDiverged: out.state = storage::TrialState::kDiverged; break;
    case TrainStatus::kTimedOut:
    case TrainStatus::kStopped: out.state = storage::TrialState::kStoppedEarly; break;
  }
  out.validation_accuracy = r.validation_accuracy;
  out.test_accuracy = r.test_accuracy;
  out.loss = r.final_loss;
  out.learning_curve = CurveJson(r.curve);
  out.steps = r.steps;
  out.wall_seconds = r.wall_seconds;
  out.device = r.device;
  out.error = r.error;
  return out;
}

}  // namespace actsearch::worker
