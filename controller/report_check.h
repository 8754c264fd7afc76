// What a worker may report: every figure of a trial's outcome checked against what a training
// of the search's child can produce, before anything is recorded or reaches a strategy.
#pragma once

#include <cstdint>
#include <string>

#include "proto/controller.pb.h"

namespace actsearch::controller {

// Empty when the outcome is possible for a child of `step_budget` steps; else what is wrong,
// naming the field ("validation_accuracy is inf; must be in [0, 1]").
std::string OutcomeProblem(const proto::TrialOutcome& outcome, int64_t step_budget);

// Empty when a heartbeat's evaluation (a validation accuracy at `step`) is possible; else what
// is wrong.
std::string ProgressProblem(int64_t step, double validation_accuracy, int64_t step_budget);

}  // namespace actsearch::controller
