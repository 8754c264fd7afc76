#include "controller/metrics.h"

#include <cstdio>

namespace actsearch::controller {
namespace {

// A label value: backslash, double quote and newline escaped as the format requires.
std::string LabelValue(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Exposition {
 public:
  explicit Exposition(std::string search) : search_(LabelValue(search)) {}

  // A metric's HELP and TYPE lines, then its samples.
  void Metric(const char* name, const char* type, const char* help) {
    text_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void Sample(const char* name, double value, const std::string& labels = "") {
    char number[64];
    std::snprintf(number, sizeof number, "%.17g", value);
    text_ += std::string(name) + "{search=\"" + search_ + "\"" + labels + "} " + number + "\n";
  }
  const std::string& text() const { return text_; }

 private:
  std::string search_;
  std::string text_;
};

}  // namespace

std::string PrometheusMetrics(const SchedulerStatus& s, const MetricsContext& context) {
  Exposition out(context.search);
  out.Metric("actsearch_trials", "gauge", "Trials of the search by state.");
  const storage::TrialCounts& t = s.trials;
  for (const auto& [state, count] : {std::pair<const char*, int64_t>{"queued", t.queued},
                                     {"leased", t.leased},
                                     {"done", t.done},
                                     {"diverged", t.diverged},
                                     {"stopped_early", t.stopped_early},
                                     {"failed", t.failed},
                                     {"screened", t.screened}}) {
    out.Sample("actsearch_trials", static_cast<double>(count),
               std::string(",state=\"") + state + "\"");
  }
  out.Metric("actsearch_trials_trained", "gauge", "Trials that used a training: the budget spent.");
  out.Sample("actsearch_trials_trained", static_cast<double>(t.trained()));
  out.Metric("actsearch_budget_trials", "gauge", "The budget's trainings (0: no limit).");
  out.Sample("actsearch_budget_trials", static_cast<double>(s.max_trials));
  out.Metric("actsearch_proposals_total", "counter", "Candidates proposed by the strategy.");
  out.Sample("actsearch_proposals_total", static_cast<double>(s.proposed));
  out.Metric("actsearch_repeats_total", "counter", "Proposals of classes already known.");
  out.Sample("actsearch_repeats_total", static_cast<double>(s.repeats));
  out.Metric("actsearch_leases_granted_total", "counter",
             "Leases handed out by this controller: each an attempt of a trial.");
  out.Sample("actsearch_leases_granted_total", static_cast<double>(s.leases_granted));
  out.Metric("actsearch_leases_expired_total", "counter",
             "Leases that expired without a heartbeat (their trials requeued or failed).");
  out.Sample("actsearch_leases_expired_total", static_cast<double>(s.leases_expired));
  out.Metric("actsearch_workers_connected", "gauge", "Workers seen in the last minute.");
  out.Sample("actsearch_workers_connected", static_cast<double>(context.workers_connected));
  out.Metric("actsearch_children_per_hour", "gauge",
             "Trainings finished per hour since this controller started.");
  const double trained_here = static_cast<double>(t.trained() - context.trained_at_start);
  out.Sample("actsearch_children_per_hour",
             context.session_seconds > 0 ? 3600 * trained_here / context.session_seconds : 0);
  out.Metric("actsearch_best_reward", "gauge", "The best validation accuracy so far.");
  out.Sample("actsearch_best_reward", s.best_reward);
  out.Metric("actsearch_policy_updates_total", "counter",
             "Updates of the strategy's policy (PPO).");
  out.Sample("actsearch_policy_updates_total", static_cast<double>(s.policy_updates));
  out.Metric("actsearch_search_finished", "gauge",
             "1 once the budget is spent or the space exhausted.");
  out.Sample("actsearch_search_finished", s.finished ? 1 : 0);
  return out.text();
}

}  // namespace actsearch::controller
