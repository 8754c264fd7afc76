// One suite over every model of the registry: published sizes, one activation instance per
// slot, any image shape, gradients through a searched activation, and clear name errors.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "worker/model_registry.h"
#include "worker/resnet.h"

namespace actsearch::worker {
namespace {

int64_t CountParameters(const torch::nn::AnyModule& model) {
  int64_t n = 0;
  for (const torch::Tensor& p : model.ptr()->parameters()) n += p.numel();
  return n;
}

// Wraps the ReLU factory and remembers every activation it made.
struct CountingFactory {
  struct Made {
    std::vector<torch::nn::AnyModule> modules;
    std::vector<int64_t> channels;
  };
  std::shared_ptr<Made> made = std::make_shared<Made>();

  ActivationFactory factory() const {
    return [made = made, relu = MakeActivationFactory("relu")](int64_t channels) {
      torch::nn::AnyModule module = relu(channels);
      made->modules.push_back(module);
      made->channels.push_back(channels);
      return module;
    };
  }
};

struct PublishedSize {
  int64_t parameters;           // CIFAR-10: 3 input channels, 10 classes
  int64_t activations;          // places ReLU stands in the paper's network
  int64_t activation_channels;  // their channels summed: the betas Swish adds
};

// Parameter counts, worked out layer by layer from each paper's definition and checked against
// PyTorch re-implementations of the cited code (kuangliu/pytorch-cifar for ResNet-18/34,
// PreActResNet-18/34 and VGG; the official WRN code; KaimingHe/resnet-1k-layers for pre-act).
// Pre-activation networks end in BatchNorm + activation as the paper has it (kuangliu's
// PreActResNet omits that BatchNorm: 1,024 fewer). Activation counts: a basic block has 2, a
// bottleneck 3; post-activation nets add one after the stem, pre-activation ones one at the end.
const std::map<std::string, PublishedSize>& PublishedSizes() {
  static const std::map<std::string, PublishedSize> sizes = {
      // He et al. 2015, Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M (option A shortcuts).
      {"resnet20", {269722, 19, 688}},
      {"resnet32", {464154, 31, 1136}},
      {"resnet44", {658586, 43, 1584}},
      {"resnet56", {853018, 55, 2032}},
      {"resnet110", {1727962, 109, 4048}},
      // ResNet-18: stem 3*64*9 + 128 = 1,856; stages 147,968 + 525,568 + 2,099,712 +
      // 8,393,728 (projections 1x1 conv + BN); head 5,130. Total 11,173,962 (the "11.17M").
      {"resnet18", {11173962, 17, 3904}},
      {"resnet34", {21282122, 33, 7616}},
      // He et al. 2016 (identity mappings), Table 3: ResNet-164 1.7M, ResNet-1001 10.2M (the
      // definition gives 10.33M: 111 bottlenecks a stage). 1x1 projection shortcuts.
      {"preact-resnet20", {272282, 19, 688}},
      {"preact-resnet32", {466714, 31, 1136}},
      {"preact-resnet44", {661146, 43, 1584}},
      {"preact-resnet56", {855578, 55, 2032}},
      {"preact-resnet110", {1730522, 109, 4048}},
      {"preact-resnet164", {1703258, 163, 12112}},
      {"preact-resnet1001", {10327706, 1000, 74608}},
      {"preact-resnet18", {11172170, 17, 3904}},
      {"preact-resnet34", {21280330, 33, 7616}},
      // Zagoruyko & Komodakis 2016, Table 1: 2.7M, 11.0M, 36.5M, 8.9M. WRN-28-10: stem 432;
      // stages 1,640,672 + 6,968,000 + 27,862,400; final BN 1,280; head 6,410.
      {"wrn-16-4", {2748890, 13, 1808}},
      {"wrn-16-8", {10961370, 13, 3600}},
      {"wrn-28-10", {36479194, 25, 8976}},
      {"wrn-40-4", {8949210, 37, 5392}},
      // kuangliu VGG('VGG16'): 13 conv (with bias) + BN pairs 14,723,136; head 512*10 + 10.
      {"vgg11-bn", {9231114, 8, 2752}},
      {"vgg13-bn", {9416010, 10, 2944}},
      {"vgg16-bn", {14728266, 13, 4224}},
      {"vgg19-bn", {20040522, 16, 5504}},
  };
  return sizes;
}

// One of each block type and family, small enough to run forward and backward in a test.
const std::vector<std::string> kRunnableModels = {
    "resnet20",        "resnet18", "preact-resnet20", "preact-resnet164",
    "preact-resnet18", "wrn-16-4", "vgg16-bn"};

TEST(Models, EveryListedModelHasItsPublishedSizeAndOneActivationPerSlot) {
  for (const std::string& name : ModelNames()) {
    SCOPED_TRACE(name);
    const auto published = PublishedSizes().find(name);
    ASSERT_NE(published, PublishedSizes().end()) << "a listed model without a published size";
    CountingFactory counting;
    torch::nn::AnyModule model = MakeModel(name, ModelShape{}, counting.factory());
    EXPECT_EQ(CountParameters(model), published->second.parameters);
    EXPECT_EQ(static_cast<int64_t>(counting.made->modules.size()), published->second.activations);
    int64_t channels = 0;
    for (const int64_t c : counting.made->channels) channels += c;
    EXPECT_EQ(channels, published->second.activation_channels);

    // Each activation is its own instance, and a registered part of the model (so an
    // optimiser sees its parameters).
    std::set<const torch::nn::Module*> registered;
    for (const auto& module : model.ptr()->modules()) registered.insert(module.get());
    std::set<const torch::nn::Module*> made;
    for (const torch::nn::AnyModule& activation : counting.made->modules) {
      made.insert(activation.ptr().get());
      EXPECT_EQ(registered.count(activation.ptr().get()), 1u);
    }
    EXPECT_EQ(made.size(), counting.made->modules.size());
  }
}

TEST(Models, ClassifyCifarAndFashionMnistShapedImages) {
  torch::manual_seed(1);
  for (const std::string& name : kRunnableModels) {
    SCOPED_TRACE(name);
    torch::nn::AnyModule cifar = MakeModel(name, {3, 10}, MakeActivationFactory("relu"));
    const torch::Tensor logits = cifar.forward(torch::randn({2, 3, 32, 32}));
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10}));
    EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
    torch::nn::AnyModule fashion = MakeModel(name, {1, 7}, MakeActivationFactory("cos(x) - x"));
    EXPECT_EQ(fashion.forward(torch::randn({2, 1, 28, 28})).sizes(), (std::vector<int64_t>{2, 7}));
  }
}

TEST(Models, EveryParameterLearnsThroughASearchedActivation) {
  torch::manual_seed(2);
  for (const std::string& name : kRunnableModels) {
    SCOPED_TRACE(name);
    torch::nn::AnyModule model =
        MakeModel(name, {3, 10}, MakeActivationFactory("x * sigmoid(beta * x)"));
    const torch::Tensor logits = model.forward(torch::randn({2, 3, 32, 32}));
    torch::cross_entropy_loss(logits, torch::tensor({3, 7})).backward();
    int betas = 0;
    for (const auto& p : model.ptr()->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
      if (p.key().find("betas") != std::string::npos) {
        ++betas;
        EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0) << p.key();
      }
    }
    EXPECT_EQ(betas, PublishedSizes().at(name).activations);
  }
}

TEST(Models, WideResNetDropoutIsOptInAndOnlyInTraining) {
  torch::manual_seed(3);
  torch::nn::AnyModule plain = MakeModel("wrn-10-2", {}, MakeActivationFactory("relu"));
  torch::nn::AnyModule dropped =
      MakeModel("wrn-10-2-dropout0.5", {}, MakeActivationFactory("relu"));
  EXPECT_EQ(CountParameters(plain), CountParameters(dropped));
  const torch::Tensor x = torch::randn({4, 3, 16, 16});
  // BatchNorm in training mode is deterministic for a fixed batch; only dropout varies.
  EXPECT_TRUE(torch::equal(plain.forward(x), plain.forward(x)));
  EXPECT_FALSE(torch::equal(dropped.forward(x), dropped.forward(x)));
  dropped.ptr()->eval();
  EXPECT_TRUE(torch::equal(dropped.forward(x), dropped.forward(x)));
}

TEST(Models, SmallFamilyMembersComeFromTheSameDefinitions) {
  // Depths outside the listed names: 6n + 2 and 6n + 4 with n = 1, for tests and quick runs.
  for (const char* name : {"resnet8", "preact-resnet8", "wrn-10-1"}) {
    SCOPED_TRACE(name);
    torch::nn::AnyModule model = MakeModel(name, {1, 4}, MakeActivationFactory("relu"));
    EXPECT_EQ(model.forward(torch::randn({2, 1, 16, 16})).sizes(), (std::vector<int64_t>{2, 4}));
  }
}

std::string RejectionOf(const std::string& name) {
  try {
    CheckModelName(name);
  } catch (const std::invalid_argument& e) {
    EXPECT_THROW(MakeModel(name, {}, MakeActivationFactory("relu")), std::invalid_argument);
    return e.what();
  }
  return "accepted";
}

TEST(Models, AnUnknownNameIsRejectedWithTheKnownNames) {
  const std::string message = RejectionOf("resnet-20");
  EXPECT_NE(message.find("unknown model 'resnet-20'"), std::string::npos) << message;
  for (const std::string& name : ModelNames()) {
    EXPECT_NE(message.find(name), std::string::npos) << name << " missing from: " << message;
  }
  EXPECT_NE(message.find("wrn-D-K[-dropoutP]"), std::string::npos) << message;
  EXPECT_NE(RejectionOf("alexnet").find("unknown model"), std::string::npos);
  EXPECT_NE(RejectionOf("").find("unknown model"), std::string::npos);
}

TEST(Models, AMalformedFamilyMemberSaysWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"resnet21", "6n + 2"},
      {"resnet020", "unknown model"},
      {"resnet50", "bottleneck ResNet-50"},
      {"preact-resnet100", "9n + 2"},
      {"preact-resnet152", "bottleneck ResNet-152"},
      {"wrn-27-10", "6n + 4"},
      {"wrn-28-0", "named wrn-D-K"},
      {"wrn-28", "named wrn-D-K"},
      {"wrn-28-10-dropout1.5", "[0, 1)"},
      {"wrn-28-10-dropout", "-dropoutP"},
      {"wrn-28-10-0.3", "-dropoutP"},
      {"vgg16", "vggD-bn"},
      {"vgg17-bn", "11, 13, 16 or 19"},
  };
  for (const auto& [name, reason] : cases) {
    const std::string message = RejectionOf(name);
    EXPECT_NE(message.find(reason), std::string::npos) << name << ": " << message;
  }
  for (const std::string& name : ModelNames()) EXPECT_EQ(RejectionOf(name), "accepted");
  EXPECT_EQ(RejectionOf("wrn-28-10-dropout0.3"), "accepted");
}

}  // namespace
}  // namespace actsearch::worker
