#include "controller/stopping_rule.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "controller/search_config.h"
#include "worker/child_budget.h"

namespace actsearch::controller {
namespace {

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void Require(bool ok, const std::string& field, const std::string& what) {
  if (!ok) throw ConfigError("config field early_stopping." + field + ": " + what);
}

}  // namespace

StoppingSettings StoppingSettingsOf(const proto::SearchConfig& config) {
  StoppingSettings s;
  s.budget = worker::StepBudget(config.child());
  if (!config.has_early_stopping()) return s;
  const proto::EarlyStopping& e = config.early_stopping();
  Require(e.evaluate_every() >= 0 && e.evaluate_every() < s.budget, "evaluate_every",
          "must be from 0 to below the child's budget of " + std::to_string(s.budget) + " steps");
  std::set<int64_t> evaluate, decide;
  auto every = [&](int64_t interval) {
    for (int64_t step = interval; step < s.budget; step += interval) evaluate.insert(step);
  };
  const int64_t tenth = std::max<int64_t>(1, s.budget / 10);
  if (e.has_asha()) {
    s.rule = StoppingSettings::Rule::kAsha;
    if (e.asha().eta() != 0) s.eta = e.asha().eta();
    Require(std::isfinite(s.eta) && s.eta > 1 && s.eta <= 100, "asha.eta",
            "must be above 1 (and at most 100)");
    const int64_t first = e.asha().min_steps() > 0
                              ? e.asha().min_steps()
                              : std::max<int64_t>(1, std::llround(s.budget / (s.eta * s.eta)));
    Require(e.asha().min_steps() >= 0 && first < s.budget, "asha.min_steps",
            "must be below the child's budget of " + std::to_string(s.budget) + " steps");
    for (double rung = static_cast<double>(first); std::llround(rung) < s.budget; rung *= s.eta) {
      decide.insert(std::llround(rung));
    }
    if (e.asha().brackets() != 0) s.brackets = e.asha().brackets();
    Require(
        s.brackets >= 1 && s.brackets <= static_cast<int>(decide.size()) + 1, "asha.brackets",
        "must be from 1 to one more than the rungs (" + std::to_string(decide.size() + 1) + ")");
    evaluate = decide;
    if (e.evaluate_every() > 0) every(e.evaluate_every());
  } else {
    every(e.evaluate_every() > 0 ? e.evaluate_every() : tenth);
  }
  if (e.has_median()) {
    s.rule = StoppingSettings::Rule::kMedian;
    const int64_t grace = e.median().grace_steps() > 0 ? e.median().grace_steps() : s.budget / 4;
    Require(e.median().grace_steps() >= 0 && grace < s.budget, "median.grace_steps",
            "must be below the child's budget of " + std::to_string(s.budget) + " steps");
    Require(e.median().min_peers() >= 0, "median.min_peers", "must not be negative");
    if (e.median().min_peers() > 0) s.min_peers = e.median().min_peers();
    for (int64_t step : evaluate) {
      if (step >= grace) decide.insert(step);
    }
  }
  s.evaluate_at.assign(evaluate.begin(), evaluate.end());
  s.decide_at.assign(decide.begin(), decide.end());
  return s;
}

StoppingRule::StoppingRule(StoppingSettings settings) : settings_(std::move(settings)) {}

bool StoppingRule::evaluates_at(int64_t step) const {
  return std::binary_search(settings_.evaluate_at.begin(), settings_.evaluate_at.end(), step);
}

int StoppingRule::BracketOf(int64_t trial) const {
  const int64_t b = settings_.brackets;
  return static_cast<int>(((trial % b) + b) % b);
}

bool StoppingRule::decides_at(int64_t trial, int64_t step) const {
  if (settings_.rule == StoppingSettings::Rule::kNone) return false;
  const std::vector<int64_t>& at = settings_.decide_at;
  const auto found = std::lower_bound(at.begin(), at.end(), step);
  return found != at.end() && *found == step && found - at.begin() >= BracketOf(trial);
}

Verdict StoppingRule::Evaluate(int64_t trial, int64_t step, double accuracy) {
  if (const std::optional<Verdict> given = VerdictAt(trial, step)) return *given;
  const Verdict verdict = Judge(trial, step, accuracy);
  Restore(trial, step, accuracy, verdict);
  return verdict;
}

void StoppingRule::Restore(int64_t trial, int64_t step, double accuracy, Verdict verdict) {
  at_step_[step][trial] = accuracy;
  verdicts_[{trial, step}] = verdict;
}

std::optional<Verdict> StoppingRule::VerdictAt(int64_t trial, int64_t step) const {
  const auto given = verdicts_.find({trial, step});
  if (given == verdicts_.end()) return std::nullopt;
  return given->second;
}

void StoppingRule::Finish(int64_t trial, double accuracy) { finals_[trial] = accuracy; }

Verdict StoppingRule::Judge(int64_t trial, int64_t step, double accuracy) const {
  if (!decides_at(trial, step)) return Verdict::kContinue;
  std::vector<double> others;  // of its bracket (every child under median stopping)
  const auto found = at_step_.find(step);
  if (found != at_step_.end()) {
    for (const auto& [other, value] : found->second) {
      if (other != trial && BracketOf(other) == BracketOf(trial)) others.push_back(value);
    }
  }
  switch (settings_.rule) {
    case StoppingSettings::Rule::kNone: return Verdict::kContinue;
    case StoppingSettings::Rule::kMedian:
      return static_cast<int>(others.size()) >= settings_.min_peers && accuracy < Median(others)
                 ? Verdict::kStop
                 : Verdict::kContinue;
    case StoppingSettings::Rule::kAsha: {
      // Ranked among the n evaluated here so far, itself included; ties go its way.
      const int64_t better = std::count_if(others.begin(), others.end(),
                                           [accuracy](double value) { return value > accuracy; });
      const double n = static_cast<double>(others.size() + 1);
      return better + 1 <= static_cast<int64_t>(std::ceil(n / settings_.eta - 1e-9))
                 ? Verdict::kContinue
                 : Verdict::kStop;
    }
  }
  return Verdict::kContinue;
}

double StoppingRule::StoppedReward(int64_t step, double accuracy) const {
  std::vector<double> gains;
  const auto found = at_step_.find(step);
  if (found != at_step_.end()) {
    for (const auto& [trial, value] : found->second) {
      const auto final_accuracy = finals_.find(trial);
      if (final_accuracy != finals_.end()) gains.push_back(final_accuracy->second - value);
    }
  }
  if (gains.empty()) return accuracy;
  return std::clamp(accuracy + Median(gains), 0.0, 1.0);
}

}  // namespace actsearch::controller
