// The cheap proxy child: a small MLP on two interleaved spirals, trained full batch for a few
// hundred steps in tens of milliseconds, with the candidate activation in every hidden layer.
// It ranks candidates roughly as the image task does at the extremes (a linear or constant
// activation fails, ReLU and Swish succeed) and is for fast searches and tests, not for the
// paper's reward.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "worker/child_budget.h"
#include "worker/trainer.h"

namespace actsearch::worker {

struct ProxyOptions {
  int64_t steps = kProxyDefaultSteps;
  int64_t hidden = 32;  // units per hidden layer (2 hidden layers)
  int64_t train_points = 1024;
  int64_t validation_points = 512;
  int64_t test_points = 512;
  double learning_rate = 0.01;  // Adam, full batch
  uint64_t seed = 0;            // data and initialisation
  int64_t progress_every = 50;  // 0: no progress callbacks
  // Further steps (ascending) with a progress callback carrying the validation accuracy.
  std::vector<int64_t> evaluate_at;
  // Those evaluations judge a running average of the weights (worker/weight_average.h; the
  // network has no BatchNorm), as TrainOptions::evaluate_averaged_weights.
  bool evaluate_averaged_weights = false;
  double time_limit_seconds = 0;  // 0: none
};

// Trains the proxy with `activation` (any spec MakeActivationFactory accepts) and returns the
// same TrainResult as TrainChild: status done/diverged/timed_out/stopped, validation accuracy
// (the reward; 0 when diverged or stopped), test accuracy (when done), final loss, curve (a
// point with the validation accuracy every progress_every steps and at the end), steps, wall
// time, device "cpu".
//
// The same seed gives bit-identical results for the same LibTorch thread count. Torch's global
// state is left alone (the data and weights come from a generator of this call's own), the
// thread count included: callers should run the proxy under torch::set_num_threads(1), since
// its operations are too small to share and two threads made it 10-20 times slower on a busy
// two-core machine. To use more cores, call it from several threads at once: concurrent calls
// give exactly the serial results.
//
// Throws ParseError for a malformed activation and std::invalid_argument for bad options.
TrainResult TrainProxy(const std::string& activation, const ProxyOptions& options,
                       const ProgressCallback& progress = nullptr);

}  // namespace actsearch::worker
