#include "controller/report_check.h"

#include <cmath>
#include <cstdio>

namespace actsearch::controller {
namespace {

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::string NotAnAccuracy(const std::string& field, double value) {
  if (std::isfinite(value) && value >= 0 && value <= 1) return "";
  return field + " is " + Number(value) + "; must be in [0, 1]";
}

std::string NotAStep(const std::string& field, int64_t value, int64_t step_budget) {
  if (value >= 0 && value <= step_budget) return "";
  return field + " is " + std::to_string(value) + "; must be from 0 to the child's budget of " +
         std::to_string(step_budget);
}

}  // namespace

std::string OutcomeProblem(const proto::TrialOutcome& o, int64_t step_budget) {
  if (!proto::TrialOutcome::Status_IsValid(o.status())) {
    return "status " + std::to_string(o.status()) + " is not a trial outcome";
  }
  const bool trained = o.status() == proto::TrialOutcome::DONE ||
                       o.status() == proto::TrialOutcome::TIMED_OUT ||
                       o.status() == proto::TrialOutcome::PRUNED;
  // A diverged or failed child's accuracy is recorded as 0 whatever it says.
  const bool recorded = trained || o.status() == proto::TrialOutcome::STOPPED;
  std::string problem;
  if (trained && !o.has_validation_accuracy()) {
    problem =
        "validation_accuracy is missing; a child that trained to its end, or was evaluated "
        "where it stopped, has one";
  }
  if (problem.empty() && recorded && o.has_validation_accuracy()) {
    problem = NotAnAccuracy("validation_accuracy", o.validation_accuracy());
  }
  if (problem.empty() && o.has_test_accuracy()) {
    problem = NotAnAccuracy("test_accuracy", o.test_accuracy());
  }
  // A loss that was not finite is left out, never sent.
  if (problem.empty() && o.has_final_loss() && !std::isfinite(o.final_loss())) {
    problem = "final_loss is " + Number(o.final_loss()) + "; a loss that is not finite is left out";
  }
  if (problem.empty()) problem = NotAStep("steps", o.steps(), step_budget);
  if (problem.empty() && !(std::isfinite(o.wall_seconds()) && o.wall_seconds() >= 0)) {
    problem = "wall_seconds is " + Number(o.wall_seconds()) + "; must be a time of at least 0";
  }
  for (int i = 0; i < o.curve_size() && problem.empty(); ++i) {
    const proto::CurvePoint& point = o.curve(i);
    const std::string field = "curve[" + std::to_string(i) + "].";
    problem = NotAStep(field + "step", point.step(), step_budget);
    if (problem.empty() && point.has_validation_accuracy()) {
      problem = NotAnAccuracy(field + "validation_accuracy", point.validation_accuracy());
    }
  }
  return problem;
}

std::string ProgressProblem(int64_t step, double validation_accuracy, int64_t step_budget) {
  std::string problem = NotAStep("step", step, step_budget);
  if (problem.empty()) problem = NotAnAccuracy("validation_accuracy", validation_accuracy);
  return problem;
}

}  // namespace actsearch::controller
