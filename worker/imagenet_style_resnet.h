// The ImageNet ResNet-18/34 layout (He et al. 2015) adapted to 32x32 images the way the SUGAR
// paper and the common CIFAR code (kuangliu/pytorch-cifar) do: a 3x3 stem of 64 channels with
// no max-pool, four stages of basic blocks (64, 128, 256, 512 channels; stride 2 entering
// stages 2-4), projection shortcuts (1x1 convolution + BatchNorm) where the shape changes,
// global average pooling and a linear classifier.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "worker/resnet.h"

namespace actsearch::worker {

struct ImageNetStyleResNetOptions {
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  std::vector<int64_t> blocks_per_stage = {2, 2, 2, 2};  // ResNet-18; {3, 4, 6, 3}: ResNet-34
};

// ResNet-18 or ResNet-34; throws std::invalid_argument for any other depth.
ImageNetStyleResNetOptions ImageNetStyleResNetOptionsForDepth(int64_t depth);

// conv3x3-BN-act-conv3x3-BN, plus the shortcut, then the activation.
class ProjectionBasicBlockImpl : public torch::nn::Module {
 public:
  ProjectionBasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride,
                           const ActivationFactory& activation);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential projection_{nullptr};  // 1x1 conv + BN; null for an identity shortcut
  torch::nn::AnyModule act1_, act2_;
};
TORCH_MODULE(ProjectionBasicBlock);

class ImageNetStyleResNetImpl : public torch::nn::Module {
 public:
  ImageNetStyleResNetImpl(const ImageNetStyleResNetOptions& options,
                          const ActivationFactory& activation);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d stem_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr};
  torch::nn::AnyModule stem_act_;
  torch::nn::Sequential stages_;
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(ImageNetStyleResNet);

}  // namespace actsearch::worker
