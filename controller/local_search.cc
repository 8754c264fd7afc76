#include "controller/local_search.h"

#include <cmath>
#include <stdexcept>

#include "controller/class_ledger.h"
#include "search_space/probes.h"
#include "search_space/program.h"

namespace actsearch::controller {

LocalSearchResult RunLocalSearch(Strategy& strategy, const Space& space,
                                 const RewardFunction& reward, int64_t max_evaluations,
                                 int64_t max_proposals, const std::function<bool(double)>& stop,
                                 int64_t stall_after) {
  LocalSearchResult result;
  ClassLedger ledger;
  int64_t since_last_evaluation = 0;
  while (result.evaluations < max_evaluations &&
         static_cast<int64_t>(result.steps.size()) < max_proposals) {
    const std::optional<Proposal> proposal = strategy.Propose();
    if (!proposal) {
      result.exhausted = true;
      break;
    }
    const CandidateAnalysis candidate = AnalyzeExpression(space.Decode(proposal->tokens));
    const Ruling ruling = ledger.Rule(candidate);
    SearchStep step;
    step.expression = candidate.text;
    switch (ruling.kind) {
      case Ruling::Kind::kScreened:
      case Ruling::Kind::kScreenedRepeat:
        ledger.SetReward(candidate.fingerprint, 0);
        step.kind = SearchStep::Kind::kScreened;
        break;
      case Ruling::Kind::kKnown:
        step.kind = SearchStep::Kind::kRepeat;
        step.reward = ruling.reward;
        break;
      case Ruling::Kind::kInFlight:  // each evaluation ends before the next proposal
        throw std::logic_error("an in-process search has no training in flight");
      case Ruling::Kind::kTrain:
        step.reward = reward(candidate.expr);
        ledger.SetReward(candidate.fingerprint, step.reward);
        ++result.evaluations;
        if (step.reward > result.best_reward || result.best_expression.empty()) {
          result.best_reward = step.reward;
          result.best_expression = step.expression;
        }
        break;
    }
    strategy.Observe(proposal->id, step.reward);
    const bool evaluated = step.kind == SearchStep::Kind::kEvaluated;
    const bool done = evaluated && stop && stop(step.reward);
    result.steps.push_back(std::move(step));
    if (done) break;
    since_last_evaluation = evaluated ? 0 : since_last_evaluation + 1;
    if (stall_after > 0 && since_last_evaluation >= stall_after) {
      result.stalled = true;
      break;
    }
  }
  return result;
}

RewardFunction ClosenessTo(const Expr& target) {
  std::vector<double> x;
  for (int i = -80; i <= 80; ++i) x.push_back(i / 20.0);
  const std::vector<double> wanted = ValuesAt(Program(target), x, Program(target).initial_betas());
  return [x, wanted](const Expr& candidate) {
    const Program program(candidate);
    const std::vector<double> y = ValuesAt(program, x, program.initial_betas());
    double squared = 0;
    for (size_t i = 0; i < x.size(); ++i) squared += (y[i] - wanted[i]) * (y[i] - wanted[i]);
    const double mse = squared / x.size();
    return std::isfinite(mse) ? 1 / (1 + mse) : 0.0;
  };
}

}  // namespace actsearch::controller
