#include "worker/resnet.h"

#include <gtest/gtest.h>

#include "activation/torch_compat.h"
#include "search_space/parser.h"
#include "worker/model_layers.h"

namespace actsearch::worker {
namespace {

int64_t CountParameters(CifarResNet& model) {
  int64_t n = 0;
  for (const torch::Tensor& p : model->parameters()) n += p.numel();
  return n;
}

TEST(ResNet, Has0Point27MillionParametersAtDepth20) {
  ResNetOptions options;
  CifarResNet relu(options, MakeActivationFactory("relu"));
  EXPECT_EQ(CountParameters(relu), 269722);  // He et al.: 0.27M with option A shortcuts
  // Swish adds one beta per channel of each of its 19 activations.
  CifarResNet swish(options, MakeActivationFactory("x * sigmoid(beta * x)"));
  EXPECT_EQ(CountParameters(swish), 269722 + 16 + 6 * 16 + 6 * 32 + 6 * 64);
}

TEST(ResNet, DeeperSiblingsComeFromTheSameDefinition) {
  const std::vector<std::pair<int64_t, int64_t>> depths = {
      {32, 464154}, {44, 658586}, {56, 853018}, {110, 1727962}};
  for (const auto& [depth, parameters] : depths) {
    ResNetOptions options;
    options.depth = depth;
    CifarResNet model(options, MakeActivationFactory("relu"));
    EXPECT_EQ(CountParameters(model), parameters) << "ResNet-" << depth;
  }
  ResNetOptions bad;
  bad.depth = 21;
  EXPECT_THROW(CifarResNet(bad, MakeActivationFactory("relu")), c10::Error);
}

TEST(ResNet, ClassifiesBatchesOfAnyChannelCount) {
  ResNetOptions options;
  options.in_channels = 1;
  options.num_classes = 7;
  CifarResNet model(options, MakeActivationFactory("cos(x) - x"));
  EXPECT_EQ(model->forward(torch::randn({5, 1, 28, 28})).sizes(), (std::vector<int64_t>{5, 7}));
}

TEST(ResNet, EveryActivationInstanceHasItsOwnBetas) {
  CifarResNet model(ResNetOptions{}, MakeActivationFactory("x * sigmoid(beta * x)"));
  std::set<void*> storage;
  int betas = 0;
  for (const auto& p : model->named_parameters()) {
    if (p.key().find("betas") == std::string::npos) continue;
    ++betas;
    storage.insert(p.value().data_ptr());
  }
  EXPECT_EQ(betas, 19);
  EXPECT_EQ(storage.size(), 19u);
}

TEST(ResNet, AMalformedActivationIsAParseError) {
  EXPECT_THROW(MakeActivationFactory("x * sigmoid(beta x)"), ParseError);
}

TEST(ResNet, OptionAShortcutIsSubsampleAndPadInEitherMemoryFormat) {
  for (const bool channels_last : {false, true}) {
    torch::Tensor x0 = torch::randn({3, 4, 6, 6});
    if (channels_last) x0 = x0.contiguous(torch::MemoryFormat::ChannelsLast);
    const torch::Tensor x = x0.clone().requires_grad_(true);
    const torch::Tensor reference_x = x0.clone().requires_grad_(true);
    const torch::Tensor y = OptionAShortcut(x, 2, 2);
    const torch::Tensor reference = torch::constant_pad_nd(
        reference_x.slice(2, 0, c10::nullopt, 2).slice(3, 0, c10::nullopt, 2), {0, 0, 0, 0, 2, 2});
    ASSERT_EQ(y.sizes(), torch::IntArrayRef({3, 8, 3, 3}));
    EXPECT_TRUE(torch::equal(y, reference));
    const torch::Tensor g = torch::randn({3, 8, 3, 3});
    y.backward(g);
    reference.backward(g);
    EXPECT_TRUE(torch::equal(x.grad(), reference_x.grad()));
    EXPECT_EQ(x.grad().is_contiguous(torch::MemoryFormat::ChannelsLast) && channels_last,
              channels_last)
        << "the gradient keeps x's memory format";
  }
}

// The fused BatchNorm + activation the models use on a CPU must train exactly like LibTorch's
// separate operators: same loss, gradients and running statistics, up to float rounding.
TEST(ResNet, FusedBatchNormTrainsLikeSeparateOperators) {
  for (const std::string activation : {"relu", "x * sigmoid(beta * x)"}) {
    for (const bool channels_last : {false, true}) {
      SCOPED_TRACE(activation + (channels_last ? " channels-last" : " NCHW"));
      std::vector<std::vector<torch::Tensor>> runs;
      for (const bool fused : {false, true}) {
        SetBatchNormFusion(fused);
        torch::manual_seed(3);
        ResNetOptions options;
        options.width = 4;
        CifarResNet model(options, MakeActivationFactory(activation));
        torch::Tensor images = torch::randn({6, 3, 16, 16});
        if (channels_last) {
          compat::ToChannelsLast(*model);
          images = images.contiguous(torch::MemoryFormat::ChannelsLast);
        }
        const torch::Tensor loss =
            torch::cross_entropy_loss(model->forward(images), torch::arange(6) % 10);
        loss.backward();
        std::vector<torch::Tensor> run = {loss.detach()};
        for (const auto& p : model->parameters()) run.push_back(p.grad());
        for (const auto& b : model->buffers()) run.push_back(b.clone());
        runs.push_back(run);
      }
      SetBatchNormFusion(true);
      ASSERT_EQ(runs[0].size(), runs[1].size());
      for (size_t i = 0; i < runs[0].size(); ++i) {
        EXPECT_TRUE(torch::allclose(runs[0][i].to(torch::kDouble), runs[1][i].to(torch::kDouble),
                                    1e-4, 1e-5))
            << "tensor " << i << " (0: loss, then gradients, then buffers)";
      }
    }
  }
}

}  // namespace
}  // namespace actsearch::worker
