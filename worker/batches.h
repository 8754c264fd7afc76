// Training batches: a seeded shuffle per epoch, the paper's augmentation (4-pixel zero pad,
// random crop back to size, random horizontal flip) done for the whole batch in one gather,
// and per-channel normalisation. Works on whichever device the data lives on.
#pragma once

#include <torch/torch.h>

#include "worker/dataset.h"

namespace actsearch::worker {

struct AugmentOptions {
  int64_t pad = 4;  // 0: no crop
  bool flip = true;
};

// uint8 [B, C, H, W] -> uint8 [B, C, H, W], each image padded, cropped and maybe flipped by
// its own random offsets (drawn from `generator`, a CPU generator).
torch::Tensor AugmentBatch(const torch::Tensor& images, const AugmentOptions& options,
                           torch::Generator& generator);

// uint8 images -> float, (x / 255 - mean) / std per channel.
torch::Tensor Normalize(const torch::Tensor& images, const torch::Tensor& mean,
                        const torch::Tensor& std);

class BatchSampler {
 public:
  // `data` should already be on the training device.
  BatchSampler(Dataset data, torch::Tensor mean, torch::Tensor std, int64_t batch_size,
               AugmentOptions augment, uint64_t seed);

  struct Batch {
    torch::Tensor images;  // float, normalised
    torch::Tensor labels;
  };
  Batch Next();

 private:
  Dataset data_;
  torch::Tensor mean_, std_;
  int64_t batch_size_;
  AugmentOptions augment_;
  torch::Generator generator_;
  torch::Tensor order_;  // this epoch's permutation, on the data's device
  int64_t position_ = 0;
};

}  // namespace actsearch::worker
