// SGD with Nesterov momentum over groups of parameters: the update of PyTorch's
// SGD(momentum=m, nesterov=True, weight_decay=wd), made with multi-tensor (_foreach) operations.
// LibTorch's C++ SGD launches several kernels per parameter; a ResNet-20 step on a GPU is bound
// by kernel launches, and this makes a handful per group instead.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "activation/torch_compat.h"  // TORCH_VERSION_MAJOR

namespace actsearch::worker {

class NesterovSgd {
 public:
  struct Group {
    std::vector<torch::Tensor> parameters;
    double weight_decay = 0;
  };

  NesterovSgd(std::vector<Group> groups, double momentum);

  // Drops every gradient, so that backward writes fresh ones without a pass to zero them.
  void ZeroGradToNone();
  // One update at learning rate `lr`; parameters without a gradient are left alone, as PyTorch
  // does. The first step of a parameter starts its momentum buffer at its gradient.
  void Step(double lr);
#if TORCH_VERSION_MAJOR >= 2
  // The same with the learning rate in a device scalar, which a CUDA graph can replay with
  // a new value (worker/training_step.h).
  void Step(const torch::Tensor& lr);
#endif

  // The momentum buffer of parameter `index` of group `group` (undefined before its first step).
  const torch::Tensor& momentum_buffer(size_t group, size_t index) const {
    return buffers_[group][index];
  }

 private:
  // The update, with `apply(params, d)` making params -= lr * d.
  template <class Apply>
  void Update(Apply apply);

  std::vector<Group> groups_;
  std::vector<std::vector<torch::Tensor>> buffers_;  // parallel to groups_[g].parameters
  double momentum_;
};

}  // namespace actsearch::worker
