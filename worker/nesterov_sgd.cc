#include "worker/nesterov_sgd.h"

namespace actsearch::worker {

NesterovSgd::NesterovSgd(std::vector<Group> groups, double momentum)
    : groups_(std::move(groups)), momentum_(momentum) {
  for (const Group& group : groups_) buffers_.emplace_back(group.parameters.size());
}

void NesterovSgd::ZeroGradToNone() {
  for (Group& group : groups_) {
    for (torch::Tensor& p : group.parameters) p.mutable_grad().reset();
  }
}

void NesterovSgd::Step(double lr) {
  Update([lr](std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& d) {
    at::_foreach_add_(params, d, -lr);
  });
}

#if TORCH_VERSION_MAJOR >= 2
void NesterovSgd::Step(const torch::Tensor& lr) {
  Update([&lr](std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& d) {
    at::_foreach_mul_(d, lr);
    at::_foreach_sub_(params, d);
  });
}
#endif

template <class Apply>
void NesterovSgd::Update(Apply apply) {
  torch::NoGradGuard no_grad;
  for (size_t g = 0; g < groups_.size(); ++g) {
    std::vector<torch::Tensor> params, grads, buffers;
    for (size_t i = 0; i < groups_[g].parameters.size(); ++i) {
      const torch::Tensor& p = groups_[g].parameters[i];
      if (!p.grad().defined()) continue;
      // PyTorch starts a buffer at the first gradient; m * 0 + d below is the same thing.
      if (!buffers_[g][i].defined()) buffers_[g][i] = torch::zeros_like(p);
      params.push_back(p);
      grads.push_back(p.grad());
      buffers.push_back(buffers_[g][i]);
    }
    if (params.empty()) continue;
    // d = grad + wd * p, out of place: the gradients stay what backward wrote.
    const double weight_decay = groups_[g].weight_decay;
    std::vector<torch::Tensor> d = weight_decay != 0 ? at::_foreach_add(grads, params, weight_decay)
                                                     : at::_foreach_mul(grads, 1.0);
    at::_foreach_mul_(buffers, momentum_);  // buf = m * buf + d
    at::_foreach_add_(buffers, d);
    at::_foreach_add_(d, buffers, momentum_);  // Nesterov: d + m * buf
    apply(params, d);
  }
}

}  // namespace actsearch::worker
