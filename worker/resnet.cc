#include "worker/resnet.h"

#include "activation/activation_spec.h"
#include "worker/model_layers.h"

namespace actsearch::worker {
namespace {

// Written by hand so that forward and backward keep x's memory format: through slice and pad,
// LibTorch 1.13 returns contiguous NCHW gradients to a channels-last network, and the layer
// below pays for the conversion.
class OptionAShortcutFunction : public torch::autograd::Function<OptionAShortcutFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               int64_t stride, int64_t pad_channels) {
    ctx->saved_data["sizes"] = x.sizes();
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["pad"] = pad_channels;
    const torch::MemoryFormat format = x.suggest_memory_format();
    ctx->saved_data["format"] = static_cast<int64_t>(format);
    const torch::Tensor subsampled = Subsample(x, stride);
    auto sizes = subsampled.sizes().vec();
    sizes[1] += 2 * pad_channels;
    torch::Tensor out = Zeros(sizes, x.options(), format);
    out.narrow(1, pad_channels, x.size(1)).copy_(subsampled);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto sizes = ctx->saved_data["sizes"].toIntVector();
    const int64_t stride = ctx->saved_data["stride"].toInt();
    const int64_t pad = ctx->saved_data["pad"].toInt();
    const auto format = static_cast<torch::MemoryFormat>(ctx->saved_data["format"].toInt());
    torch::Tensor grad_x = Zeros(sizes, grad_outputs[0].options(), format);
    Subsample(grad_x, stride).copy_(grad_outputs[0].narrow(1, pad, sizes[1]));
    return {grad_x, torch::Tensor(), torch::Tensor()};
  }

 private:
  // torch::zeros drops a memory format given in its options.
  static torch::Tensor Zeros(at::IntArrayRef sizes, const torch::TensorOptions& options,
                             torch::MemoryFormat format) {
    return torch::empty(sizes, options.memory_format(format)).zero_();
  }
  static torch::Tensor Subsample(const torch::Tensor& t, int64_t stride) {
    return t.slice(2, 0, c10::nullopt, stride).slice(3, 0, c10::nullopt, stride);
  }
};

}  // namespace

torch::Tensor OptionAShortcut(const torch::Tensor& x, int64_t stride, int64_t pad_channels) {
  return OptionAShortcutFunction::apply(x, stride, pad_channels);
}

ActivationFactory MakeActivationFactory(const std::string& activation) {
  const ActivationSpec spec = ParseActivationSpec(activation);
  // ReLU in place: it follows BatchNorm or the residual sum, whose backward never reads its
  // output.
  return
      [spec](int64_t channels) { return MakeActivation(spec, channels, /*relu_in_place=*/true); };
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
  const torch::Tensor out = NormalizeAndActivate(bn1_, act1_, conv1_->forward(x));
  const torch::Tensor shortcut =
      (stride_ != 1 || pad_channels_ != 0) ? OptionAShortcut(x, stride_, pad_channels_) : x;
  return NormalizeAndActivate(bn2_, act2_, conv2_->forward(out), shortcut);
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
  InitializeConvAndBatchNorm(*this);
}

torch::Tensor CifarResNetImpl::forward(torch::Tensor x) {
  x = NormalizeAndActivate(stem_bn_, stem_act_, stem_->forward(x));
  x = stages_->forward(x);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return head_->forward(x);
}

}  // namespace actsearch::worker
