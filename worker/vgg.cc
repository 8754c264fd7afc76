#include "worker/vgg.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "worker/model_layers.h"

namespace actsearch::worker {
namespace {

constexpr int64_t kMaxPool = 0;  // in a layer list: a 2x2 max-pool instead of a convolution

// Output channels of each 3x3 convolution, configurations A, B, D and E of the VGG paper.
std::vector<int64_t> Layers(int64_t depth) {
  const int64_t M = kMaxPool;
  switch (depth) {
    case 11: return {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
    case 13: return {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
    case 16: return {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M};
    case 19:
      return {64,  64,  M,   128, 128, M,   256, 256, 256, 256, M,
              512, 512, 512, 512, M,   512, 512, 512, 512, M};
  }
  throw std::invalid_argument("VGG depth must be 11, 13, 16 or 19, got " + std::to_string(depth));
}

}  // namespace

VggImpl::VggImpl(const VggOptions& options, const ActivationFactory& activation) {
  int64_t in = options.in_channels;
  for (const int64_t width : Layers(options.depth)) {
    if (width == kMaxPool) {
      // Rounding up keeps a 1x1 map at 1x1, so five pools fit 28x28 images too (28, 14, 7, 4,
      // 2, 1); on 32x32 it changes nothing.
      features_->push_back(
          torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2).stride(2).ceil_mode(true)));
      continue;
    }
    features_->push_back(torch::nn::Conv2d(
        torch::nn::Conv2dOptions(in, width, /*kernel_size=*/3).padding(1).bias(true)));
    features_->push_back(torch::nn::BatchNorm2d(width));
    features_->push_back(activation(width));
    in = width;
  }
  register_module("features", features_);
  head_ = register_module("head", torch::nn::Linear(in, options.num_classes));
  InitializeConvAndBatchNorm(*this);
  // torchvision's VGG initialisation of the classifier.
  torch::NoGradGuard no_grad;
  torch::nn::init::normal_(head_->weight, /*mean=*/0, /*std=*/0.01);
  torch::nn::init::zeros_(head_->bias);
}

torch::Tensor VggImpl::forward(torch::Tensor x) {
  x = features_->forward(x);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return head_->forward(x);
}

}  // namespace actsearch::worker
