// How a child network is trained: the recipe of the search's children, by named profile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace actsearch::worker {

struct TrainingProfile {
  std::string name;
  int64_t steps = 10000;
  int64_t batch_size = 128;
  double learning_rate = 0.1;     // peak, after warm-up
  double momentum = 0.9;          // Nesterov
  double weight_decay = 5e-4;     // on convolution and linear weights only
  double warmup_fraction = 0.05;  // linear warm-up from 0, then cosine decay to 0
  int64_t eval_every = 0;         // validation during training (0: only at the end)
  int64_t progress_every = 50;    // steps between progress reports
  int64_t eval_batch_size = 1000;
};

// "paper": the Swish paper's budget, 10K steps at batch 128 (a GPU budget).
// "cpu": 1500 steps, a run of minutes on a CPU core pair. "quick": 300 steps.
// "test": 40 steps at batch 32, for tests.
// Throws std::invalid_argument naming the known profiles.
TrainingProfile ProfileByName(const std::string& name);
std::vector<std::string> ProfileNames();

// Sets a profile's step budget (a command line's --steps, a config's steps), with progress
// reported about every 5% of the run, never less often than the profile's own interval.
void SetSteps(TrainingProfile& profile, int64_t steps);

// The learning rate at `step` (0-based) of a profile.
double LearningRateAt(const TrainingProfile& profile, int64_t step);

}  // namespace actsearch::worker
