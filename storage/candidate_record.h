// How an analysed candidate of the grammar is recorded in the results store: canonical
// expression, functional class, screening verdict and the operators it uses (for the
// leaderboard's filters). The analysis itself is search_space/candidate_analysis.h's.
#pragma once

#include <string>

#include "search_space/candidate_analysis.h"
#include "storage/results_store.h"

namespace actsearch::storage {

NewCandidate CandidateRow(int64_t search_id, const CandidateAnalysis& analysis,
                          const std::string& proposed_by, const std::string& tokens = "");

}  // namespace actsearch::storage
