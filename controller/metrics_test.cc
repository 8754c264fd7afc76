#include "controller/metrics.h"

#include <gtest/gtest.h>

namespace actsearch::controller {
namespace {

TEST(Metrics, EverySampleCarriesTheSearchAndItsValueInTheExpositionFormat) {
  SchedulerStatus s;
  s.trials.done = 7;
  s.trials.failed = 1;
  s.trials.screened = 2;
  s.max_trials = 20;
  s.leases_granted = 9;
  s.leases_expired = 1;
  s.best_reward = 0.875;
  s.policy_updates = 3;
  MetricsContext context;
  context.search = "a \"quoted\" \\ name\nnext";
  context.workers_connected = 4;
  context.session_seconds = 1800;
  context.trained_at_start = 2;
  const std::string text = PrometheusMetrics(s, context);
  const std::string label = "search=\"a \\\"quoted\\\" \\\\ name\\nnext\"";
  EXPECT_NE(text.find("actsearch_trials{" + label + ",state=\"done\"} 7\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("actsearch_trials_trained{" + label + "} 8\n"), std::string::npos);
  EXPECT_NE(text.find("actsearch_leases_expired_total{" + label + "} 1\n"), std::string::npos);
  EXPECT_NE(text.find("actsearch_workers_connected{" + label + "} 4\n"), std::string::npos);
  // (8 - 2) trainings in half an hour.
  EXPECT_NE(text.find("actsearch_children_per_hour{" + label + "} 12\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE actsearch_policy_updates_total counter\n"), std::string::npos);
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "every line ends";
    const std::string line = text.substr(start, end - start);
    EXPECT_TRUE(line.rfind("# ", 0) == 0 || line.rfind("actsearch_", 0) == 0) << line;
    start = end + 1;
  }
}

}  // namespace
}  // namespace actsearch::controller
