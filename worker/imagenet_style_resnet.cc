#include "worker/imagenet_style_resnet.h"

#include <iterator>
#include <stdexcept>
#include <string>

#include "worker/model_layers.h"

namespace actsearch::worker {
namespace {

constexpr int64_t kStemWidth = 64;
constexpr int64_t kStageWidths[] = {64, 128, 256, 512};

}  // namespace

ImageNetStyleResNetOptions ImageNetStyleResNetOptionsForDepth(int64_t depth) {
  ImageNetStyleResNetOptions options;
  if (depth == 18) {
    options.blocks_per_stage = {2, 2, 2, 2};
  } else if (depth == 34) {
    options.blocks_per_stage = {3, 4, 6, 3};
  } else {
    throw std::invalid_argument("the 4-stage basic-block ResNet has depth 18 or 34, got " +
                                std::to_string(depth));
  }
  return options;
}

ProjectionBasicBlockImpl::ProjectionBasicBlockImpl(int64_t in_channels, int64_t out_channels,
                                                   int64_t stride,
                                                   const ActivationFactory& activation)
    : conv1_(register_module("conv1", Conv3x3(in_channels, out_channels, stride))),
      conv2_(register_module("conv2", Conv3x3(out_channels, out_channels, 1))),
      bn1_(register_module("bn1", torch::nn::BatchNorm2d(out_channels))),
      bn2_(register_module("bn2", torch::nn::BatchNorm2d(out_channels))),
      act1_(AddActivation(*this, "act1", activation, out_channels)),
      act2_(AddActivation(*this, "act2", activation, out_channels)) {
  if (stride != 1 || in_channels != out_channels) {
    projection_ = register_module("projection",
                                  torch::nn::Sequential(Conv1x1(in_channels, out_channels, stride),
                                                        torch::nn::BatchNorm2d(out_channels)));
  }
}

torch::Tensor ProjectionBasicBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor out = NormalizeAndActivate(bn1_, act1_, conv1_->forward(x));
  return NormalizeAndActivate(bn2_, act2_, conv2_->forward(out),
                              projection_ ? projection_->forward(x) : x);
}

ImageNetStyleResNetImpl::ImageNetStyleResNetImpl(const ImageNetStyleResNetOptions& options,
                                                 const ActivationFactory& activation)
    : stem_(register_module("stem", Conv3x3(options.in_channels, kStemWidth, 1))),
      stem_bn_(register_module("stem_bn", torch::nn::BatchNorm2d(kStemWidth))),
      stem_act_(AddActivation(*this, "stem_act", activation, kStemWidth)) {
  TORCH_CHECK(options.blocks_per_stage.size() == std::size(kStageWidths),
              "the 4-stage ResNet needs four block counts");
  int64_t in = kStemWidth;
  for (size_t stage = 0; stage < std::size(kStageWidths); ++stage) {
    const int64_t out = kStageWidths[stage];
    for (int64_t block = 0; block < options.blocks_per_stage[stage]; ++block) {
      const int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      stages_->push_back(ProjectionBasicBlock(in, out, stride, activation));
      in = out;
    }
  }
  register_module("stages", stages_);
  head_ = register_module("head", torch::nn::Linear(in, options.num_classes));
  InitializeConvAndBatchNorm(*this);
}

torch::Tensor ImageNetStyleResNetImpl::forward(torch::Tensor x) {
  x = NormalizeAndActivate(stem_bn_, stem_act_, stem_->forward(x));
  x = stages_->forward(x);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return head_->forward(x);
}

}  // namespace actsearch::worker
