// Child networks by name: the search's ResNet-20 and the bigger networks its winners are
// re-evaluated on. Every model takes its activation from an ActivationFactory, one instance per
// place ReLU stood, and ends in global average pooling, so any image size works.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "worker/resnet.h"

namespace actsearch::worker {

// What a model needs to know about the data. Image size is not part of it: every model pools
// adaptively before its classifier.
struct ModelShape {
  int64_t in_channels = 3;
  int64_t num_classes = 10;
};

// The model called `name`, initialised (seed torch first for a reproducible one), in training
// mode; forward takes [N, in_channels, H, W] images and returns [N, num_classes] logits.
// Throws std::invalid_argument for an unknown or malformed name, naming the known models.
torch::nn::AnyModule MakeModel(const std::string& name, const ModelShape& shape,
                               const ActivationFactory& activation);

// Throws what MakeModel would throw for `name`, without building anything.
void CheckModelName(const std::string& name);

// The names worth listing: every published configuration the registry builds.
std::vector<std::string> ModelNames();

// The name patterns and what they build, as indented lines (no final newline): for --help
// and error messages.
std::string ModelNameForms();

}  // namespace actsearch::worker
