#include "worker/batches.h"

namespace actsearch::worker {
namespace {

// A tensor made on the CPU, on `device` without making the CPU wait for the GPU's queue: a
// plain copy to CUDA synchronises, which once per step holds a small network's step up. The
// copy goes from pinned memory; PyTorch's caching host allocator keeps that memory until the
// copy is done.
torch::Tensor ToDeviceWithoutWaiting(const torch::Tensor& t, const torch::Device& device) {
  if (!device.is_cuda()) return t.to(device);
  return t.pin_memory().to(device, /*non_blocking=*/true);
}

}  // namespace

torch::Tensor AugmentBatch(const torch::Tensor& images, const AugmentOptions& options,
                           torch::Generator& generator) {
  const int64_t b = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const int64_t p = options.pad;
  const auto cpu_long = torch::TensorOptions().dtype(torch::kLong);
  // Per image: a crop offset in [0, 2p] on each axis, and whether to flip.
  torch::Tensor dy = torch::randint(0, 2 * p + 1, {b, 1}, generator, cpu_long);
  torch::Tensor dx = torch::randint(0, 2 * p + 1, {b, 1}, generator, cpu_long);
  torch::Tensor flip = options.flip
                           ? torch::randint(0, 2, {b, 1}, generator, cpu_long).to(torch::kBool)
                           : torch::zeros({b, 1}, torch::kBool);
  const torch::Tensor along_h = torch::arange(h, cpu_long).unsqueeze(0);
  const torch::Tensor along_w = torch::arange(w, cpu_long).unsqueeze(0);
  const torch::Tensor rows = dy + along_h;                                         // [B, H]
  const torch::Tensor cols = dx + torch::where(flip, (w - 1) - along_w, along_w);  // [B, W]
  // Flat positions in the padded image, then one gather for the whole batch.
  const torch::Tensor index = ToDeviceWithoutWaiting(
      (rows.unsqueeze(2) * (w + 2 * p) + cols.unsqueeze(1)).view({b, 1, h * w}), images.device());
  const torch::Tensor padded = torch::constant_pad_nd(images, {p, p, p, p}, 0);
  return padded.flatten(2).gather(2, index.expand({b, c, h * w})).view({b, c, h, w});
}

torch::Tensor Normalize(const torch::Tensor& images, const torch::Tensor& mean,
                        const torch::Tensor& std) {
  const auto shape = std::vector<int64_t>{1, mean.size(0), 1, 1};
  const torch::Tensor m = mean.to(images.device()).view(shape);
  const torch::Tensor s = std.to(images.device()).view(shape);
  return images.to(torch::kFloat).div_(255).sub_(m).div_(s);
}

BatchSampler::BatchSampler(Dataset data, torch::Tensor mean, torch::Tensor std, int64_t batch_size,
                           AugmentOptions augment, uint64_t seed)
    : data_(std::move(data)),
      mean_(std::move(mean)),
      std_(std::move(std)),
      batch_size_(batch_size),
      augment_(augment),
      generator_(at::detail::createCPUGenerator(seed)) {
  // On the data's device once, not at every batch.
  mean_ = mean_.to(data_.images.device());
  std_ = std_.to(data_.images.device());
}

BatchSampler::Batch BatchSampler::Next() {
  const int64_t n = data_.size();
  if (!order_.defined() || position_ + batch_size_ > n) {
    order_ =
        ToDeviceWithoutWaiting(torch::randperm(n, generator_, torch::kLong), data_.images.device());
    position_ = 0;
  }
  const torch::Tensor index = order_.slice(0, position_, position_ + batch_size_);
  position_ += batch_size_;
  torch::Tensor images = data_.images.index_select(0, index);
  if (augment_.pad > 0 || augment_.flip) images = AugmentBatch(images, augment_, generator_);
  return {Normalize(images, mean_, std_), data_.labels.index_select(0, index)};
}

}  // namespace actsearch::worker
