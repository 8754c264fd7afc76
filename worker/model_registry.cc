#include "worker/model_registry.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "worker/imagenet_style_resnet.h"
#include "worker/preact_resnet.h"
#include "worker/vgg.h"
#include "worker/wide_resnet.h"

namespace actsearch::worker {
namespace {

using Builder =
    std::function<torch::nn::AnyModule(const ModelShape& shape, const ActivationFactory&)>;

// A positive decimal count without sign or leading zeros ("20", not "020" or "+20").
std::optional<int64_t> ParseCount(std::string_view text) {
  if (text.empty() || text.size() > 4 || text[0] == '0') return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(std::string(text));
}

// A plain decimal fraction such as "0.3" (no sign, exponent, inf or nan).
std::optional<double> ParseFraction(std::string_view text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(),
                   [](char c) { return (c >= '0' && c <= '9') || c == '.'; })) {
    return std::nullopt;
  }
  try {
    size_t used = 0;
    const double value = std::stod(std::string(text), &used);
    if (used != text.size()) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool ConsumePrefix(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

std::string JoinedModelNames() {
  std::string joined;
  for (const std::string& name : ModelNames()) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

[[noreturn]] void Reject(const std::string& name, const std::string& reason) {
  throw std::invalid_argument("model '" + name + "': " + reason + ". Known models: " +
                              JoinedModelNames() + "; name forms:\n" + ModelNameForms());
}

// ResNet-50/101/152 are bottleneck networks of the ImageNet layout; 50 and 152 would otherwise
// silently become 6n + 2 CIFAR ResNets.
bool IsImageNetBottleneckDepth(int64_t depth) {
  return depth == 50 || depth == 101 || depth == 152;
}

// Builds `Net` from `options` with the dataset's channels and classes.
template <class Net, class Options>
Builder Shaped(const Options& options) {
  return [options](const ModelShape& shape, const ActivationFactory& activation) {
    Options shaped = options;
    shaped.in_channels = shape.in_channels;
    shaped.num_classes = shape.num_classes;
    return torch::nn::AnyModule(Net(shaped, activation));
  };
}

Builder ResolveResNet(const std::string& name, int64_t depth) {
  if (depth == 18 || depth == 34) {
    return Shaped<ImageNetStyleResNet>(ImageNetStyleResNetOptionsForDepth(depth));
  }
  if (IsImageNetBottleneckDepth(depth)) {
    Reject(name, "ImageNet's bottleneck ResNet-" + std::to_string(depth) + " is not built here");
  }
  if (depth < 8 || (depth - 2) % 6 != 0) {
    Reject(name, "CIFAR ResNet depth must be 6n + 2 (20, 32, 44, 56, 110), or 18 or 34");
  }
  ResNetOptions options;
  options.depth = depth;
  return Shaped<CifarResNet>(options);
}

Builder ResolvePreActResNet(const std::string& name, int64_t depth) {
  if (IsImageNetBottleneckDepth(depth)) {
    Reject(name, "ImageNet's bottleneck ResNet-" + std::to_string(depth) + " is not built here");
  }
  PreActResNetOptions options;
  try {
    options = (depth == 18 || depth == 34) ? FourStagePreActResNetOptions(depth)
                                           : CifarPreActResNetOptions(depth);
  } catch (const std::invalid_argument& e) {
    Reject(name, e.what());
  }
  return Shaped<PreActResNet>(options);
}

// "D-K" or "D-K-dropoutP" after the "wrn-" prefix.
Builder ResolveWideResNet(const std::string& name, std::string_view rest) {
  const size_t dash = rest.find('-');
  const size_t second_dash = rest.find('-', dash == std::string_view::npos ? dash : dash + 1);
  const std::optional<int64_t> depth = ParseCount(rest.substr(0, dash));
  const std::optional<int64_t> width =
      dash == std::string_view::npos ? std::nullopt
                                     : ParseCount(rest.substr(dash + 1, second_dash - dash - 1));
  if (!depth || !width) Reject(name, "a Wide ResNet is named wrn-D-K, e.g. wrn-28-10");
  WideResNetOptions wide;
  wide.depth = *depth;
  wide.widen_factor = *width;
  if (second_dash != std::string_view::npos) {
    std::string_view suffix = rest.substr(second_dash + 1);
    const std::optional<double> dropout =
        ConsumePrefix(suffix, "dropout") ? ParseFraction(suffix) : std::nullopt;
    if (!dropout) Reject(name, "a Wide ResNet's suffix is -dropoutP, e.g. wrn-28-10-dropout0.3");
    wide.dropout = *dropout;
  }
  PreActResNetOptions options;
  try {
    options = ToPreActResNetOptions(wide);
  } catch (const std::invalid_argument& e) {
    Reject(name, e.what());
  }
  return Shaped<PreActResNet>(options);
}

Builder ResolveVgg(const std::string& name, int64_t depth) {
  if (depth != 11 && depth != 13 && depth != 16 && depth != 19) {
    Reject(name, "VGG depth must be 11, 13, 16 or 19");
  }
  VggOptions options;
  options.depth = depth;
  return Shaped<Vgg>(options);
}

// The builder for `name`; throws std::invalid_argument through Reject.
Builder Resolve(const std::string& name) {
  std::string_view rest = name;
  if (ConsumePrefix(rest, "preact-resnet")) {
    if (const std::optional<int64_t> depth = ParseCount(rest)) {
      return ResolvePreActResNet(name, *depth);
    }
  } else if (ConsumePrefix(rest, "resnet")) {
    if (const std::optional<int64_t> depth = ParseCount(rest)) return ResolveResNet(name, *depth);
  } else if (ConsumePrefix(rest, "wrn-")) {
    return ResolveWideResNet(name, rest);
  } else if (ConsumePrefix(rest, "vgg")) {
    const size_t suffix = rest.find("-bn");
    if (suffix != std::string_view::npos && suffix + 3 == rest.size()) {
      if (const std::optional<int64_t> depth = ParseCount(rest.substr(0, suffix))) {
        return ResolveVgg(name, *depth);
      }
    }
    Reject(name, "VGG comes with BatchNorm only and is named vggD-bn, e.g. vgg16-bn");
  }
  throw std::invalid_argument("unknown model '" + name + "'. Known models: " + JoinedModelNames() +
                              "; name forms:\n" + ModelNameForms());
}

}  // namespace

torch::nn::AnyModule MakeModel(const std::string& name, const ModelShape& shape,
                               const ActivationFactory& activation) {
  TORCH_CHECK(shape.in_channels > 0 && shape.num_classes > 0, "a model needs channels and classes");
  return Resolve(name)(shape, activation);
}

void CheckModelName(const std::string& name) { Resolve(name); }

std::vector<std::string> ModelNames() {
  return {"resnet20",         "resnet32",          "resnet44",        "resnet56",
          "resnet110",        "resnet18",          "resnet34",        "preact-resnet20",
          "preact-resnet32",  "preact-resnet44",   "preact-resnet56", "preact-resnet110",
          "preact-resnet164", "preact-resnet1001", "preact-resnet18", "preact-resnet34",
          "wrn-16-4",         "wrn-16-8",          "wrn-28-10",       "wrn-40-4",
          "vgg11-bn",         "vgg13-bn",          "vgg16-bn",        "vgg19-bn"};
}

std::string ModelNameForms() {
  return "  resnetD             CIFAR ResNet (He et al. 2015): D = 6n + 2, e.g. 20, 32, 44, 56, "
         "110\n"
         "  resnet18, resnet34  ImageNet layout for 32x32 images: 3x3 stem of 64, no max-pool\n"
         "  preact-resnetD      pre-activation ResNet (He et al. 2016): D = 6n + 2 below 164,\n"
         "                      9n + 2 (bottleneck) from 164 on, or 18, 34 (ImageNet layout)\n"
         "  wrn-D-K[-dropoutP]  Wide ResNet (Zagoruyko & Komodakis 2016): D = 6n + 4, widening\n"
         "                      K, dropout P (default 0), e.g. wrn-28-10, wrn-28-10-dropout0.3\n"
         "  vggD-bn             VGG with BatchNorm, one linear classifier: D = 11, 13, 16, 19";
}

}  // namespace actsearch::worker
