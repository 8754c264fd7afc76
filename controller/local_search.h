// A search run in this process, one candidate at a time, under the rules every search follows
// (controller/class_ledger.h, shared with the controller's scheduler): a screened candidate
// gets reward 0 without training; a repeat of a functional class already evaluated gets that
// class's reward without training again (the strategy still learns from it). Used by the
// cheap proxy tasks, the search benchmark and tests.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/strategy.h"
#include "search_space/fingerprint.h"
#include "search_space/space.h"

namespace actsearch::controller {

using RewardFunction = std::function<double(const Expr& candidate)>;

struct SearchStep {
  std::string expression;
  double reward = 0;
  enum class Kind { kEvaluated, kRepeat, kScreened } kind = Kind::kEvaluated;
};

struct LocalSearchResult {
  std::vector<SearchStep> steps;  // every proposal, in order
  int64_t evaluations = 0;        // rewards actually computed (the budget's unit)
  double best_reward = 0;
  std::string best_expression;
  bool exhausted = false;  // the strategy had nothing left to propose
  bool stalled = false;    // `stall_after` proposals in a row brought nothing new
};

// Stops after `max_evaluations` computed rewards or `max_proposals` proposals, or when
// `stop(reward)` returns true for an evaluated candidate (optional), or when `stall_after`
// proposals in a row were repeats or screened (0: never; a strategy that has converged on
// classes it knows would otherwise spin through the proposal budget).
LocalSearchResult RunLocalSearch(Strategy& strategy, const Space& space,
                                 const RewardFunction& reward, int64_t max_evaluations,
                                 int64_t max_proposals,
                                 const std::function<bool(double)>& stop = nullptr,
                                 int64_t stall_after = 0);

// A cheap reward with known winners: 1 / (1 + mean squared difference) between the candidate
// and `target` on 161 points of [-4, 4], at initial betas. 1 exactly for the target's class.
RewardFunction ClosenessTo(const Expr& target);

}  // namespace actsearch::controller
