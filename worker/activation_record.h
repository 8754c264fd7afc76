// Recording runs of any activation spec in the results store, not only grammar expressions:
// re-evaluation trains `sugar:` and `pwlu:` specs, which the grammar cannot parse.
#pragma once

#include <cstdint>
#include <string>

#include "storage/results_store.h"
#include "worker/trainer.h"

namespace actsearch::worker {

// How the spec `activation` is described in the store.
// - relu and expressions: as search_space/candidate_analysis.h analyses them (canonical text,
//   functional fingerprint, screening, operators), so their runs join their functional class.
// - sugar and pwlu specs: the spec, with embedded expressions printed canonically, as the
//   expression column; a hash of that text as the fingerprint (every spec is a class of its
//   own); the embedded expression's operators plus the mode word ("sugar", "pwlu", so that
//   `leaderboard --operators sugar` selects them); screening does not apply: "accepted".
// Throws ParseError for a malformed spec.
storage::NewCandidate DescribeActivation(int64_t search_id, const std::string& activation,
                                         const std::string& proposed_by);

// Records one run of `activation` with `seed` in the search `search_id`: its candidate (once
// per search), a trial and the result. Returns the trial's id.
int64_t RecordActivationRun(storage::ResultsStore& store, int64_t search_id,
                            const std::string& activation, const std::string& proposed_by,
                            uint64_t seed, const TrainResult& result);

}  // namespace actsearch::worker
