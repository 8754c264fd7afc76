// Datasets by name, as the command line and the search configuration give them.
#pragma once

#include <string>

#include "worker/dataset.h"

namespace actsearch::worker {

// "cifar10:DIR", "cifar100:DIR", "fashion-mnist[:DIR]" (default: Debian's package),
// "mnist:DIR", "synthetic". validation_size < 0 keeps each dataset's default (5000, or a fifth
// of the synthetic set). Throws DataError for a bad spec or bad files.
DatasetSplits LoadDataset(const std::string& spec, int64_t validation_size = -1);

// Throws the DataError LoadDataset would throw for a malformed spec, without reading files.
void CheckDatasetSpec(const std::string& spec);

}  // namespace actsearch::worker
