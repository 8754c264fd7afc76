// The IDX format of MNIST and Fashion-MNIST, gzipped or not: a big-endian header (magic
// 2051 for images with count, rows, cols; 2049 for labels with count) then uint8 data.
#pragma once

#include <string>

#include "worker/dataset.h"

namespace actsearch::worker {

torch::Tensor ReadIdxImages(const std::string& path);  // uint8 [N, 1, rows, cols]
torch::Tensor ReadIdxLabels(const std::string& path);  // int64 [N]

// dir holds train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-... and
// t10k-labels-.... Throws DataError naming the file for every fault.
DatasetSplits LoadIdxDataset(const std::string& name, const std::string& dir,
                             int64_t validation_size = 5000);

// Where Debian's dataset-fashion-mnist package installs the real Fashion-MNIST.
inline constexpr const char* kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";

}  // namespace actsearch::worker
