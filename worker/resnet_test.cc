#include "worker/resnet.h"

#include <gtest/gtest.h>

#include "search_space/parser.h"

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

}  // namespace
}  // namespace actsearch::worker
