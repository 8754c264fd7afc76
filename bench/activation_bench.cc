// Activation forward+backward time, side by side in one run, as ratios to ReLU: searched
// expressions, SUGAR (ReLU with a surrogate gradient), PWLU, and the BatchNorm (+ residual) +
// ReLU that precedes each of them in a ResNet, as LibTorch operators and fused.
//
//   build/cpu/bench/activation_bench [--shape 128,16,32,32] [--rounds 40] [--channels-last]
//                                    [--device cpu|cuda|cuda:N] [--threads N]
//
// Variants run interleaved, one iteration each per round, so that drift in the machine's
// speed touches them all alike; the table reports each one's median and its ratio to ReLU's.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "activation/batch_norm_expression.h"
#include "activation/batch_norm_relu.h"
#include "activation/expression_activation.h"
#include "activation/pwlu.h"
#include "activation/sugar.h"
#include "activation/torch_compat.h"
#include "search_space/parser.h"
#include "search_space/program.h"

namespace {

using actsearch::ExpressionActivation;
using actsearch::ExpressionActivationOptions;

struct Variant {
  std::string name;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::vector<torch::Tensor> parameters;
  std::vector<double> milliseconds;
};

Variant Expression(const std::string& label, const std::string& text, int64_t channels, bool fused,
                   const torch::Device& device) {
  ExpressionActivation module(
      ExpressionActivationOptions(actsearch::Parse(text), channels).fused(fused));
  module->to(device);
  return {label + (fused ? " fused" : " unfused"),
          [module](const torch::Tensor& x) mutable { return module->forward(x); },
          module->parameters(),
          {}};
}

// A PWLU already aligned (warm-up 0: the first training call aligns it on mean 0, std 1),
// through the module (CPU kernel) or through the LibTorch-operator formulation.
Variant PiecewiseLinearUnit(const std::string& label, int64_t channels, bool per_channel,
                            bool torch_ops, const torch::Device& device) {
  actsearch::Pwlu module(actsearch::PwluOptions(channels).per_channel(per_channel).warmup_steps(0));
  module->to(device);
  module->forward(torch::zeros({1, channels}, device));
  return {label,
          [module, torch_ops](const torch::Tensor& x) mutable {
            return torch_ops ? actsearch::PiecewiseLinearWithTorchOps(x, module->tables())
                             : module->forward(x);
          },
          module->parameters(),
          {}};
}

// Training-mode BatchNorm, an optional residual sum, then ReLU or Swish: LibTorch's operators
// and the fused expression as the models called them before fusion (ReLU in place), or the
// fused CPU operations that they call now.
Variant BatchNormThen(const std::string& label, const torch::Tensor& like, bool swish,
                      bool residual, bool fused) {
  const int64_t channels = like.size(1);
  const auto options = like.options().requires_grad(false);
  const torch::Tensor weight = torch::ones({channels}, options).requires_grad_(true);
  const torch::Tensor bias = torch::zeros({channels}, options).requires_grad_(true);
  const torch::Tensor mean = torch::zeros({channels}, options);
  const torch::Tensor var = torch::ones({channels}, options);
  const torch::Tensor shortcut =
      residual ? torch::randn_like(like).requires_grad_(true) : torch::Tensor();
  ExpressionActivation activation(
      ExpressionActivationOptions(actsearch::Parse("x * sigmoid(beta * x)"), channels));
  std::vector<torch::Tensor> parameters = {weight, bias};
  if (swish) parameters.push_back(activation->betas());
  if (residual) parameters.push_back(shortcut);
  return {label,
          [=](const torch::Tensor& x) mutable {
            if (fused && swish) {
              return actsearch::BatchNormExpression(activation->compiled(), activation->betas(),
                                                    x, weight, bias, shortcut, mean, var, 0.1,
                                                    1e-5);
            }
            if (fused) {
              return actsearch::BatchNormRelu(x, weight, bias, shortcut, mean, var, 0.1, 1e-5);
            }
            torch::Tensor y = torch::batch_norm(x, weight, bias, mean, var, /*training=*/true,
                                                0.1, 1e-5, /*cudnn_enabled=*/true);
            if (residual) y = y + shortcut;
            return swish ? activation->forward(y) : torch::relu_(y);
          },
          parameters,
          {}};
}

double TimeOnce(Variant& v, const torch::Tensor& x, const torch::Tensor& grad) {
  const auto start = std::chrono::steady_clock::now();
  const torch::Tensor y = v.forward(x);
  std::vector<torch::Tensor> inputs = {x};
  inputs.insert(inputs.end(), v.parameters.begin(), v.parameters.end());
  const auto grads = torch::autograd::grad({y}, inputs, {grad});
  if (x.is_cuda()) torch::cuda::synchronize(x.get_device());
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(end - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

std::vector<int64_t> ParseShape(const std::string& text) {
  std::vector<int64_t> shape;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    shape.push_back(std::stoll(text.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return shape;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> shape = {128, 16, 32, 32};
  int rounds = 40;
  bool channels_last = false;
  std::string device_name = "cpu";
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--shape") && i + 1 < argc) {
      shape = ParseShape(argv[++i]);
    } else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) {
      rounds = std::stoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--channels-last")) {
      channels_last = true;
    } else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) {
      device_name = argv[++i];
    } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = std::stoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--shape N,C,H,W] [--rounds R] [--channels-last] "
                   "[--device cpu|cuda|cuda:N] [--threads N]\n",
                   argv[0]);
      return 2;
    }
  }
  // Every core unless told otherwise, for the reference and the candidates alike.
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  const torch::Device device(device_name);
  if (device.is_cuda() && !torch::cuda::is_available()) {
    std::fprintf(stderr, "error: --device %s but CUDA is not available\n", device_name.c_str());
    return 2;
  }
  torch::Tensor x = torch::randn(shape, device);
  if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  x.requires_grad_(true);
  const torch::Tensor grad = torch::randn_like(x);
  const int64_t channels = shape[1];

  const std::string swish = "x * sigmoid(beta * x)";
  const std::string two_units = "max(sigmoid(beta * x) * x, tanh(x))";  // a 2-unit candidate
  std::vector<Variant> variants;
  variants.push_back(
      {"relu (reference)", [](const torch::Tensor& t) { return torch::relu(t); }, {}, {}});
  variants.push_back(
      {"silu (LibTorch built-in)", [](const torch::Tensor& t) { return torch::silu(t); }, {}, {}});
  variants.push_back(Expression("swish", swish, channels, true, device));
  variants.push_back(Expression("swish", swish, channels, false, device));
  variants.push_back(Expression("2-unit", two_units, channels, true, device));
  variants.push_back(Expression("2-unit", two_units, channels, false, device));
  const actsearch::Surrogate bsilu = actsearch::Surrogate::BSilu();
  variants.push_back({"sugar bsilu",
                      [bsilu](const torch::Tensor& t) { return actsearch::SugarRelu(t, bsilu); },
                      {},
                      {}});
  variants.push_back({"sugar bsilu, FGI form",
                      [bsilu](const torch::Tensor& t) {
                        return actsearch::SugarReluByGradientInjection(t, bsilu);
                      },
                      {},
                      {}});
  variants.push_back(PiecewiseLinearUnit("pwlu per channel", channels, true, false, device));
  variants.push_back(PiecewiseLinearUnit("pwlu per layer", channels, false, false, device));
  variants.push_back(PiecewiseLinearUnit("pwlu per channel, ops", channels, true, true, device));

  for (const bool swish : {false, true}) {
    const std::string name = swish ? "swish" : "relu";
    variants.push_back(BatchNormThen("batchnorm, " + name + " (ops)", x, swish, false, false));
    variants.push_back(
        BatchNormThen("batchnorm, add, " + name + " (ops)", x, swish, true, false));
    if (actsearch::CanFuseBatchNormRelu(x, x)) {
      variants.push_back(BatchNormThen("batchnorm+" + name + " fused", x, swish, false, true));
      variants.push_back(
          BatchNormThen("batchnorm+add+" + name + " fused", x, swish, true, true));
    }
  }

  for (Variant& v : variants) {  // warm-up: allocator caches, thread pool, page faults
    for (int i = 0; i < 3; ++i) TimeOnce(v, x, grad);
  }
  for (int r = 0; r < rounds; ++r) {
    for (Variant& v : variants) v.milliseconds.push_back(TimeOnce(v, x, grad));
  }

  std::printf("activation forward+backward, shape [");
  for (size_t i = 0; i < shape.size(); ++i)
    std::printf("%s%lld", i ? ", " : "", (long long)shape[i]);
  std::printf("] float32 %s on %s, LibTorch %s, %d threads, %d rounds, kernels: %s\n",
              channels_last ? "channels_last" : "contiguous", device_name.c_str(),
              actsearch::compat::TorchVersion().c_str(), torch::get_num_threads(), rounds,
              actsearch::Program::FloatInstructionSet());
  std::printf("2-unit candidate: %s\n\n", two_units.c_str());
  const double reference = Median(variants[0].milliseconds);
  std::printf("%-30s %12s %12s\n", "variant", "median ms", "vs relu");
  for (const Variant& v : variants) {
    const double median = Median(v.milliseconds);
    std::printf("%-30s %12.3f %11.2fx\n", v.name.c_str(), median, median / reference);
  }
  return 0;
}
