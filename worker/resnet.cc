#include "worker/resnet.h"

#include "activation/activation_spec.h"

namespace actsearch::worker {
namespace {

torch::nn::Conv2d Conv3x3(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

void InitializeWeights(torch::nn::Module& module) {
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* conv = child->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = child->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
}

}  // namespace

ActivationFactory MakeActivationFactory(const std::string& activation) {
  const ActivationSpec spec = ParseActivationSpec(activation);
  // ReLU in place: it follows BatchNorm or the residual sum, whose backward never reads its
  // output.
  return [spec](int64_t channels) {
    return MakeActivation(spec, channels, /*relu_in_place=*/true);
  };
}

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride,
                               const ActivationFactory& activation)
    : conv1_(register_module("conv1", Conv3x3(in_channels, out_channels, stride))),
      conv2_(register_module("conv2", Conv3x3(out_channels, out_channels, 1))),
      bn1_(register_module("bn1", torch::nn::BatchNorm2d(out_channels))),
      bn2_(register_module("bn2", torch::nn::BatchNorm2d(out_channels))),
      act1_(activation(out_channels)),
      act2_(activation(out_channels)),
      stride_(stride),
      pad_channels_((out_channels - in_channels) / 2) {
  register_module("act1", act1_.ptr());
  register_module("act2", act2_.ptr());
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = act1_.forward(bn1_->forward(conv1_->forward(x)));
  out = bn2_->forward(conv2_->forward(out));
  torch::Tensor shortcut = x;
  if (stride_ != 1 || pad_channels_ != 0) {
    // Option A: subsample, then zero-pad the new channels. No parameters.
    shortcut = x.slice(2, 0, c10::nullopt, stride_).slice(3, 0, c10::nullopt, stride_);
    shortcut = torch::constant_pad_nd(shortcut, {0, 0, 0, 0, pad_channels_, pad_channels_}, 0);
  }
  return act2_.forward(out + shortcut);
}

CifarResNetImpl::CifarResNetImpl(const ResNetOptions& options, const ActivationFactory& activation)
    : stem_(register_module("stem", Conv3x3(options.in_channels, options.width, 1))),
      stem_bn_(register_module("stem_bn", torch::nn::BatchNorm2d(options.width))),
      stem_act_(activation(options.width)),
      head_(register_module("head", torch::nn::Linear(4 * options.width, options.num_classes))) {
  TORCH_CHECK((options.depth - 2) % 6 == 0 && options.depth >= 8,
              "CIFAR ResNet depth must be 6n + 2 (20, 32, 44, 56, 110), got ", options.depth);
  register_module("stem_act", stem_act_.ptr());
  const int64_t blocks_per_stage = (options.depth - 2) / 6;
  int64_t in = options.width;
  for (int64_t stage = 0; stage < 3; ++stage) {
    const int64_t out = options.width << stage;
    for (int64_t block = 0; block < blocks_per_stage; ++block) {
      const int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      stages_->push_back(BasicBlock(in, out, stride, activation));
      in = out;
    }
  }
  register_module("stages", stages_);
  InitializeWeights(*this);
}

torch::Tensor CifarResNetImpl::forward(torch::Tensor x) {
  x = stem_act_.forward(stem_bn_->forward(stem_->forward(x)));
  x = stages_->forward(x);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return head_->forward(x);
}

}  // namespace actsearch::worker
