// Wide Residual Networks (Zagoruyko & Komodakis 2016), WRN-d-k for CIFAR: a pre-activation
// ResNet of basic blocks whose three stages are k times wider (16k, 32k, 64k channels) after a
// 16-channel stem, with (d - 4) / 6 blocks per stage and optional dropout inside each block.
#pragma once

#include <cstdint>

#include "worker/preact_resnet.h"

namespace actsearch::worker {

struct WideResNetOptions {
  int64_t depth = 28;         // 6n + 4: 10, 16, 22, 28, 40
  int64_t widen_factor = 10;  // k
  double dropout = 0;         // the paper's 0.3 is opt-in
};

// The pre-activation ResNet that is WRN-d-k. Throws std::invalid_argument for a depth that is
// not 6n + 4, a width below 1 or a dropout outside [0, 1).
PreActResNetOptions ToPreActResNetOptions(const WideResNetOptions& wide);

}  // namespace actsearch::worker
