#include "worker/training_profile.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace actsearch::worker {

TrainingProfile ProfileByName(const std::string& name) {
  TrainingProfile p;
  p.name = name;
  if (name == "paper") {
    p.steps = 10000;
    p.eval_every = 1000;
  } else if (name == "cpu") {
    p.steps = 1500;
    p.eval_every = 500;
  } else if (name == "quick") {
    p.steps = 300;
    p.eval_every = 100;
  } else if (name == "test") {
    p.steps = 40;
    p.batch_size = 32;
    p.progress_every = 10;
    p.eval_batch_size = 256;
  } else {
    std::string known;
    for (const std::string& n : ProfileNames()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown training profile '" + name + "' (" + known + ")");
  }
  return p;
}

std::vector<std::string> ProfileNames() { return {"paper", "cpu", "quick", "test"}; }

void SetSteps(TrainingProfile& profile, int64_t steps) {
  profile.steps = steps;
  profile.progress_every = std::max<int64_t>(1, std::min(profile.progress_every, steps / 20));
}

double LearningRateAt(const TrainingProfile& profile, int64_t step) {
  const double warmup = std::max(1.0, profile.warmup_fraction * profile.steps);
  if (step < warmup) return profile.learning_rate * (step + 1) / warmup;
  const double progress = (step - warmup) / std::max(1.0, profile.steps - warmup);
  return 0.5 * profile.learning_rate * (1 + std::cos(M_PI * std::min(1.0, progress)));
}

}  // namespace actsearch::worker
