// The CIFAR ResNet family of He et al. (2016): ResNet-20/32/44/56/110 from one definition,
// with the candidate activation in every place ReLU stood, each instance its own module.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

namespace actsearch::worker {

// Makes the activation for a layer of `channels` channels.
using ActivationFactory = std::function<torch::nn::AnyModule(int64_t channels)>;

// Any activation spec (activation/activation_spec.h): "relu" (LibTorch's own, in place), an
// expression of the grammar ("x * sigmoid(beta * x)") as an ExpressionActivation with its own
// per-channel betas, "sugar:bsilu", "pwlu", ...; `relu(x)` is mapped to LibTorch's ReLU, the
// same function. Throws ParseError for a malformed spec or expression.
ActivationFactory MakeActivationFactory(const std::string& activation);

// He et al.'s parameter-free "option A" shortcut: every stride-th pixel of x, with
// pad_channels zero channels added on each side. Output and gradient keep x's memory format.
torch::Tensor OptionAShortcut(const torch::Tensor& x, int64_t stride, int64_t pad_channels);

struct ResNetOptions {
  int64_t depth = 20;  // 6n + 2: 20, 32, 44, 56, 110
  int64_t num_classes = 10;
  int64_t in_channels = 3;
  int64_t width = 16;  // of the first stage; the others double it
};

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride,
                 const ActivationFactory& activation);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::AnyModule act1_, act2_;
  int64_t stride_;
  int64_t pad_channels_;  // option A shortcut: zero channels added on each side
};
TORCH_MODULE(BasicBlock);

class CifarResNetImpl : public torch::nn::Module {
 public:
  CifarResNetImpl(const ResNetOptions& options, const ActivationFactory& activation);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d stem_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr};
  torch::nn::AnyModule stem_act_;
  torch::nn::Sequential stages_;
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(CifarResNet);

}  // namespace actsearch::worker
