#include "worker/synthetic.h"

namespace actsearch::worker {
namespace {

Dataset Generate(int64_t n, int64_t classes, torch::Generator& generator) {
  constexpr int64_t kSize = 16;
  constexpr int64_t kSquare = 5;
  torch::Tensor labels = torch::randint(classes, {n}, generator, torch::kLong);
  torch::Tensor images = torch::randint(0, 96, {n, 3, kSize, kSize}, generator, torch::kLong);
  for (int64_t k = 0; k < classes; ++k) {
    const torch::Tensor members = (labels == k).nonzero().squeeze(1);
    if (members.numel() == 0) continue;
    // Class k: a square on a diagonal of positions, in one of three colour channels.
    const int64_t offset = (k * (kSize - kSquare)) / std::max<int64_t>(1, classes - 1);
    const int64_t channel = k % 3;
    torch::Tensor selected = images.index_select(0, members);
    selected.select(1, channel).narrow(1, offset, kSquare).narrow(2, offset, kSquare).add_(150);
    images.index_copy_(0, members, selected);
  }
  return {images.clamp(0, 255).to(torch::kUInt8), labels};
}

}  // namespace

DatasetSplits MakeSyntheticDataset(int64_t train_size, int64_t test_size, int64_t classes,
                                   uint64_t seed) {
  torch::Generator generator = at::detail::createCPUGenerator(seed);
  Dataset train = Generate(train_size, classes, generator);
  Dataset test = Generate(test_size, classes, generator);
  return MakeSplits("synthetic", classes, std::move(train), std::move(test), train_size / 5, seed);
}

}  // namespace actsearch::worker
