// CIFAR-10 and CIFAR-100 in their binary distribution: records of label byte(s) then 3072
// pixel bytes (R, G, B planes of 32x32, row-major).
#pragma once

#include <string>

#include "worker/dataset.h"

namespace actsearch::worker {

// dir holds data_batch_1..5.bin and test_batch.bin (the cifar-10-batches-bin folder, or its
// parent). Throws DataError naming the file for a missing, truncated or corrupt file.
DatasetSplits LoadCifar10(const std::string& dir, int64_t validation_size = 5000);

// dir holds train.bin and test.bin (cifar-100-binary); labels are the 100 fine classes.
DatasetSplits LoadCifar100(const std::string& dir, int64_t validation_size = 5000);

// One file of records; label_bytes is 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine; the fine
// label is used). Any whole number of records is accepted.
Dataset ReadCifarFile(const std::string& path, int label_bytes, int64_t num_classes);

}  // namespace actsearch::worker
