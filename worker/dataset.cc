#include "worker/dataset.h"

namespace actsearch::worker {
namespace {

void SetChannelStatistics(DatasetSplits& splits) {
  const torch::Tensor pixels = splits.train.images.to(torch::kFloat).div_(255);
  splits.mean = pixels.mean({0, 2, 3});
  splits.std = pixels.std({0, 2, 3});
}

}  // namespace

DatasetSplits MakeSplits(std::string name, int64_t num_classes, Dataset train_files,
                         Dataset test_files, int64_t validation_size, uint64_t split_seed) {
  const int64_t n = train_files.size();
  if (validation_size < 0 || validation_size >= n) {
    throw DataError(name + ": a validation split of " + std::to_string(validation_size) +
                    " leaves no training images (the training files hold " + std::to_string(n) +
                    ")");
  }
  // The split is fixed by its own seed, independent of the training seed: every trial of a
  // search is scored on the same validation images.
  torch::Generator generator = at::detail::createCPUGenerator(split_seed);
  const torch::Tensor order = torch::randperm(n, generator, torch::kLong);
  const torch::Tensor train_index = order.slice(0, 0, n - validation_size);
  const torch::Tensor validation_index = order.slice(0, n - validation_size, n);

  DatasetSplits splits;
  splits.name = std::move(name);
  splits.num_classes = num_classes;
  splits.train = {train_files.images.index_select(0, train_index),
                  train_files.labels.index_select(0, train_index)};
  splits.validation = {train_files.images.index_select(0, validation_index),
                       train_files.labels.index_select(0, validation_index)};
  splits.test = std::move(test_files);
  SetChannelStatistics(splits);
  return splits;
}

void KeepTrainingImages(DatasetSplits& splits, int64_t images) {
  const int64_t n = splits.train.size();
  if (images < 1 || images > n) {
    throw DataError(splits.name + ": " + std::to_string(images) +
                    " training images asked for, the training split holds " + std::to_string(n));
  }
  if (images == n) return;
  splits.train = {splits.train.images.slice(0, 0, images).clone(),
                  splits.train.labels.slice(0, 0, images).clone()};
  SetChannelStatistics(splits);
}

}  // namespace actsearch::worker
