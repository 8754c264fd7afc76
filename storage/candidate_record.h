// How a candidate of the grammar is described in the results store: canonical expression,
// functional class, screening verdict and the operators it uses (for the leaderboard's filters).
#pragma once

#include <string>

#include "search_space/expr.h"
#include "storage/results_store.h"

namespace actsearch::storage {

// Screens and fingerprints `expr` (at most a few milliseconds).
NewCandidate DescribeCandidate(int64_t search_id, const Expr& expr, const std::string& proposed_by,
                               const std::string& tokens = "");

}  // namespace actsearch::storage
