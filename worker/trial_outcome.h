// A trial's outcome in its three forms, and the one way between them: what a training returns
// (TrainResult), what a worker reports over the wire (proto::TrialOutcome), and what the results
// store records (storage::TrialResult). Every path that records a training goes trainer result
// -> wire message -> stored row through here: the worker and the controller, and the trainings
// recorded in process (`actsearch train --db`, `actsearch reevaluate`). No LibTorch, so the
// controller links it without the worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/controller.pb.h"
#include "storage/results_store.h"

namespace actsearch::worker {

enum class TrainStatus { kDone, kDiverged, kTimedOut, kStopped };

struct CurvePoint {
  int64_t step = 0;
  double loss = 0;                            // mean training loss since the last point
  std::optional<double> validation_accuracy;  // when evaluated at this step
  // With TrainOptions::evaluate_averaged_weights, validation_accuracy during the budget is the
  // averaged weights' and this the current weights' (not sent to the controller).
  std::optional<double> current_weights_accuracy;
};

// What a training returns (worker/trainer.h, worker/proxy_task.h).
struct TrainResult {
  TrainStatus status = TrainStatus::kDone;
  double validation_accuracy = 0;  // the reward; 0 when diverged or stopped
  std::optional<double> test_accuracy;
  std::optional<double> final_loss;  // absent when the loss was not finite
  int64_t steps = 0;
  double wall_seconds = 0;
  std::string device;
  bool cuda_graph = false;  // whether its steps ran as a CUDA graph (worker/training_step.h)
  std::string error;        // why it diverged or stopped
  std::vector<CurvePoint> curve;
  int64_t parameters = 0;
};

// The statuses in their three forms, and their one set of names:
//   training    wire        name        stored state
//   kDone       DONE        done        done
//   kDiverged   DIVERGED    diverged    diverged
//   kTimedOut   TIMED_OUT   timed_out   stopped_early
//   kStopped    STOPPED     stopped     stopped_early
//   (none)      FAILED      failed      failed         the worker could not train it
//   kStopped    PRUNED      pruned      stopped_early  stopped by the search's early stopping
proto::TrialOutcome::Status OutcomeStatusOf(TrainStatus status);
// failed for a value that is no status (a report check refuses it before it is stored).
storage::TrialState StoredStateOf(proto::TrialOutcome::Status status);
const char* OutcomeStatusName(proto::TrialOutcome::Status status);  // "unknown" for no status
const char* TrainStatusName(TrainStatus status);                    // its wire status's name

// The report of a training: validation accuracy present when it is done or timed out, test
// accuracy and final loss when the training has them, the curve point by point.
proto::TrialOutcome ToTrialOutcome(const TrainResult& result);
// The report of a trial the worker could not train: `candidate_at_fault` when the candidate
// itself cannot be trained (its expression does not build), else the environment's fault.
proto::TrialOutcome FailedOutcome(const std::string& device, const std::string& error,
                                  bool candidate_at_fault);

// The report of a training the search's early stopping stopped at `step`, where it was
// evaluated at `validation_accuracy`: the stopped training's report, marked pruned.
proto::TrialOutcome PrunedOutcome(proto::TrialOutcome stopped, int64_t step,
                                  double validation_accuracy);

// The row the store records for a report: its state (see the table), the validation accuracy
// (0, the reward, for a diverged or failed child; absent when not reported), pruned for a
// PRUNED report, the learning curve
// as JSON ([[step, loss, validation_accuracy|null], ...], null also for a loss that is not
// finite), and the rest as reported.
storage::TrialResult ToTrialResult(const proto::TrialOutcome& outcome);
// A training recorded in process: the row of its report, ToTrialResult(ToTrialOutcome(result)).
storage::TrialResult ToTrialResult(const TrainResult& result);

}  // namespace actsearch::worker
