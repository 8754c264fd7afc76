// The controller's Prometheus metrics: a search's state in the text exposition format, for
// `--metrics-listen` (scraped by Prometheus, or read with curl).
#pragma once

#include <string>

#include "controller/scheduler.h"

namespace actsearch::controller {

struct MetricsContext {
  std::string search;             // the search's name, the `search` label of every metric
  int64_t workers_connected = 0;  // workers seen in the last minute
  double session_seconds = 0;     // since this controller started
  int64_t trained_at_start = 0;   // trainings the search had when it started
};

std::string PrometheusMetrics(const SchedulerStatus& s, const MetricsContext& context);

}  // namespace actsearch::controller
