#include "worker/trainer.h"

#include <chrono>
#include <cmath>
#include <thread>

#include "activation/torch_compat.h"
#include "worker/batches.h"

namespace actsearch::worker {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Weight decay on convolution and linear weights only: decaying BatchNorm scales or the
// activations' betas would pull Swish towards x/2 and bias the comparison between candidates.
std::vector<torch::optim::OptimizerParamGroup> ParameterGroups(CifarResNet& model,
                                                               const TrainingProfile& profile) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& named : model->named_parameters()) {
    const bool weight = named.value().dim() >= 2;  // conv [O, I, kh, kw], linear [O, I]
    const bool beta = named.key().find("betas") != std::string::npos;
    (weight && !beta ? decay : no_decay).push_back(named.value());
  }
  auto options = [&](double weight_decay) {
    return std::make_unique<torch::optim::SGDOptions>(
        torch::optim::SGDOptions(profile.learning_rate)
            .momentum(profile.momentum)
            .nesterov(true)
            .weight_decay(weight_decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(profile.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  return groups;
}

Dataset ToDevice(const Dataset& d, const torch::Device& device) {
  return {d.images.to(device), d.labels.to(device)};
}

}  // namespace

const char* TrainStatusName(TrainStatus status) {
  switch (status) {
    case TrainStatus::kDone: return "done";
    case TrainStatus::kDiverged: return "diverged";
    case TrainStatus::kTimedOut: return "timed_out";
    case TrainStatus::kStopped: return "stopped";
  }
  return "unknown";
}

std::optional<double> Evaluate(CifarResNet& model, const Dataset& data, const torch::Tensor& mean,
                               const torch::Tensor& std, int64_t batch_size, bool channels_last) {
  torch::NoGradGuard no_grad;
  model->eval();
  int64_t correct = 0;
  bool finite = true;
  for (int64_t start = 0; start < data.size(); start += batch_size) {
    const int64_t end = std::min(data.size(), start + batch_size);
    torch::Tensor images = Normalize(data.images.slice(0, start, end), mean, std);
    if (channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    const torch::Tensor logits = model->forward(images);
    finite = finite && torch::isfinite(logits).all().item<bool>();
    correct += logits.argmax(1).eq(data.labels.slice(0, start, end)).sum().item<int64_t>();
  }
  model->train();
  if (!finite) return std::nullopt;
  return static_cast<double>(correct) / std::max<int64_t>(1, data.size());
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
  torch::set_num_threads(options.threads > 0
                             ? options.threads
                             : static_cast<int>(std::thread::hardware_concurrency()));
  torch::manual_seed(options.seed);
  if (cuda) at::globalContext().setBenchmarkCuDNN(true);

  ResNetOptions model_options;
  model_options.depth = options.depth;
  model_options.num_classes = data.num_classes;
  model_options.in_channels = data.train.images.size(1);
  CifarResNet model(model_options, MakeActivationFactory(options.activation));
  model->to(device);
  if (options.channels_last) compat::ToChannelsLast(*model);
  torch::optim::SGD optimizer(ParameterGroups(model, profile),
                              torch::optim::SGDOptions(profile.learning_rate));

  const Dataset validation = ToDevice(data.validation, device);
  const Dataset test = ToDevice(data.test, device);
  BatchSampler sampler(ToDevice(data.train, device), data.mean, data.std, profile.batch_size,
                       AugmentOptions{}, options.seed);

  TrainResult result;
  result.device = device.str();
  for (const torch::Tensor& p : model->parameters()) result.parameters += p.numel();
  const bool autocast = cuda && options.bf16;
  double loss_sum = 0;
  int64_t loss_count = 0;
  auto finish = [&](TrainStatus status, std::string error) {
    if (autocast) compat::SetCudaAutocast(false);
    result.status = status;
    result.error = std::move(error);
    result.wall_seconds = Since(start);
    return result;
  };

  model->train();
  for (int64_t step = 0; step < profile.steps; ++step) {
    const double lr = LearningRateAt(profile, step);
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    }
    BatchSampler::Batch batch = sampler.Next();
    if (options.channels_last) {
      batch.images = batch.images.contiguous(torch::MemoryFormat::ChannelsLast);
    }
    if (autocast) compat::SetCudaAutocast(true);
    const torch::Tensor logits = model->forward(batch.images);
    if (autocast) compat::SetCudaAutocast(false);
    const torch::Tensor loss = torch::cross_entropy_loss(logits.to(torch::kFloat), batch.labels);
    const double loss_value = loss.item<double>();
    result.steps = step + 1;
    if (!std::isfinite(loss_value)) {
      result.validation_accuracy = 0;
      return finish(TrainStatus::kDiverged, "non-finite loss at step " + std::to_string(step + 1));
    }
    compat::ZeroGradToNone(optimizer);
    loss.backward();
    optimizer.step();
    loss_sum += loss_value;
    ++loss_count;
    result.final_loss = loss_value;

    const int64_t done = step + 1;
    const bool evaluate =
        profile.eval_every > 0 && done % profile.eval_every == 0 && done < profile.steps;
    const bool report = profile.progress_every > 0 && done % profile.progress_every == 0;
    if (evaluate || report) {
      CurvePoint point{done, loss_sum / loss_count, std::nullopt};
      loss_sum = 0;
      loss_count = 0;
      if (evaluate) {
        point.validation_accuracy = Evaluate(model, validation, data.mean, data.std,
                                             profile.eval_batch_size, options.channels_last);
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
      result.validation_accuracy = Evaluate(model, validation, data.mean, data.std,
                                            profile.eval_batch_size, options.channels_last)
                                       .value_or(0.0);
      return finish(TrainStatus::kTimedOut, "time limit of " +
                                                std::to_string(options.time_limit_seconds) +
                                                " s reached at step " + std::to_string(done));
    }
  }
  const std::optional<double> validation_accuracy = Evaluate(
      model, validation, data.mean, data.std, profile.eval_batch_size, options.channels_last);
  if (!validation_accuracy) {
    result.validation_accuracy = 0;
    return finish(TrainStatus::kDiverged, "non-finite outputs on the validation set");
  }
  result.validation_accuracy = *validation_accuracy;
  result.test_accuracy =
      Evaluate(model, test, data.mean, data.std, profile.eval_batch_size, options.channels_last);
  if (result.curve.empty() || result.curve.back().step != result.steps) {
    result.curve.push_back({result.steps, loss_count ? loss_sum / loss_count : 0.0, std::nullopt});
  }
  result.curve.back().validation_accuracy = validation_accuracy;
  return finish(TrainStatus::kDone, "");
}

}  // namespace actsearch::worker
