#include "worker/proxy_task.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <vector>

#include "worker/resnet.h"
#include "worker/weight_average.h"

namespace actsearch::worker {
namespace {

using Clock = std::chrono::steady_clock;

// 1.75 turns per arm: a 2x32 ReLU MLP reaches ~0.98 in 300 Adam steps, a linear network ~0.6
// (at 2 turns ReLU drops below 0.9 on some seeds; at 1.5 every good activation scores ~0.99).
constexpr double kSpiralTurns = 1.75;
constexpr double kSpiralNoise = 0.05;  // standard deviation, against an outer radius of 1
constexpr double kPi = 3.14159265358979323846;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Points {
  torch::Tensor inputs;   // [N, 2] float
  torch::Tensor targets;  // [N, 1] float: the class, 0 or 1
};

// Two interleaved spirals, the second the first turned by half a turn. Classes alternate, so
// every split is balanced and a network that ignores its input scores exactly 0.5.
Points TwoSpirals(int64_t n, torch::Generator& generator) {
  const torch::Tensor labels = torch::arange(n, torch::kFloat).remainder(2);
  // sqrt(uniform) puts more points further out, where an arm is longer per unit of radius.
  const torch::Tensor radius = torch::rand({n}, generator, torch::kFloat).sqrt_();
  const torch::Tensor angle = radius * (2 * kPi * kSpiralTurns) + labels * kPi;
  torch::Tensor inputs = torch::stack({radius * angle.cos(), radius * angle.sin()}, 1);
  inputs.add_(torch::randn({n, 2}, generator, torch::kFloat), kSpiralNoise);
  return {inputs, labels.unsqueeze(1)};
}

// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), LibTorch's default for Linear weights and biases, drawn
// from our generator rather than the global one.
torch::Tensor UniformInit(torch::IntArrayRef shape, int64_t fan_in, torch::Generator& generator) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return torch::empty(shape, torch::kFloat).uniform_(-bound, bound, generator);
}

// 2 -> hidden -> activation -> hidden -> activation -> 1 logit (of class 1). One logit and
// binary cross-entropy rather than two and softmax: LibTorch's log-softmax over a dimension of 2
// cost as much as the rest of the forward pass. Plain parameter tensors rather than nn::Linear,
// whose constructor would draw from the global generator.
class ProxyMlpImpl : public torch::nn::Module {
 public:
  ProxyMlpImpl(int64_t hidden, const ActivationFactory& activation, torch::Generator& generator)
      : w1_(register_parameter("w1", UniformInit({hidden, 2}, 2, generator))),
        b1_(register_parameter("b1", UniformInit({hidden}, 2, generator))),
        w2_(register_parameter("w2", UniformInit({hidden, hidden}, hidden, generator))),
        b2_(register_parameter("b2", UniformInit({hidden}, hidden, generator))),
        w3_(register_parameter("w3", UniformInit({1, hidden}, hidden, generator))),
        b3_(register_parameter("b3", UniformInit({1}, hidden, generator))),
        act1_(activation(hidden)),
        act2_(activation(hidden)) {
    register_module("act1", act1_.ptr());
    register_module("act2", act2_.ptr());
  }

  torch::Tensor forward(const torch::Tensor& x) {
    // An in-place ReLU (what the factory makes) is safe here: linear's backward reads its
    // inputs, never its output.
    torch::Tensor h = act1_.forward(torch::linear(x, w1_, b1_));
    h = act2_.forward(torch::linear(h, w2_, b2_));
    return torch::linear(h, w3_, b3_);
  }

 private:
  torch::Tensor w1_, b1_, w2_, b2_, w3_, b3_;
  torch::nn::AnyModule act1_, act2_;
};
TORCH_MODULE(ProxyMlp);

// Accuracy on `points` (eval mode, no gradients), or nullopt if an output is not finite.
std::optional<double> Accuracy(ProxyMlpImpl& model, const Points& points) {
  torch::NoGradGuard no_grad;
  model.eval();
  const torch::Tensor logits = model.forward(points.inputs);
  model.train();
  if (!torch::isfinite(logits).all().item<bool>()) return std::nullopt;
  const torch::Tensor predicted = logits.gt(0).to(torch::kFloat);
  return predicted.eq(points.targets).to(torch::kDouble).mean().item<double>();
}

// Adam (Kingma and Ba; LibTorch's defaults: betas 0.9, 0.999, eps 1e-8, no weight decay) over
// all parameters moved into one buffer, their gradients views of a second: a step is nine
// operations on ~1,300 numbers and allocates nothing. torch::optim::Adam dispatches about ten
// per parameter tensor (eight tensors here) and took a fifth of a ReLU proxy's time.
class FlatAdam {
 public:
  FlatAdam(const std::vector<torch::Tensor>& parameters, double learning_rate)
      : learning_rate_(learning_rate) {
    int64_t total = 0;
    for (const torch::Tensor& p : parameters) {
      TORCH_CHECK(p.scalar_type() == torch::kFloat, "the proxy trains float parameters only");
      total += p.numel();
    }
    values_ = torch::empty({total}, torch::kFloat);
    gradients_ = torch::zeros({total}, torch::kFloat);
    first_moment_ = torch::zeros({total}, torch::kFloat);
    second_moment_ = torch::zeros({total}, torch::kFloat);
    denominator_ = torch::empty({total}, torch::kFloat);
    torch::NoGradGuard no_grad;
    int64_t offset = 0;
    for (torch::Tensor p : parameters) {
      const int64_t n = p.numel();
      torch::Tensor value = values_.narrow(0, offset, n).view(p.sizes());
      value.copy_(p);
      // The module's own tensor now aliases the buffer, wherever it is held; autograd adds
      // each step's gradient into the preset view in place.
      p.set_data(value);
      p.mutable_grad() = gradients_.narrow(0, offset, n).view(p.sizes());
      offset += n;
    }
  }

  void ZeroGrad() { gradients_.zero_(); }

  void Step() {
    constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-8;
    torch::NoGradGuard no_grad;
    ++steps_;
    const double correction1 = 1 - std::pow(kBeta1, static_cast<double>(steps_));
    const double correction2 = 1 - std::pow(kBeta2, static_cast<double>(steps_));
    first_moment_.mul_(kBeta1).add_(gradients_, 1 - kBeta1);
    second_moment_.mul_(kBeta2).addcmul_(gradients_, gradients_, 1 - kBeta2);
    torch::sqrt_out(denominator_, second_moment_);
    denominator_.div_(std::sqrt(correction2)).add_(kEpsilon);
    values_.addcdiv_(first_moment_, denominator_, -learning_rate_ / correction1);
  }

 private:
  double learning_rate_;
  int64_t steps_ = 0;
  torch::Tensor values_, gradients_, first_moment_, second_moment_, denominator_;
};

void CheckOptions(const ProxyOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("proxy task: " + what);
  };
  require(o.steps > 0, "steps must be positive, got " + std::to_string(o.steps));
  require(o.hidden > 0, "hidden must be positive, got " + std::to_string(o.hidden));
  require(o.train_points > 0 && o.validation_points > 0 && o.test_points > 0,
          "every split needs at least one point");
  require(o.learning_rate > 0 && std::isfinite(o.learning_rate),
          "learning rate must be positive, got " + std::to_string(o.learning_rate));
  require(o.progress_every >= 0, "progress_every must not be negative");
  require(o.time_limit_seconds >= 0, "time limit must not be negative");
}

}  // namespace

TrainResult TrainProxy(const std::string& activation, const ProxyOptions& options,
                       const ProgressCallback& progress) {
  const auto start = Clock::now();
  CheckOptions(options);
  const ActivationFactory factory = MakeActivationFactory(activation);

  // One generator, drawn in a fixed order: the three splits, then the weights. Every candidate
  // of one seed sees the same points and the same initial weights.
  torch::Generator generator = at::detail::createCPUGenerator(options.seed);
  const Points train = TwoSpirals(options.train_points, generator);
  const Points validation = TwoSpirals(options.validation_points, generator);
  const Points test = TwoSpirals(options.test_points, generator);
  ProxyMlp model(options.hidden, factory, generator);
  FlatAdam optimizer(model->parameters(), options.learning_rate);

  TrainResult result;
  result.device = "cpu";
  for (const torch::Tensor& p : model->parameters()) result.parameters += p.numel();
  double loss_sum = 0;  // of the steps since the last curve point
  int64_t loss_count = 0;
  auto finish = [&](TrainStatus status, std::string error) {
    result.status = status;
    result.error = std::move(error);
    result.wall_seconds = Since(start);
    return result;
  };
  auto diverge = [&](std::string error) {
    result.validation_accuracy = 0;
    return finish(TrainStatus::kDiverged, std::move(error));
  };

  // The averaged weights, kept up to the last evaluation that judges them.
  std::optional<WeightAverage> average;
  const int64_t last_evaluation = LastEvaluationStep(options.steps, options.evaluate_at);
  if (options.evaluate_averaged_weights && last_evaluation > 0) {
    average.emplace(*model, last_evaluation);
  }

  model->train();
  for (int64_t step = 0; step < options.steps; ++step) {
    const torch::Tensor loss =
        torch::binary_cross_entropy_with_logits(model->forward(train.inputs), train.targets);
    // On the CPU reading the loss costs nothing, so a diverging candidate stops at once.
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value)) {
      result.final_loss.reset();
      return diverge("non-finite loss after " + std::to_string(step) + " steps");
    }
    optimizer.ZeroGrad();
    loss.backward();
    optimizer.Step();
    const int64_t done = step + 1;
    result.steps = done;
    result.final_loss = loss_value;
    loss_sum += loss_value;
    ++loss_count;
    if (average) average->Update();

    const bool evaluate =
        std::binary_search(options.evaluate_at.begin(), options.evaluate_at.end(), done);
    if (evaluate || (options.progress_every > 0 && done % options.progress_every == 0)) {
      // Evaluating 512 points costs about one training step, so every report carries the
      // validation accuracy the controller's early stopping can use.
      const std::optional<double> accuracy = Accuracy(*model, validation);
      if (!accuracy) {
        return diverge("non-finite outputs on the validation set at step " + std::to_string(done));
      }
      CurvePoint point{done, loss_sum / loss_count, accuracy, std::nullopt};
      if (average && evaluate) {
        const WeightAverage::Swapped swapped(*average);
        point.current_weights_accuracy = accuracy;
        // As TrainChild: non-finite averaged weights judge as worst, and the child trains on.
        point.validation_accuracy = Accuracy(*model, validation).value_or(0.0);
      } else if (average) {
        // A progress report between evaluations: every accuracy of the curve before its end
        // is then the averaged weights', as in TrainChild's (whose reports carry none).
        point.validation_accuracy.reset();
      }
      result.curve.push_back(point);
      loss_sum = 0;
      loss_count = 0;
      if (progress &&
          !progress({done, options.steps, point.loss, point.validation_accuracy, Since(start)})) {
        return finish(TrainStatus::kStopped, "stopped at step " + std::to_string(done));
      }
    }
    if (options.time_limit_seconds > 0 && Since(start) > options.time_limit_seconds) {
      result.validation_accuracy = Accuracy(*model, validation).value_or(0.0);
      return finish(TrainStatus::kTimedOut, "time limit of " +
                                                std::to_string(options.time_limit_seconds) +
                                                " s reached at step " + std::to_string(done));
    }
  }

  const std::optional<double> validation_accuracy = Accuracy(*model, validation);
  if (!validation_accuracy) return diverge("non-finite outputs on the validation set");
  result.validation_accuracy = *validation_accuracy;
  result.test_accuracy = Accuracy(*model, test);
  if (result.curve.empty() || result.curve.back().step != result.steps) {
    result.curve.push_back({result.steps, loss_sum / loss_count, std::nullopt, std::nullopt});
  }
  result.curve.back().validation_accuracy = validation_accuracy;
  return finish(TrainStatus::kDone, "");
}

}  // namespace actsearch::worker
