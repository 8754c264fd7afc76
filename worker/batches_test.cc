#include "worker/batches.h"

#include <gtest/gtest.h>

#include "worker/synthetic.h"

namespace actsearch::worker {
namespace {

// Distinct pixel values: each image is 0..(C*H*W - 1) plus its index, modulo 256.
torch::Tensor Ramp(int64_t b, int64_t c, int64_t h, int64_t w) {
  return (torch::arange(b * c * h * w, torch::kLong).view({b, c, h, w}) % 251).to(torch::kUInt8);
}

TEST(Augment, WithoutPaddingOrFlipIsTheIdentity) {
  torch::Generator g = at::detail::createCPUGenerator(1);
  const torch::Tensor images = Ramp(8, 3, 6, 6);
  EXPECT_TRUE(torch::equal(AugmentBatch(images, AugmentOptions{0, false}, g), images));
}

TEST(Augment, FlipsSomeImagesHorizontallyAndLeavesTheRest) {
  torch::Generator g = at::detail::createCPUGenerator(2);
  const torch::Tensor images = Ramp(64, 3, 5, 7);
  const torch::Tensor out = AugmentBatch(images, AugmentOptions{0, true}, g);
  int flipped = 0;
  for (int64_t i = 0; i < 64; ++i) {
    const bool same = torch::equal(out[i], images[i]);
    const bool mirrored = torch::equal(out[i], images[i].flip({2}));
    ASSERT_TRUE(same || mirrored) << "image " << i;
    flipped += mirrored;
  }
  EXPECT_GT(flipped, 10);
  EXPECT_LT(flipped, 54);
}

TEST(Augment, CropsAWindowOfTheZeroPaddedImage) {
  torch::Generator g = at::detail::createCPUGenerator(3);
  const int64_t pad = 4;
  const torch::Tensor images = Ramp(16, 3, 8, 8);
  const torch::Tensor out = AugmentBatch(images, AugmentOptions{pad, false}, g);
  const torch::Tensor padded = torch::constant_pad_nd(images, {pad, pad, pad, pad}, 0);
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (int64_t i = 0; i < 16; ++i) {
    bool found = false;
    for (int64_t dy = 0; dy <= 2 * pad && !found; ++dy) {
      for (int64_t dx = 0; dx <= 2 * pad && !found; ++dx) {
        if (torch::equal(out[i], padded[i].narrow(1, dy, 8).narrow(2, dx, 8))) {
          found = true;
          offsets.insert({dy, dx});
        }
      }
    }
    EXPECT_TRUE(found) << "image " << i << " is no window of its padded image";
  }
  EXPECT_GT(offsets.size(), 4u) << "offsets vary from image to image";
}

TEST(Normalize, GivesZeroMeanUnitStdPerChannelOnTheTrainingSet) {
  const DatasetSplits d = MakeSyntheticDataset(400, 50, 4, 7);
  const torch::Tensor x = Normalize(d.train.images, d.mean, d.std);
  EXPECT_TRUE(torch::allclose(x.mean({0, 2, 3}), torch::zeros({3}), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(x.std({0, 2, 3}), torch::ones({3}), 1e-3, 1e-3));
}

TEST(BatchSampler, VisitsEveryImageOncePerEpoch) {
  Dataset data{torch::zeros({12, 1, 2, 2}, torch::kUInt8), torch::arange(12, torch::kLong)};
  BatchSampler sampler(data, torch::zeros({1}), torch::ones({1}), 4, AugmentOptions{0, false}, 5);
  std::vector<int64_t> seen;
  for (int b = 0; b < 3; ++b) {
    const torch::Tensor labels = sampler.Next().labels;
    seen.insert(seen.end(), labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + 4);
  }
  std::sort(seen.begin(), seen.end());
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(seen[i], i);
}

}  // namespace
}  // namespace actsearch::worker
