#include "worker/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <unordered_set>

#include "activation/pwlu.h"
#include "activation/torch_compat.h"
#include "worker/allocator_settings.h"
#include "worker/batches.h"
#include "worker/model_registry.h"
#include "worker/nesterov_sgd.h"
#include "worker/resnet.h"
#include "worker/training_step.h"
#include "worker/weight_average.h"

namespace actsearch::worker {
namespace {

using Clock = std::chrono::steady_clock;

// Steps between reads of the summed loss: a diverging child is stopped within this many steps.
constexpr int64_t kLossReadEvery = 10;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Weight decay on convolution and linear weights only (see WeightDecayedParameters).
NesterovSgd MakeOptimizer(const torch::nn::Module& model, const TrainingProfile& profile) {
  std::vector<torch::Tensor> decay = WeightDecayedParameters(model);
  std::unordered_set<const c10::TensorImpl*> decayed;
  for (const torch::Tensor& p : decay) decayed.insert(p.unsafeGetTensorImpl());
  std::vector<torch::Tensor> no_decay;
  for (const torch::Tensor& p : model.parameters()) {
    if (decayed.count(p.unsafeGetTensorImpl()) == 0) no_decay.push_back(p);
  }
  return NesterovSgd({{decay, profile.weight_decay}, {no_decay, 0.0}}, profile.momentum);
}

Dataset ToDevice(const Dataset& d, const torch::Device& device) {
  return {d.images.to(device), d.labels.to(device)};
}

// Whether the child is evaluated on the validation split after `done` steps, before its end.
bool IsEvaluationStep(const TrainingProfile& profile, const std::vector<int64_t>& evaluate_at,
                      int64_t done) {
  return done < profile.steps && ((profile.eval_every > 0 && done % profile.eval_every == 0) ||
                                  std::binary_search(evaluate_at.begin(), evaluate_at.end(), done));
}

// The batches BatchNorm's statistics are recomputed on for averaged weights: the first
// training images, unaugmented (as evaluation sees images) and the same at every evaluation,
// so that recomputing draws nothing from the training's random streams.
constexpr int64_t kStatisticsBatches = 10;
std::vector<torch::Tensor> StatisticsBatches(const DatasetSplits& data, int64_t batch_size,
                                             const torch::Device& device, bool channels_last) {
  std::vector<torch::Tensor> batches;
  const torch::Tensor mean = data.mean.to(device), std = data.std.to(device);
  for (int64_t b = 0; b < kStatisticsBatches; ++b) {
    const int64_t start = b * batch_size, end = std::min(data.train.size(), start + batch_size);
    if (end - start < batch_size && !batches.empty()) break;  // every batch full
    torch::Tensor images = Normalize(data.train.images.slice(0, start, end).to(device), mean, std);
    if (channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    batches.push_back(images);
  }
  return batches;
}

// Whether every module's forward is free of host-side state changes, so that a CUDA graph of
// the step replays it faithfully: PWLU changes its phase on the host until it has aligned.
bool HasNoHostSideState(const torch::nn::Module& network) {
  for (const auto& module : network.modules(/*include_self=*/true)) {
    if (const auto* pwlu = module->as<PwluImpl>(); pwlu && !pwlu->aligned()) return false;
  }
  return true;
}

}  // namespace

std::vector<torch::Tensor> WeightDecayedParameters(const torch::nn::Module& model) {
  std::vector<torch::Tensor> weights;
  auto add_weight_of = [&weights](const torch::nn::Module& module) {
    if (const auto* conv = module.as<torch::nn::Conv1d>()) weights.push_back(conv->weight);
    if (const auto* conv = module.as<torch::nn::Conv2d>()) weights.push_back(conv->weight);
    if (const auto* conv = module.as<torch::nn::Conv3d>()) weights.push_back(conv->weight);
    if (const auto* linear = module.as<torch::nn::Linear>()) weights.push_back(linear->weight);
  };
  add_weight_of(model);
  for (const auto& module : model.modules(/*include_self=*/false)) add_weight_of(*module);
  return weights;
}

std::optional<double> Evaluate(torch::nn::AnyModule& model, const Dataset& data,
                               const torch::Tensor& mean, const torch::Tensor& std,
                               int64_t batch_size, bool channels_last) {
  torch::NoGradGuard no_grad;
  model.ptr()->eval();
  // Counted on the device and read once at the end: no batch waits for the one before.
  const auto on_device = torch::TensorOptions().device(data.images.device());
  torch::Tensor correct = torch::zeros({}, on_device.dtype(torch::kLong));
  torch::Tensor finite = torch::ones({}, on_device.dtype(torch::kBool));
  const torch::Tensor m = mean.to(data.images.device()), s = std.to(data.images.device());
  for (int64_t start = 0; start < data.size(); start += batch_size) {
    const int64_t end = std::min(data.size(), start + batch_size);
    torch::Tensor images = Normalize(data.images.slice(0, start, end), m, s);
    if (channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    const torch::Tensor logits = model.forward(images);
    finite.logical_and_(torch::isfinite(logits).all());
    correct.add_(logits.argmax(1).eq(data.labels.slice(0, start, end)).sum());
  }
  model.ptr()->train();
  if (!finite.item<bool>()) return std::nullopt;
  return static_cast<double>(correct.item<int64_t>()) / std::max<int64_t>(1, data.size());
}

TrainResult TrainChild(const DatasetSplits& data, const TrainOptions& options,
                       const ProgressCallback& progress) {
  const auto start = Clock::now();
  const TrainingProfile& profile = options.profile;
  if (profile.batch_size > data.train.size()) {
    throw std::invalid_argument("batch size " + std::to_string(profile.batch_size) +
                                " exceeds the training set (" + std::to_string(data.train.size()) +
                                " images)");
  }
  const torch::Device device(options.device);
  const bool cuda = device.is_cuda();
  KeepFreedMemoryForReuse();
  torch::set_num_threads(options.threads > 0
                             ? options.threads
                             : static_cast<int>(std::thread::hardware_concurrency()));
  torch::manual_seed(options.seed);
  if (cuda) at::globalContext().setBenchmarkCuDNN(true);

  const ModelShape shape{/*in_channels=*/data.train.images.size(1),
                         /*num_classes=*/data.num_classes};
  torch::nn::AnyModule model =
      MakeModel(options.model, shape, MakeActivationFactory(options.activation));
  torch::nn::Module& network = *model.ptr();
  network.to(device);
  if (options.channels_last) compat::ToChannelsLast(network);
  NesterovSgd optimizer = MakeOptimizer(network, profile);

  const Dataset validation = ToDevice(data.validation, device);
  const Dataset test = ToDevice(data.test, device);
  BatchSampler sampler(ToDevice(data.train, device), data.mean, data.std, profile.batch_size,
                       AugmentOptions{}, options.seed);

  TrainResult result;
  result.device = device.str();
  for (const torch::Tensor& p : network.parameters()) result.parameters += p.numel();
  const bool autocast = cuda && options.bf16;
  double loss_sum = 0;  // of the steps since the last curve point
  int64_t loss_count = 0;
  // Losses are summed on the device and read every few steps: reading each one would make the
  // CPU wait for the GPU every step, and a small network's GPU step is bound by launches.
  StepSettings settings;
  settings.autocast = autocast;
  settings.cuda_graph = cuda && options.cuda_graph;
  settings.ready_to_capture = [&network] { return HasNoHostSideState(network); };
  TrainingStep train_step(model, optimizer, settings, device);
  int64_t unread_count = 0;
  auto evaluate_validation = [&] {
    return Evaluate(model, validation, data.mean, data.std, profile.eval_batch_size,
                    options.channels_last);
  };
  // The averaged weights, kept up to the last evaluation that judges them.
  const int64_t last_evaluation =
      options.evaluate_averaged_weights
          ? LastEvaluationStep(profile.steps, options.evaluate_at, profile.eval_every)
          : 0;
  std::optional<WeightAverage> average;
  std::vector<torch::Tensor> statistics_batches;
  if (last_evaluation > 0) {
    average.emplace(network, last_evaluation);
    statistics_batches = StatisticsBatches(data, profile.batch_size, device, options.channels_last);
  }
  auto evaluate_average = [&] {
    const WeightAverage::Swapped swapped(*average);
    RecomputeBatchNormStatistics(model, statistics_batches);
    return evaluate_validation();
  };
  auto finish = [&](TrainStatus status, std::string error) {
    if (autocast) compat::SetCudaAutocast(false);
    result.cuda_graph = train_step.graphed();
    result.status = status;
    result.error = std::move(error);
    result.wall_seconds = Since(start);
    return result;
  };

  network.train();
  for (int64_t step = 0; step < profile.steps; ++step) {
    const double lr = LearningRateAt(profile, step);
    BatchSampler::Batch batch = sampler.Next();
    if (options.channels_last) {
      batch.images = batch.images.contiguous(torch::MemoryFormat::ChannelsLast);
    }
    const torch::Tensor loss = train_step.Run(batch.images, batch.labels, lr);
    ++unread_count;
    result.steps = step + 1;
    if (average) average->Update();

    const int64_t done = step + 1;
    const bool evaluate = IsEvaluationStep(profile, options.evaluate_at, done);
    const bool report = profile.progress_every > 0 && done % profile.progress_every == 0;
    if (evaluate || report || done % kLossReadEvery == 0 || done == profile.steps) {
      const double unread_sum = train_step.loss_sum().item<double>();
      if (!std::isfinite(unread_sum)) {
        result.validation_accuracy = 0;
        return finish(TrainStatus::kDiverged, "non-finite loss by step " + std::to_string(done));
      }
      loss_sum += unread_sum;
      loss_count += unread_count;
      train_step.ResetLossSum();
      unread_count = 0;
      result.final_loss = loss.item<double>();
    }
    if (evaluate || report) {
      CurvePoint point{done, loss_sum / loss_count, std::nullopt, std::nullopt};
      loss_sum = 0;
      loss_count = 0;
      if (evaluate) {
        point.validation_accuracy = evaluate_validation();
        if (average && point.validation_accuracy) {
          point.current_weights_accuracy = point.validation_accuracy;
          // Averaged weights with non-finite outputs judge as worst; the child's own weights
          // are fine, so it trains on.
          point.validation_accuracy = evaluate_average().value_or(0.0);
        }
        if (!point.validation_accuracy) {
          result.validation_accuracy = 0;
          return finish(TrainStatus::kDiverged,
                        "non-finite outputs on the validation set at step " + std::to_string(done));
        }
      }
      result.curve.push_back(point);
      if (progress &&
          !progress({done, profile.steps, point.loss, point.validation_accuracy, Since(start)})) {
        return finish(TrainStatus::kStopped, "stopped at step " + std::to_string(done));
      }
    }
    if (options.time_limit_seconds > 0 && Since(start) > options.time_limit_seconds) {
      result.validation_accuracy = evaluate_validation().value_or(0.0);
      return finish(TrainStatus::kTimedOut, "time limit of " +
                                                std::to_string(options.time_limit_seconds) +
                                                " s reached at step " + std::to_string(done));
    }
  }
  if (progress) {
    progress({result.steps, profile.steps, loss_count ? loss_sum / loss_count : 0.0, std::nullopt,
              Since(start), Progress::Phase::kEvaluating});
  }
  const std::optional<double> validation_accuracy = evaluate_validation();
  if (!validation_accuracy) {
    result.validation_accuracy = 0;
    return finish(TrainStatus::kDiverged, "non-finite outputs on the validation set");
  }
  result.validation_accuracy = *validation_accuracy;
  result.test_accuracy =
      Evaluate(model, test, data.mean, data.std, profile.eval_batch_size, options.channels_last);
  if (result.curve.empty() || result.curve.back().step != result.steps) {
    result.curve.push_back(
        {result.steps, loss_count ? loss_sum / loss_count : 0.0, std::nullopt, std::nullopt});
  }
  result.curve.back().validation_accuracy = validation_accuracy;
  return finish(TrainStatus::kDone, "");
}

}  // namespace actsearch::worker
