#include "worker/training_step.h"

#include "activation/torch_compat.h"

#if defined(ACTSEARCH_TORCH_HAS_CUDA) && TORCH_VERSION_MAJOR >= 2
#define ACTSEARCH_CUDA_GRAPHS 1
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

namespace actsearch::worker {
namespace {

// Eager steps before the capture: cuDNN's benchmark mode tries its algorithms on the first
// calls of each shape, and the optimizer makes its momentum buffers on the first step.
constexpr int64_t kEagerStepsBeforeCapture = 3;

}  // namespace

struct TrainingStep::Graph {
#ifdef ACTSEARCH_CUDA_GRAPHS
  at::cuda::CUDAGraph graph;
#endif
  torch::Tensor images, labels, lr, loss;  // static: the graph reads and writes these
};

TrainingStep::TrainingStep(torch::nn::AnyModule model, NesterovSgd& optimizer,
                           StepSettings settings, const torch::Device& device)
    : model_(std::move(model)),
      optimizer_(optimizer),
      settings_(std::move(settings)),
      loss_sum_(torch::zeros({}, torch::dtype(torch::kFloat).device(device))) {
#ifdef ACTSEARCH_CUDA_GRAPHS
  if (settings_.cuda_graph && !device.is_cuda()) settings_.cuda_graph = false;
#else
  if (settings_.cuda_graph) {
    settings_.cuda_graph = false;
    graph_problem_ = "CUDA graphs need the CUDA configuration with LibTorch 2.x";
  }
#endif
  if (!settings_.cuda_graph && graph_problem_.empty()) graph_problem_ = "not asked for";
}

TrainingStep::~TrainingStep() = default;

torch::Tensor TrainingStep::Body(const torch::Tensor& images, const torch::Tensor& labels,
                                 double lr, const torch::Tensor* lr_tensor) {
  if (settings_.autocast) compat::SetCudaAutocast(true);
  const torch::Tensor logits = model_.forward(images);
  if (settings_.autocast) compat::SetCudaAutocast(false);
  const torch::Tensor loss = torch::cross_entropy_loss(logits.to(torch::kFloat), labels);
  optimizer_.ZeroGradToNone();
  loss.backward();
#ifdef ACTSEARCH_CUDA_GRAPHS
  if (lr_tensor) {
    optimizer_.Step(*lr_tensor);
  } else {
    optimizer_.Step(lr);
  }
#else
  (void)lr_tensor;
  optimizer_.Step(lr);
#endif
  loss_sum_.add_(loss.detach());
  return loss.detach();
}

torch::Tensor TrainingStep::Run(const torch::Tensor& images, const torch::Tensor& labels,
                                double lr) {
  if (graph_) {
#ifdef ACTSEARCH_CUDA_GRAPHS
    graph_->images.copy_(images);
    graph_->labels.copy_(labels);
    graph_->lr.fill_(lr);
    graph_->graph.replay();
#endif
    return graph_->loss;
  }
  const bool try_capture = settings_.cuda_graph && graph_problem_.empty() &&
                           eager_steps_ >= kEagerStepsBeforeCapture &&
                           (!settings_.ready_to_capture || settings_.ready_to_capture());
  if (try_capture && Capture(images, labels, lr)) return Run(images, labels, lr);
  ++eager_steps_;
  return Body(images, labels, lr, nullptr);
}

bool TrainingStep::Capture(const torch::Tensor& images, const torch::Tensor& labels, double lr) {
#ifdef ACTSEARCH_CUDA_GRAPHS
  auto graph = std::make_unique<Graph>();
  graph->images = images.clone(images.suggest_memory_format());
  graph->labels = labels.clone();
  graph->lr = torch::full({}, lr, torch::dtype(torch::kFloat).device(images.device()));
  // Capture runs on a side stream that has seen everything before it; the gradients are
  // dropped so that backward allocates them from the graph's own memory pool.
  torch::cuda::synchronize();
  optimizer_.ZeroGradToNone();
  const bool autocast_cache = at::autocast::is_autocast_cache_enabled();
  at::autocast::set_autocast_cache_enabled(false);  // no casts cached across the capture
  const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  try {
    const c10::cuda::CUDAStreamGuard on_side(side);
    graph->graph.capture_begin();
    try {
      graph->loss = Body(graph->images, graph->labels, lr, &graph->lr);
    } catch (...) {
      // Abandon the capture, then report the body's error.
      cudaGraph_t abandoned = nullptr;
      if (cudaStreamEndCapture(side.stream(), &abandoned) == cudaSuccess && abandoned) {
        cudaGraphDestroy(abandoned);
      }
      cudaGetLastError();
      throw;
    }
    graph->graph.capture_end();
  } catch (const std::exception& error) {
    at::autocast::set_autocast_cache_enabled(autocast_cache);
    if (settings_.autocast) compat::SetCudaAutocast(false);
    graph_problem_ = std::string("capture failed: ") + error.what();
    torch::cuda::synchronize();
    return false;
  }
  at::autocast::set_autocast_cache_enabled(autocast_cache);
  // The capture ran nothing: the loss sum gained no term, and Run replays the graph next.
  graph_ = std::move(graph);
  return true;
#else
  (void)images;
  (void)labels;
  (void)lr;
  return false;
#endif
}

}  // namespace actsearch::worker
