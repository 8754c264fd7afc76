// Image classification data held in memory as uint8 tensors, and its train/validation/test
// splits. Normalisation and augmentation happen per batch (see batch_sampler.h).
#pragma once

#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace actsearch::worker {

// A data file that is missing, truncated or malformed: the message names the file and fault.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Dataset {
  torch::Tensor images;  // uint8 [N, C, H, W]
  torch::Tensor labels;  // int64 [N]
  int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

struct DatasetSplits {
  std::string name;
  int64_t num_classes = 0;
  Dataset train;       // what the child trains on
  Dataset validation;  // carved from the training files: the search's reward
  Dataset test;        // the official test files: reported, never used for selection
  torch::Tensor mean;  // float [C], per channel, of the train split, in [0, 1] units
  torch::Tensor std;   // float [C]
};

// Splits the last `validation_size` images of the training files off as validation (after a
// seeded shuffle, so that every class is represented), and computes the per-channel mean and
// standard deviation of what remains.
DatasetSplits MakeSplits(std::string name, int64_t num_classes, Dataset train_files,
                         Dataset test_files, int64_t validation_size, uint64_t split_seed = 0);

// Keeps the first `images` of the training split (a random subset: the split is shuffled) and
// recomputes its mean and standard deviation; validation and test are untouched, so a search on
// the reduced set is scored as one on the whole. A reduced-data proxy sees as many epochs in a
// short budget as a long one does on the whole set. Throws DataError when the split holds fewer.
void KeepTrainingImages(DatasetSplits& splits, int64_t images);

}  // namespace actsearch::worker
