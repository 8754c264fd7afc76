#include "controller/reevaluation_runs.h"

#include <set>
#include <string>
#include <tuple>

namespace actsearch::controller {

void PlannedRuns::RestoreState(const std::string& bytes) {
  if (!bytes.empty()) {
    throw StrategyStateError("a checkpoint of another strategy: a re-evaluation keeps none");
  }
}

void QueueReevaluationRuns(storage::ResultsStore& store, int64_t search_id,
                           const proto::Reevaluation& reevaluation) {
  std::set<std::tuple<std::string, std::string, int64_t>> queued;  // (spec, model, seed)
  for (const storage::TrialRow& trial : store.TrialsOfSearch(search_id)) {
    queued.emplace(trial.expression, trial.model, trial.seed);
  }
  // Each trial is committed as it is queued: a controller killed half-way queues the rest when
  // it is started again.
  for (const proto::Reevaluation::Run& run : reevaluation.runs()) {
    storage::NewCandidate candidate;
    candidate.search_id = search_id;
    candidate.expression = run.spec();
    candidate.fingerprint = run.fingerprint();
    candidate.proposed_by = "reevaluate";
    candidate.operators.assign(run.operators().begin(), run.operators().end());
    const int64_t candidate_id = store.AddCandidate(candidate);
    for (int64_t seed = 0; seed < reevaluation.seeds(); ++seed) {
      if (queued.count({run.spec(), run.model(), seed}) != 0) continue;
      store.QueueTrial(candidate_id, seed, run.model());
    }
  }
}

}  // namespace actsearch::controller
