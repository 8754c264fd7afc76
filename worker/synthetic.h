// A small, learnable synthetic image task for tests: no files, fully determined by its seed.
#pragma once

#include "worker/dataset.h"

namespace actsearch::worker {

// `classes` classes of 3x16x16 images: each class is a bright square at its own position and
// colour, on noise. Easy for a small ResNet (well above chance in a few hundred steps),
// impossible for a network that ignores its input.
DatasetSplits MakeSyntheticDataset(int64_t train_size = 2000, int64_t test_size = 500,
                                   int64_t classes = 4, uint64_t seed = 0);

}  // namespace actsearch::worker
