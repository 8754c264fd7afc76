// ResNet training throughput of the C++ worker's model, one JSON line per run, in the format of
// bench/pytorch_resnet20.py so that bench/resnet_throughput.sh can put them side by side.
//
//   build/cpu/bench/train_bench [--activation relu|swish|EXPR] [--steps 30] [--warmup 5]
//                               [--channels-last] [--depth 20] [--threads N]
//                               [--device cpu|cuda|cuda:N] [--bf16] [--unfused-batch-norm]
//                               [--cuda-graph] [--profile TRACE.json]
//
// The timed step is what the PyTorch script times: forward, cross-entropy, backward and an SGD
// (Nesterov, weight decay 5e-4 on every parameter) step on a fixed random batch of 128 images.
// --bf16 runs forward under CUDA autocast to bfloat16, as the worker does on a GPU; on CUDA each
// step ends with a synchronisation, so the time is the GPU's. --unfused-batch-norm runs BatchNorm
// and the activation as separate operators, as PyTorch does, instead of the worker's fused CPU
// operations (activation/batch_norm_relu.h, activation/batch_norm_expression.h). --cuda-graph
// runs the step as the worker's CUDA graph (worker/training_step.h; "cuda_graph" in the output
// says whether it was captured). --profile writes LibTorch's operator trace of the timed steps
// (Chrome trace format: chrome://tracing or Perfetto), to see where a step goes.
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "activation/torch_compat.h"
#include "worker/allocator_settings.h"
#include "worker/model_layers.h"
#include "worker/nesterov_sgd.h"
#include "worker/resnet.h"
#include "worker/training_step.h"

namespace {

using namespace actsearch;

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string activation = "relu";
  int steps = 30, warmup = 5, threads = static_cast<int>(std::thread::hardware_concurrency());
  int64_t depth = 20;
  bool channels_last = false, bf16 = false, fused_batch_norm = true, cuda_graph = false;
  std::string device_name = "cpu", profile_path;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--activation") {
      activation = value();
    } else if (flag == "--steps") {
      steps = std::stoi(value());
    } else if (flag == "--warmup") {
      warmup = std::stoi(value());
    } else if (flag == "--depth") {
      depth = std::stoll(value());
    } else if (flag == "--threads") {
      threads = std::stoi(value());
    } else if (flag == "--channels-last") {
      channels_last = true;
    } else if (flag == "--device") {
      device_name = value();
    } else if (flag == "--bf16") {
      bf16 = true;
    } else if (flag == "--cuda-graph") {
      cuda_graph = true;
    } else if (flag == "--profile") {
      profile_path = value();
    } else if (flag == "--unfused-batch-norm") {
      fused_batch_norm = false;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--activation relu|swish|EXPR] [--steps N] [--warmup N] "
                   "[--channels-last] [--depth D] [--threads N] [--device cpu|cuda|cuda:N] "
                   "[--bf16] [--unfused-batch-norm] [--cuda-graph] [--profile TRACE.json]\n",
                   argv[0]);
      return 2;
    }
  }
  const std::string expression = activation == "swish" ? "x * sigmoid(beta * x)" : activation;
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  worker::SetBatchNormFusion(fused_batch_norm);
  worker::KeepFreedMemoryForReuse();  // as the worker's trainer does
  const torch::Device device(device_name);
  if (device.is_cuda()) {
    if (!torch::cuda::is_available()) {
      std::fprintf(stderr, "error: --device %s but CUDA is not available\n", device_name.c_str());
      return 2;
    }
    at::globalContext().setBenchmarkCuDNN(true);
  } else if (bf16) {
    std::fprintf(stderr, "error: --bf16 needs a CUDA --device\n");
    return 2;
  }

  worker::ResNetOptions options;
  options.depth = depth;
  worker::CifarResNet model(options, worker::MakeActivationFactory(expression));
  model->to(device);
  if (channels_last) compat::ToChannelsLast(*model);
  model->train();
  worker::NesterovSgd optimizer({{model->parameters(), 5e-4}}, 0.9);  // the worker's optimizer
  torch::Tensor images = torch::randn({128, 3, 32, 32}, device);
  if (channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor labels = torch::randint(10, {128}, torch::dtype(torch::kLong).device(device));

  worker::StepSettings settings;
  settings.autocast = bf16;
  settings.cuda_graph = cuda_graph;
  worker::TrainingStep train_step(torch::nn::AnyModule(model), optimizer, settings, device);
  std::vector<double> ms;
  std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
  for (int step = 0; step < warmup + steps; ++step) {
    if (step == warmup && !profile_path.empty()) {
      profile = std::make_unique<torch::autograd::profiler::RecordProfile>(profile_path);
    }
    const auto start = std::chrono::steady_clock::now();
    train_step.Run(images, labels, 0.1);
    if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
    const double elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (step >= warmup) ms.push_back(elapsed);
  }
  profile.reset();  // writes the trace
  const double median = Median(ms);
  std::printf(
      "{\"impl\": \"actsearch C++ (LibTorch %s)\", \"torch\": \"%s\", \"activation\": \"%s\", "
      "\"depth\": %lld, \"batch\": 128, \"channels_last\": %s, \"threads\": %d, "
      "\"device\": \"%s\", \"bf16\": %s, \"fused_batch_norm\": %s, "
      "\"cuda_graph\": %s, \"median_step_ms\": %.2f, \"images_per_second\": %.1f, "
      "\"steps\": %d}\n",
      compat::TorchVersion().c_str(), compat::TorchVersion().c_str(), activation.c_str(),
      static_cast<long long>(depth), channels_last ? "true" : "false", torch::get_num_threads(),
      device_name.c_str(), bf16 ? "true" : "false", fused_batch_norm ? "true" : "false",
      train_step.graphed() ? "true" : "false", median, 128000.0 / median, steps);
  return 0;
}
