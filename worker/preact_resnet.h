// Pre-activation ResNets (He et al. 2016, "Identity Mappings in Deep Residual Networks"):
// BatchNorm and the activation come before each convolution, the residual sum is left
// untouched, and one BatchNorm + activation closes the network. The same definition builds
// the CIFAR family by depth, the 4-stage ResNet-18/34 layout and, widened, the Wide ResNets.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "worker/resnet.h"

namespace actsearch::worker {

struct PreActResNetOptions {
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  int64_t stem_width = 16;                           // the first 3x3 convolution's outputs
  std::vector<int64_t> stage_widths = {16, 32, 64};  // each stage's output channels
  std::vector<int64_t> blocks_per_stage = {3, 3, 3};
  // 1x1-3x3-1x1 blocks whose inner width is a quarter of the stage width (ResNet-164, -1001).
  bool bottleneck = false;
  double dropout = 0;  // between the two convolutions of a basic block (Wide ResNets)
};

// The CIFAR family: depth 6n + 2 below 164 uses basic blocks (20, 32, 44, 56, 110: stage
// widths 16, 32, 64); depth 9n + 2 from 164 on uses bottleneck blocks (164, 1001: 64, 128, 256),
// as the paper does. Throws std::invalid_argument for any other depth.
PreActResNetOptions CifarPreActResNetOptions(int64_t depth);
// The 4-stage layout for 32x32 images (3x3 stem of 64, no max-pool, stages 64-512):
// depth 18 ([2, 2, 2, 2] basic blocks) or 34 ([3, 4, 6, 3]). Throws std::invalid_argument.
PreActResNetOptions FourStagePreActResNetOptions(int64_t depth);

// BN-act-conv3x3-BN-act-[dropout]-conv3x3. When the shape changes, a 1x1 projection of the
// pre-activated input is the shortcut (the paper's code); otherwise the input itself.
class PreActBasicBlockImpl : public torch::nn::Module {
 public:
  PreActBasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride, double dropout,
                       const ActivationFactory& activation);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Conv2d projection_{nullptr};  // null for an identity shortcut
  torch::nn::AnyModule act1_, act2_;
  double dropout_;
};
TORCH_MODULE(PreActBasicBlock);

// BN-act-conv1x1-BN-act-conv3x3-BN-act-conv1x1, inner width out_channels / 4.
class PreActBottleneckImpl : public torch::nn::Module {
 public:
  PreActBottleneckImpl(int64_t in_channels, int64_t out_channels, int64_t stride,
                       const ActivationFactory& activation);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::Conv2d projection_{nullptr};
  torch::nn::AnyModule act1_, act2_, act3_;
};
TORCH_MODULE(PreActBottleneck);

class PreActResNetImpl : public torch::nn::Module {
 public:
  PreActResNetImpl(const PreActResNetOptions& options, const ActivationFactory& activation);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d stem_{nullptr};  // no BatchNorm or activation: the first block has them
  torch::nn::Sequential stages_;
  torch::nn::BatchNorm2d final_bn_{nullptr};
  torch::nn::AnyModule final_act_;
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(PreActResNet);

}  // namespace actsearch::worker
