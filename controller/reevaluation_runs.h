// A re-evaluation served by the controller (docs/reevaluation.md): its runs (the config's
// reevaluation section) queued as trials, one per run and seed (a run names its model), with a
// strategy that proposes nothing, so that the scheduler leases them like any search's trials,
// retries them when their workers die, and ends the search once they are all trained.
#pragma once

#include <cstdint>

#include "controller/strategy.h"
#include "proto/search_config.pb.h"
#include "storage/results_store.h"

namespace actsearch::controller {

// The strategy of a re-evaluation: its trials are planned, not proposed.
class PlannedRuns : public Strategy {
 public:
  std::string name() const override { return "reevaluation"; }
  std::optional<Proposal> Propose() override { return std::nullopt; }
  void Observe(uint64_t, double) override {}
  std::string SaveState() const override { return ""; }
  void RestoreState(const std::string& bytes) override;
};

// Queues every (run, seed) of `reevaluation` that has no trial in the search yet: on a first
// start all of them, on a resume none (or those a changed plan added).
void QueueReevaluationRuns(storage::ResultsStore& store, int64_t search_id,
                           const proto::Reevaluation& reevaluation);

}  // namespace actsearch::controller
