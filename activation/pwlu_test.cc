// PWLU: the CPU kernel and the LibTorch-operator path against the autograd reference, all
// three against finite differences; the module's two phases, its statistics and its in-place
// alignment.
#include "activation/pwlu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "search_space/parser.h"

namespace actsearch {
namespace {

// Random tables for `units` units of `n` intervals: bounds differ per unit, points and
// slopes are arbitrary (not a ReLU), so that every gradient is exercised.
PwluTables RandomTables(int64_t units, int64_t n, torch::Dtype dtype) {
  torch::manual_seed(21);
  const auto o = torch::TensorOptions().dtype(dtype);
  const torch::Tensor left = -2 + torch::rand({units}, o);
  return {left.requires_grad_(), (left.detach() + 3 + torch::rand({units}, o)).requires_grad_(),
          torch::randn({units, n + 1}, o).requires_grad_(),
          torch::randn({units}, o).requires_grad_(), torch::randn({units}, o).requires_grad_()};
}

// The same tables in double precision, as new leaves.
PwluTables InDouble(const PwluTables& t) {
  auto leaf = [](const torch::Tensor& v) {
    return v.detach().to(torch::kDouble).requires_grad_(true);
  };
  return {leaf(t.left_bound), leaf(t.right_bound), leaf(t.points), leaf(t.left_slope),
          leaf(t.right_slope)};
}

std::vector<torch::Tensor> AsList(const PwluTables& t) {
  return {t.left_bound, t.right_bound, t.points, t.left_slope, t.right_slope};
}
const char* const kTableNames[] = {"left_bound", "right_bound", "points", "left_slope",
                                   "right_slope"};

// The unit tables broadcast over x's channel dimension.
torch::Tensor PerUnit(const torch::Tensor& v, const torch::Tensor& x) {
  std::vector<int64_t> shape(x.dim(), 1);
  shape[1] = v.numel();
  return v.detach().view(shape);
}

// Inputs at least a tenth of an interval away from every kink (grid points and bounds), on
// both sides and outside the range, so that central differences never straddle one.
torch::Tensor InputAwayFromKinks(const PwluTables& t, std::vector<int64_t> shape) {
  const int64_t n = t.points.size(1) - 1;
  const auto o = torch::TensorOptions().dtype(t.points.scalar_type());
  const torch::Tensor x = torch::zeros(shape, o);
  const torch::Tensor step = (PerUnit(t.right_bound, x) - PerUnit(t.left_bound, x)) / n;
  const torch::Tensor interval = torch::randint(-3, n + 3, shape, o);
  const torch::Tensor fraction = 0.1 + 0.8 * torch::rand(shape, o);
  return PerUnit(t.left_bound, x) + (interval + fraction) * step;
}

using Formulation = std::function<torch::Tensor(const torch::Tensor&, const PwluTables&)>;

struct Gradients {
  torch::Tensor y, x;
  std::vector<torch::Tensor> tables;
};

Gradients Differentiate(const Formulation& f, const torch::Tensor& x, const PwluTables& t,
                        const torch::Tensor& weight) {
  const torch::Tensor leaf = x.detach().requires_grad_(true);
  for (torch::Tensor p : AsList(t)) p.mutable_grad().reset();
  const torch::Tensor y = f(leaf, t);
  (y * weight).sum().backward();
  Gradients g{y.detach(), leaf.grad(), {}};
  for (const torch::Tensor& p : AsList(t)) g.tables.push_back(p.grad().clone());
  return g;
}

void ExpectClose(const torch::Tensor& actual, const torch::Tensor& expected, double rtol,
                 double atol, const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  EXPECT_TRUE(torch::allclose(actual, expected, rtol, atol))
      << what << ": max difference " << (actual - expected).abs().max().item<double>();
}

const Formulation kKernel = [](const torch::Tensor& x, const PwluTables& t) {
  return PiecewiseLinear(x, t);
};
const Formulation kTorchOps = [](const torch::Tensor& x, const PwluTables& t) {
  return PiecewiseLinearWithTorchOps(x, t);
};
const Formulation kReference = [](const torch::Tensor& x, const PwluTables& t) {
  return PiecewiseLinearReference(x, t);
};

TEST(Pwlu, GradientsMatchFiniteDifferencesPerChannelAndPerLayer) {
  for (int64_t units : {3, 1}) {
    const PwluTables t = RandomTables(units, 4, torch::kDouble);
    const torch::Tensor x = InputAwayFromKinks(t, {5, 3, 4, 4});
    const torch::Tensor weight = torch::randn_like(x);
    for (const auto& [name, f] : {std::pair{"kernel", kKernel}, std::pair{"torch ops", kTorchOps},
                                  std::pair{"reference", kReference}}) {
      const std::string what = std::string(name) + (units == 1 ? " per layer" : " per channel");
      const Gradients g = Differentiate(f, x, t, weight);
      torch::NoGradGuard no_grad;
      auto loss = [&](const torch::Tensor& input) { return (f(input, t) * weight).sum(); };
      const double h = 1e-6;
      // y depends on x elementwise: one pair of evaluations differentiates every element.
      const torch::Tensor numeric_x = (f(x + h, t) - f(x - h, t)) * weight / (2 * h);
      ExpectClose(g.x, numeric_x, 1e-6, 1e-8, what + " d/dx");
      const std::vector<torch::Tensor> tables = AsList(t);
      for (size_t k = 0; k < tables.size(); ++k) {
        const torch::Tensor flat = tables[k].view({-1});
        torch::Tensor numeric = torch::empty_like(flat);
        for (int64_t j = 0; j < flat.numel(); ++j) {
          const double saved = flat[j].item<double>();
          flat[j] = saved + h;
          const double up = loss(x).item<double>();
          flat[j] = saved - h;
          const double down = loss(x).item<double>();
          flat[j] = saved;
          numeric[j] = (up - down) / (2 * h);
        }
        ExpectClose(g.tables[k].view({-1}), numeric, 1e-6, 1e-7, what + " d/d" + kTableNames[k]);
      }
    }
  }
}

TEST(Pwlu, KernelAndTorchOpsPathEqualTheReferenceInEveryLayout) {
  struct Layout {
    std::string name;
    std::vector<int64_t> shape;
    bool channels_last;
  };
  const std::vector<Layout> layouts = {{"[N, C]", {64, 5}, false},
                                       {"[N, C, H, W]", {6, 5, 7, 9}, false},
                                       {"channels_last", {6, 5, 7, 9}, true},
                                       {"[N, C, L]", {6, 5, 11}, false}};
  // Rows wider than the kernel's tiles, and planes split over many tasks.
  const std::vector<Layout> large = {{"[N, C] wide", {3, 5000}, false},
                                     {"[N, C, H, W] large", {16, 5, 32, 32}, false},
                                     {"channels_last large", {16, 5, 32, 32}, true}};
  for (torch::Dtype dtype : {torch::kFloat, torch::kDouble}) {
    const bool is_float = dtype == torch::kFloat;
    for (bool per_channel : {true, false}) {
      std::vector<Layout> all = layouts;
      all.insert(all.end(), large.begin(), large.end());
      for (const Layout& layout : all) {
        const int64_t units = per_channel ? layout.shape[1] : 1;
        const PwluTables t = RandomTables(units, 16, dtype);
        torch::Tensor x = 2.5 * torch::randn(layout.shape, dtype);
        if (layout.channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
        ASSERT_TRUE(PwluKernelSupports(x));
        const torch::Tensor weight = torch::randn_like(x);
        const std::string what = layout.name + (units == 1 ? " per layer" : " per channel") +
                                 (is_float ? " float" : " double");
        const Gradients reference = Differentiate(kReference, x, t, weight);
        // The table gradients sum over every element of a unit. In float, against the exact
        // sums of the double formulation: summing n terms of size ~1 in float may be off by
        // about n * 6e-8 in the worst case; 2e-7 n allows three times that.
        const Gradients exact =
            Differentiate(kReference, x.to(torch::kDouble), InDouble(t), weight.to(torch::kDouble));
        for (const auto& [name, f] :
             {std::pair{" kernel", kKernel}, std::pair{" torch ops", kTorchOps}}) {
          const Gradients g = Differentiate(f, x, t, weight);
          const double tol = is_float ? 1e-5 : 1e-12;
          ExpectClose(g.y, reference.y, tol, tol, what + name + " y");
          ExpectClose(g.x, reference.x, tol, tol, what + name + " d/dx");
          EXPECT_EQ(g.y.strides(), x.strides()) << what << name << ": layout kept";
          const double sum_tol = is_float ? 1e-4 + 2e-7 * x.numel() : 1e-10;
          for (size_t k = 0; k < g.tables.size(); ++k) {
            ExpectClose(g.tables[k].to(torch::kDouble), exact.tables[k], sum_tol, sum_tol,
                        what + name + " d/d" + kTableNames[k]);
          }
        }
        const Gradients kernel = Differentiate(kKernel, x, t, weight);
        EXPECT_EQ(kernel.x.strides(), x.strides()) << what << ": layout kept";
      }
    }
  }
}

TEST(Pwlu, KernelGradientsRepeatBitForBit) {
  const PwluTables t = RandomTables(16, 16, torch::kFloat);
  const torch::Tensor x = torch::randn({64, 16, 16, 16});
  const torch::Tensor weight = torch::randn_like(x);
  const Gradients first = Differentiate(kKernel, x, t, weight);
  const Gradients second = Differentiate(kKernel, x, t, weight);
  for (size_t k = 0; k < first.tables.size(); ++k) {
    EXPECT_TRUE(torch::equal(first.tables[k], second.tables[k])) << kTableNames[k];
  }
}

TEST(Pwlu, OtherInputsTakeTheTorchOpsPathAndAgree) {
  const PwluTables t = RandomTables(6, 8, torch::kFloat);
  const torch::Tensor base = 2 * torch::randn({4, 12, 5, 5});
  const torch::Tensor strided = base.slice(1, 0, 12, 2);  // 6 channels, not dense
  ASSERT_FALSE(PwluKernelSupports(strided));
  const torch::Tensor weight = torch::randn(strided.sizes());
  const Gradients fallback = Differentiate(kKernel, strided, t, weight);
  const Gradients kernel = Differentiate(kKernel, strided.contiguous(), t, weight);
  ExpectClose(fallback.y, kernel.y, 1e-5, 1e-5, "strided y");
  ExpectClose(fallback.x, kernel.x, 1e-5, 1e-5, "strided d/dx");
  for (size_t k = 0; k < kernel.tables.size(); ++k) {
    ExpectClose(fallback.tables[k], kernel.tables[k], 1e-4, 1e-4, kTableNames[k]);
  }
  // bf16 is computed in float and handed back in bf16.
  const torch::Tensor y = PiecewiseLinear(strided.to(torch::kBFloat16), t);
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  ExpectClose(y.to(torch::kFloat),
              PiecewiseLinear(strided.to(torch::kBFloat16).to(torch::kFloat), t), 1e-2, 1e-2,
              "bf16");
}

// A batch whose channel c has mean[c] and standard deviation std[c].
torch::Tensor Batch(const std::vector<double>& mean, const std::vector<double>& sigma) {
  const int64_t c = static_cast<int64_t>(mean.size());
  return torch::randn({16, c, 6, 6}) * torch::tensor(sigma).to(torch::kFloat).view({1, c, 1, 1}) +
         torch::tensor(mean).to(torch::kFloat).view({1, c, 1, 1});
}

struct Moments {
  double mean, std;
};
Moments MomentsOf(const torch::Tensor& values) {
  const torch::Tensor v = values.to(torch::kDouble);
  const double mean = v.mean().item<double>();
  return {mean, std::sqrt((v - mean).pow(2).mean().item<double>())};
}

TEST(Pwlu, AlignmentSetsTheBoundsFromTheRunningStatistics) {
  torch::manual_seed(22);
  const std::vector<double> mean = {-1.0, 0.5, 2.0}, sigma = {0.5, 1.0, 2.0};
  for (bool per_channel : {true, false}) {
    Pwlu pwlu(PwluOptions(3).per_channel(per_channel).warmup_steps(20));
    const int64_t units = per_channel ? 3 : 1;
    // The running statistics replayed here: r = 0.9 r + 0.1 batch, from mean 0 and std 1.
    std::vector<double> running_mean(units, 0.0), running_std(units, 1.0);
    for (int step = 0; step < 20; ++step) {
      const torch::Tensor x = Batch(mean, sigma);
      for (int64_t u = 0; u < units; ++u) {
        const Moments m = MomentsOf(per_channel ? x.select(1, u) : x);
        running_mean[u] = 0.9 * running_mean[u] + 0.1 * m.mean;
        running_std[u] = 0.9 * running_std[u] + 0.1 * m.std;
      }
      pwlu->forward(x);
      EXPECT_FALSE(pwlu->aligned());
    }
    EXPECT_EQ(pwlu->tracked_steps(), 20);
    pwlu->forward(Batch(mean, sigma));  // the 21st call aligns, then runs as a PWLU
    ASSERT_TRUE(pwlu->aligned());
    const PwluTables t = pwlu->tables();
    for (int64_t u = 0; u < units; ++u) {
      const std::string what = (per_channel ? "channel " : "layer ") + std::to_string(u);
      EXPECT_NEAR(pwlu->running_mean()[u].item<double>(), running_mean[u], 1e-5) << what;
      EXPECT_NEAR(pwlu->running_std()[u].item<double>(), running_std[u], 1e-5) << what;
      const double left = running_mean[u] - 3 * running_std[u];
      const double right = running_mean[u] + 3 * running_std[u];
      EXPECT_NEAR(t.left_bound[u].item<double>(), left, 1e-5) << what;
      EXPECT_NEAR(t.right_bound[u].item<double>(), right, 1e-5) << what;
      // Resampled as ReLU: Y_i = relu(grid), K_L = 0, K_R = 1.
      const torch::Tensor grid = torch::linspace(left, right, 17, torch::kDouble);
      ExpectClose(t.points[u].to(torch::kDouble), grid.relu(), 1e-5, 1e-5, what + " points");
      EXPECT_EQ(t.left_slope[u].item<double>(), 0.0);
      EXPECT_EQ(t.right_slope[u].item<double>(), 1.0);
    }
    if (per_channel) {  // the per-channel statistics are really per channel
      EXPECT_LT(t.left_bound[0].item<double>(), -1.5);
      EXPECT_GT(t.right_bound[2].item<double>(), 5.0);
    }
  }
}

TEST(Pwlu, WarmupIsTheInitialShapeWithFrozenParameters) {
  torch::manual_seed(23);
  for (const char* init : {"relu", "x * sigmoid(beta * x)"}) {
    PwluOptions options(4);
    options.warmup_steps(3);
    if (std::string(init) != "relu") options.init(Parse(init));
    Pwlu pwlu(options);
    for (int step = 0; step < 3; ++step) {
      const torch::Tensor x = (2 * torch::randn({8, 4, 5, 5})).requires_grad_(true);
      const torch::Tensor y = pwlu->forward(x);
      const torch::Tensor expected = std::string(init) == "relu" ? x.relu() : torch::silu(x);
      ExpectClose(y, expected, 1e-6, 1e-6, init);
      y.sum().backward();
      EXPECT_TRUE(x.grad().defined()) << init;
      for (const auto& p : pwlu->named_parameters()) {
        EXPECT_FALSE(p.value().grad().defined()) << init << ": " << p.key() << " is frozen";
      }
    }
    EXPECT_FALSE(pwlu->aligned());
    // Aligned: every parameter trains (inputs wide enough to reach both outer pieces).
    const torch::Tensor x = 3 * torch::randn({8, 4, 5, 5});
    (pwlu->forward(x) * torch::randn_like(x)).sum().backward();
    ASSERT_TRUE(pwlu->aligned());
    for (const auto& p : pwlu->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << init << ": " << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << init << ": " << p.key();
    }
  }
}

TEST(Pwlu, EvalModeFreezesTheStatisticsAndThePhase) {
  Pwlu pwlu(PwluOptions(3).warmup_steps(2));
  pwlu->forward(Batch({1, 2, 3}, {1, 1, 1}));  // one tracked step
  const torch::Tensor mean = pwlu->running_mean().clone();
  const torch::Tensor running_std = pwlu->running_std().clone();
  pwlu->eval();
  for (int i = 0; i < 5; ++i) {
    const torch::Tensor x = Batch({-4, 0, 9}, {3, 3, 3});
    EXPECT_TRUE(torch::equal(pwlu->forward(x), x.relu()));
  }
  EXPECT_TRUE(torch::equal(pwlu->running_mean(), mean));
  EXPECT_TRUE(torch::equal(pwlu->running_std(), running_std));
  EXPECT_EQ(pwlu->tracked_steps(), 1);
  EXPECT_FALSE(pwlu->aligned());
  pwlu->train();
  pwlu->forward(Batch({1, 2, 3}, {1, 1, 1}));
  EXPECT_EQ(pwlu->tracked_steps(), 2);
}

TEST(Pwlu, BuffersKeepNoAutogradHistory) {
  Pwlu pwlu(PwluOptions(3).warmup_steps(2));
  for (int i = 0; i < 3; ++i) {
    const torch::Tensor x = Batch({1, 2, 3}, {1, 1, 1}).requires_grad_(true);
    pwlu->forward(x * 2).sum().backward();
  }
  ASSERT_TRUE(pwlu->aligned());
  for (const auto& b : pwlu->named_buffers()) {
    EXPECT_FALSE(b.value().requires_grad()) << b.key();
    EXPECT_EQ(b.value().grad_fn(), nullptr) << b.key();
  }
  for (const auto& p : pwlu->named_parameters()) {
    EXPECT_EQ(p.value().grad_fn(), nullptr) << p.key() << " is still a leaf";
  }
}

TEST(Pwlu, AlignmentResetsTheParametersInPlaceUnderTheOptimizer) {
  Pwlu pwlu(PwluOptions(3).warmup_steps(2));
  torch::optim::SGD sgd(pwlu->parameters(), torch::optim::SGDOptions(0.1));
  std::vector<void*> storage;
  for (const torch::Tensor& p : pwlu->parameters()) storage.push_back(p.data_ptr());
  const torch::Tensor before = pwlu->tables().left_bound.clone();
  for (int step = 0; step < 4; ++step) {
    sgd.zero_grad();
    // The input needs a gradient, as a layer's input does: in phase 1 nothing else has one.
    const torch::Tensor x = Batch({4, 5, 6}, {1, 1, 1}).requires_grad_(true);
    pwlu->forward(x).pow(2).mean().backward();
    sgd.step();
  }
  ASSERT_TRUE(pwlu->aligned());
  EXPECT_FALSE(torch::allclose(pwlu->tables().left_bound, before)) << "the bounds moved";
  const std::vector<torch::Tensor> parameters = pwlu->parameters();
  const std::vector<torch::Tensor>& held = sgd.param_groups()[0].params();
  ASSERT_EQ(held.size(), parameters.size());
  for (size_t k = 0; k < parameters.size(); ++k) {
    EXPECT_EQ(parameters[k].data_ptr(), storage[k]) << "parameter " << k << " same storage";
    EXPECT_TRUE(held[k].is_same(parameters[k])) << "the optimizer holds parameter " << k;
  }
  // And the optimizer's steps reach the aligned unit.
  const torch::Tensor points = pwlu->tables().points.clone();
  sgd.zero_grad();
  pwlu->forward(Batch({4, 5, 6}, {1, 1, 1})).pow(2).mean().backward();
  sgd.step();
  EXPECT_FALSE(torch::equal(pwlu->tables().points, points));
}

TEST(Pwlu, SwishInitialisationApproximatesSwishOnTheRange) {
  Pwlu pwlu(PwluOptions(2).init(Parse("x * sigmoid(beta * x)")).warmup_steps(0));
  pwlu->forward(torch::zeros({1, 2}));  // aligns at once, on mean 0 and std 1: [-3, 3]
  ASSERT_TRUE(pwlu->aligned());
  pwlu->eval();
  const PwluTables t = pwlu->tables();
  EXPECT_NEAR(t.left_bound[0].item<double>(), -3.0, 1e-6);
  EXPECT_NEAR(t.right_bound[1].item<double>(), 3.0, 1e-6);
  // Interpolating f at the grid is off by at most d^2 / 8 * max|f''| between grid points;
  // for swish max|f''| = |f''(0)| = 0.5, and d = 6 / 16.
  const double d = 6.0 / 16;
  const double bound = d * d / 8 * 0.5;
  const torch::Tensor x = torch::linspace(-3, 3 - 1e-6, 4001).view({-1, 1}).expand({-1, 2});
  const torch::Tensor error = (pwlu->forward(x.contiguous()) - torch::silu(x)).abs().max();
  EXPECT_LT(error.item<double>(), bound + 1e-6);
  EXPECT_GT(error.item<double>(), bound / 4) << "the bound is not loose by orders of magnitude";
  // Outer slopes: swish'(x) = s(x) (1 + x (1 - s(x))) at the bounds.
  auto slope = [](double v) {
    const double s = 1 / (1 + std::exp(-v));
    return s * (1 + v * (1 - s));
  };
  EXPECT_NEAR(t.left_slope[0].item<double>(), slope(-3), 1e-6);
  EXPECT_NEAR(t.right_slope[0].item<double>(), slope(3), 1e-6);
}

TEST(Pwlu, ThePhaseSurvivesACheckpoint) {
  Pwlu trained(PwluOptions(3).warmup_steps(1));
  trained->forward(Batch({1, 2, 3}, {1, 2, 3}));
  trained->forward(Batch({1, 2, 3}, {1, 2, 3}));
  ASSERT_TRUE(trained->aligned());
  std::stringstream checkpoint;
  torch::save(trained, checkpoint);
  Pwlu restored(PwluOptions(3).warmup_steps(1));
  torch::load(restored, checkpoint);
  EXPECT_TRUE(restored->aligned());
  EXPECT_EQ(restored->tracked_steps(), 1);
  EXPECT_TRUE(torch::equal(restored->tables().left_bound, trained->tables().left_bound));
  restored->eval();
  trained->eval();
  const torch::Tensor x = Batch({1, 2, 3}, {1, 2, 3});
  EXPECT_TRUE(torch::equal(restored->forward(x), trained->forward(x)));
}

TEST(Pwlu, RejectsInputWithTheWrongChannelCount) {
  Pwlu pwlu(PwluOptions(4));
  EXPECT_THROW(pwlu->forward(torch::randn({2, 3, 4, 4})), c10::Error);
  EXPECT_THROW(Pwlu(PwluOptions(4).intervals(0)), c10::Error);
}

TEST(Pwlu, WorksOnCudaLikeOnTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(24);
  Pwlu on_cpu(PwluOptions(3).warmup_steps(2));
  Pwlu on_gpu(PwluOptions(3).warmup_steps(2));
  on_gpu->to(torch::kCUDA);
  for (int step = 0; step < 4; ++step) {
    const torch::Tensor x = Batch({1, 2, 3}, {1, 2, 3});
    // Inputs that need a gradient, as a layer's do: in phase 1 nothing else has one.
    const torch::Tensor y_cpu = on_cpu->forward(x.requires_grad_(true));
    const torch::Tensor y_gpu = on_gpu->forward(x.detach().cuda().requires_grad_(true));
    ExpectClose(y_gpu.cpu(), y_cpu, 1e-4, 1e-4, "y at step " + std::to_string(step));
    (y_cpu * y_cpu).sum().backward();
    (y_gpu * y_gpu).sum().backward();
  }
  ASSERT_TRUE(on_gpu->aligned());
  const auto cpu_parameters = on_cpu->parameters();
  const auto gpu_parameters = on_gpu->parameters();
  for (size_t k = 0; k < cpu_parameters.size(); ++k) {
    ExpectClose(gpu_parameters[k].grad().cpu(), cpu_parameters[k].grad(), 1e-3, 1e-3,
                kTableNames[k]);
  }
}

}  // namespace
}  // namespace actsearch
