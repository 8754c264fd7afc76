// VGG with BatchNorm (Simonyan & Zisserman 2015; BN variant as in torchvision) for small
// images, as the CIFAR code the SUGAR paper's numbers come from has it: the convolutional
// stack of VGG-11/13/16/19 (3x3 convolutions with bias, each followed by BatchNorm and the
// activation; five 2x2 max-pools), then global average pooling and one linear layer instead of
// the three 4096-wide ones ImageNet needs.
#pragma once

#include <torch/torch.h>

#include "worker/resnet.h"

namespace actsearch::worker {

struct VggOptions {
  int64_t depth = 16;  // weight layers: 11, 13, 16 or 19
  int64_t in_channels = 3;
  int64_t num_classes = 10;
};

class VggImpl : public torch::nn::Module {
 public:
  // Throws std::invalid_argument for a depth other than 11, 13, 16 or 19.
  VggImpl(const VggOptions& options, const ActivationFactory& activation);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Sequential features_;
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(Vgg);

}  // namespace actsearch::worker
