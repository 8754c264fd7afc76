#include "controller/local_search.h"

#include <cmath>

#include "search_space/printer.h"
#include "search_space/probes.h"
#include "search_space/program.h"
#include "search_space/screening.h"

namespace actsearch::controller {

LocalSearchResult RunLocalSearch(Strategy& strategy, const Space& space,
                                 const RewardFunction& reward, int64_t max_evaluations,
                                 int64_t max_proposals, const std::function<bool(double)>& stop,
                                 int64_t stall_after) {
  LocalSearchResult result;
  std::unordered_map<Fingerprint, double> known;
  int64_t since_last_evaluation = 0;
  while (result.evaluations < max_evaluations &&
         static_cast<int64_t>(result.steps.size()) < max_proposals) {
    const std::optional<Proposal> proposal = strategy.Propose();
    if (!proposal) {
      result.exhausted = true;
      break;
    }
    const Expr expr = space.Decode(proposal->tokens);
    const Program program(expr);
    SearchStep step;
    step.expression = ToString(expr);
    if (!Screen(program).accepted()) {
      step.kind = SearchStep::Kind::kScreened;
      step.reward = 0;
    } else {
      const Fingerprint fingerprint = ComputeFingerprint(expr);
      const auto it = known.find(fingerprint);
      if (it != known.end()) {
        step.kind = SearchStep::Kind::kRepeat;
        step.reward = it->second;
      } else {
        step.reward = reward(expr);
        known.emplace(fingerprint, step.reward);
        ++result.evaluations;
        if (step.reward > result.best_reward || result.best_expression.empty()) {
          result.best_reward = step.reward;
          result.best_expression = step.expression;
        }
      }
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
