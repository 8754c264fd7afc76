#include "worker/preact_resnet.h"

#include <stdexcept>
#include <string>

#include "worker/model_layers.h"

namespace actsearch::worker {
namespace {

// Bottleneck blocks expand their inner width four times (He et al. 2016).
constexpr int64_t kBottleneckExpansion = 4;

}  // namespace

PreActResNetOptions CifarPreActResNetOptions(int64_t depth) {
  PreActResNetOptions options;
  if (depth >= 164 && (depth - 2) % 9 == 0) {
    const int64_t n = (depth - 2) / 9;
    options.bottleneck = true;
    options.stage_widths = {64, 128, 256};
    options.blocks_per_stage = {n, n, n};
  } else if (depth >= 8 && depth < 164 && (depth - 2) % 6 == 0) {
    const int64_t n = (depth - 2) / 6;
    options.blocks_per_stage = {n, n, n};
  } else {
    throw std::invalid_argument(
        "pre-activation CIFAR ResNet depth must be 6n + 2 below 164 (basic blocks: 20, 32, 44, "
        "56, 110) or 9n + 2 from 164 on (bottleneck blocks: 164, 1001), got " +
        std::to_string(depth));
  }
  return options;
}

PreActResNetOptions FourStagePreActResNetOptions(int64_t depth) {
  PreActResNetOptions options;
  options.stem_width = 64;
  options.stage_widths = {64, 128, 256, 512};
  if (depth == 18) {
    options.blocks_per_stage = {2, 2, 2, 2};
  } else if (depth == 34) {
    options.blocks_per_stage = {3, 4, 6, 3};
  } else {
    throw std::invalid_argument("the 4-stage pre-activation ResNet has depth 18 or 34, got " +
                                std::to_string(depth));
  }
  return options;
}

PreActBasicBlockImpl::PreActBasicBlockImpl(int64_t in_channels, int64_t out_channels,
                                           int64_t stride, double dropout,
                                           const ActivationFactory& activation)
    : bn1_(register_module("bn1", torch::nn::BatchNorm2d(in_channels))),
      bn2_(register_module("bn2", torch::nn::BatchNorm2d(out_channels))),
      conv1_(register_module("conv1", Conv3x3(in_channels, out_channels, stride))),
      conv2_(register_module("conv2", Conv3x3(out_channels, out_channels, 1))),
      act1_(AddActivation(*this, "act1", activation, in_channels)),
      act2_(AddActivation(*this, "act2", activation, out_channels)),
      dropout_(dropout) {
  if (stride != 1 || in_channels != out_channels) {
    projection_ = register_module("projection", Conv1x1(in_channels, out_channels, stride));
  }
}

torch::Tensor PreActBasicBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor pre = NormalizeAndActivate(bn1_, act1_, x);
  const torch::Tensor shortcut = projection_ ? projection_->forward(pre) : x;
  torch::Tensor out = NormalizeAndActivate(bn2_, act2_, conv1_->forward(pre));
  if (dropout_ > 0) out = torch::dropout(out, dropout_, is_training());
  return conv2_->forward(out) + shortcut;
}

PreActBottleneckImpl::PreActBottleneckImpl(int64_t in_channels, int64_t out_channels,
                                           int64_t stride, const ActivationFactory& activation) {
  const int64_t inner = out_channels / kBottleneckExpansion;
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(in_channels));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(inner));
  bn3_ = register_module("bn3", torch::nn::BatchNorm2d(inner));
  conv1_ = register_module("conv1", Conv1x1(in_channels, inner, 1));
  conv2_ = register_module("conv2", Conv3x3(inner, inner, stride));
  conv3_ = register_module("conv3", Conv1x1(inner, out_channels, 1));
  act1_ = AddActivation(*this, "act1", activation, in_channels);
  act2_ = AddActivation(*this, "act2", activation, inner);
  act3_ = AddActivation(*this, "act3", activation, inner);
  if (stride != 1 || in_channels != out_channels) {
    projection_ = register_module("projection", Conv1x1(in_channels, out_channels, stride));
  }
}

torch::Tensor PreActBottleneckImpl::forward(const torch::Tensor& x) {
  const torch::Tensor pre = NormalizeAndActivate(bn1_, act1_, x);
  const torch::Tensor shortcut = projection_ ? projection_->forward(pre) : x;
  torch::Tensor out = NormalizeAndActivate(bn2_, act2_, conv1_->forward(pre));
  out = NormalizeAndActivate(bn3_, act3_, conv2_->forward(out));
  return conv3_->forward(out) + shortcut;
}

PreActResNetImpl::PreActResNetImpl(const PreActResNetOptions& options,
                                   const ActivationFactory& activation) {
  TORCH_CHECK(!options.stage_widths.empty() &&
                  options.stage_widths.size() == options.blocks_per_stage.size(),
              "one block count per stage");
  TORCH_CHECK(!options.bottleneck || options.dropout == 0, "dropout is for basic blocks only");
  stem_ = register_module("stem", Conv3x3(options.in_channels, options.stem_width, 1));
  int64_t in = options.stem_width;
  for (size_t stage = 0; stage < options.stage_widths.size(); ++stage) {
    const int64_t out = options.stage_widths[stage];
    for (int64_t block = 0; block < options.blocks_per_stage[stage]; ++block) {
      const int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      if (options.bottleneck) {
        stages_->push_back(PreActBottleneck(in, out, stride, activation));
      } else {
        stages_->push_back(PreActBasicBlock(in, out, stride, options.dropout, activation));
      }
      in = out;
    }
  }
  register_module("stages", stages_);
  final_bn_ = register_module("final_bn", torch::nn::BatchNorm2d(in));
  final_act_ = AddActivation(*this, "final_act", activation, in);
  head_ = register_module("head", torch::nn::Linear(in, options.num_classes));
  InitializeConvAndBatchNorm(*this);
}

torch::Tensor PreActResNetImpl::forward(torch::Tensor x) {
  x = stages_->forward(stem_->forward(x));
  x = NormalizeAndActivate(final_bn_, final_act_, x);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return head_->forward(x);
}

}  // namespace actsearch::worker
