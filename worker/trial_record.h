// Turning a trained child into rows of the results store.
#pragma once

#include <cstdint>
#include <string>

#include "storage/results_store.h"
#include "worker/trainer.h"

namespace actsearch::worker {

// The store's result for a training outcome: the learning curve as JSON, the status mapped to
// a trial state (timed out and stopped become stopped_early).
storage::TrialResult ToTrialResult(const TrainResult& result);

// Records one standalone run of `activation` (an expression or "relu") in the search named
// `search_name`: its candidate (canonical text, fingerprint, operators), a trial with the
// run's seed, and the result. Returns the trial's id.
int64_t RecordStandaloneRun(storage::ResultsStore& store, const std::string& search_name,
                            const std::string& activation, uint64_t seed,
                            const TrainResult& result);

}  // namespace actsearch::worker
