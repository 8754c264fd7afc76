// Turning a trained child into rows of the results store.
#pragma once

#include "storage/results_store.h"
#include "worker/trainer.h"

namespace actsearch::worker {

// The store's result for a training outcome: the learning curve as JSON, the status mapped to
// a trial state (timed out and stopped become stopped_early).
storage::TrialResult ToTrialResult(const TrainResult& result);

}  // namespace actsearch::worker
