// Trains the trials a controller hands out: a ResNet (or another registered model) on an image
// dataset, or the cheap proxy task, as the search's config says. Datasets are loaded once per
// worker and kept. Anything that keeps a trial from training becomes a failed outcome with its
// reason, not a crash, blamed on the candidate when its expression does not build here, else
// on the environment (data files missing here, the device, memory). Outcomes are built by
// worker/trial_outcome.h.
#pragma once

#include "worker/trainer.h"
#include "worker/worker_loop.h"

namespace actsearch::worker {

struct TrialRunnerOptions {
  std::string device = "cpu";  // cpu, cuda, cuda:N
  int threads = 0;             // CPU threads; 0: all cores
};

// The runner, and a preflight that loads (and keeps) the child's dataset and checks its model.
struct TrialRunnerWithPreflight {
  TrialRunner runner;
  Preflight preflight;
};
TrialRunnerWithPreflight MakeTrialRunner(const TrialRunnerOptions& options);

}  // namespace actsearch::worker
