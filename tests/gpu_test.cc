// What only a GPU can check: the fused activation and the trainer on CUDA, bf16 autocast
// included. Every test is skipped where CUDA is not available (CI has no GPU); run them on a
// GPU machine with bench/gpu_session.sh, which also measures training throughput there.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>

#include "activation/expression_activation.h"
#include "activation/pwlu.h"
#include "activation/sugar.h"
#include "activation/torch_compat.h"
#include "search_space/parser.h"
#include "worker/synthetic.h"
#include "worker/trainer.h"

namespace actsearch {
namespace {

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

#ifdef ACTSEARCH_GENERATED_KERNELS
// The generated kernels' disk cache, fresh for this run (set before any kernel loads), so
// that a test can see that they were compiled and used rather than silently replaced.
const std::filesystem::path& KernelCache() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path d = std::filesystem::temp_directory_path() /
                                    ("actsearch_gpu_test_kernels_" + std::to_string(getpid()));
    setenv("ACTSEARCH_KERNEL_CACHE", d.c_str(), 1);
    return d;
  }();
  return dir;
}
const bool kKernelCacheSet = !KernelCache().empty();

int CachedKernelCount() {
  int count = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(KernelCache(), error)) {
    count += entry.path().extension() == ".cubin";
  }
  return count;
}
#endif

// Largest difference relative to the reference's scale, as one number for messages.
double RelativeError(const torch::Tensor& got, const torch::Tensor& want) {
  const torch::Tensor w = want.to(torch::kDouble);
  const double scale = 1 + w.abs().max().item<double>();
  return (got.cpu().to(torch::kDouble) - w).abs().max().item<double>() / scale;
}

struct Gradients {
  torch::Tensor y, x, betas;
};

Gradients RunActivation(const std::string& expression, const torch::Tensor& x_in,
                        const torch::Tensor& betas_in, const torch::Tensor& upstream) {
  ExpressionActivation activation(ExpressionActivationOptions(Parse(expression), x_in.size(1)));
  activation->to(x_in.device());
  {
    torch::NoGradGuard no_grad;
    if (betas_in.numel() > 0) activation->betas().copy_(betas_in);
  }
  torch::Tensor x = x_in.detach().clone().requires_grad_(true);
  torch::Tensor y = activation->forward(x);
  y.backward(upstream);
  torch::Tensor grad_betas =
      activation->betas().numel() > 0 ? activation->betas().grad() : torch::Tensor();
  return {y.detach(), x.grad(), grad_betas};
}

TEST(Gpu, FusedActivationOnCudaMatchesTheCpuKernel) {
  SKIP_WITHOUT_CUDA();
  torch::manual_seed(0);
  for (const std::string expression :
       {"x * sigmoid(beta * x)", "max(x, sigmoid(x)) * tanh(beta + x)", "x / (beta + abs(x))"}) {
    SCOPED_TRACE(expression);
    const Program program(Parse(expression));
    const int64_t channels = 16;
    const torch::Tensor x = torch::randn({8, channels, 5, 5}) * 3;
    const torch::Tensor betas = torch::rand({program.num_betas(), channels}) + 0.5;
    const torch::Tensor upstream = torch::randn_like(x);
    const Gradients cpu = RunActivation(expression, x, betas, upstream);
    for (const bool channels_last : {false, true}) {
      torch::Tensor x_cuda = x.to(torch::kCUDA);
      if (channels_last) x_cuda = x_cuda.contiguous(torch::MemoryFormat::ChannelsLast);
      const Gradients gpu =
          RunActivation(expression, x_cuda, betas.to(torch::kCUDA), upstream.to(torch::kCUDA));
      EXPECT_TRUE(torch::allclose(gpu.y.cpu(), cpu.y, 1e-5, 1e-5));
      EXPECT_TRUE(torch::allclose(gpu.x.cpu(), cpu.x, 1e-4, 1e-5));
      if (cpu.betas.defined()) {
        EXPECT_TRUE(torch::allclose(gpu.betas.cpu(), cpu.betas, 1e-3, 1e-3))
            << gpu.betas.cpu() << cpu.betas;
      }
    }
  }
}

TEST(Gpu, UnderBf16AutocastTheActivationStaysBf16AndBetasGetFloatGradients) {
  SKIP_WITHOUT_CUDA();
  ExpressionActivation activation(ExpressionActivationOptions(Parse("x * sigmoid(beta * x)"), 4));
  activation->to(torch::kCUDA);
  const torch::Tensor x =
      torch::randn({2, 4, 3, 3}, torch::dtype(torch::kBFloat16).device(torch::kCUDA))
          .requires_grad_(true);
  const torch::Tensor y = activation->forward(x);
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  y.sum().backward();
  EXPECT_EQ(x.grad().scalar_type(), torch::kBFloat16);
  ASSERT_TRUE(activation->betas().grad().defined());
  EXPECT_EQ(activation->betas().grad().scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::isfinite(activation->betas().grad()).all().item<bool>());
}

#ifdef ACTSEARCH_GENERATED_KERNELS
TEST(Gpu, TheGeneratedKernelsAreCompiledCachedAndUsed) {
  SKIP_WITHOUT_CUDA();
  const int before = CachedKernelCount();
  const torch::Tensor x = torch::randn({4, 8, 3, 3}, torch::kCUDA);
  RunActivation("u1 = x + beta; u1 * sigmoid(u1) - tanh(x)", x, torch::ones({1, 8}).cuda(),
                torch::ones_like(x));
  EXPECT_EQ(CachedKernelCount(), before + 1) << "no cubin in " << KernelCache();
}
#endif

TEST(Gpu, TheActivationInBf16MatchesTheCpuKernelOnTheSameInput) {
  SKIP_WITHOUT_CUDA();
  torch::manual_seed(1);
  const std::string expression = "max(x, sigmoid(x)) * tanh(beta + x)";
  const torch::Tensor x = (torch::randn({8, 16, 5, 5}) * 3).to(torch::kBFloat16).to(torch::kFloat);
  const torch::Tensor betas = torch::rand({1, 16}) + 0.5;
  const torch::Tensor upstream = torch::randn_like(x).to(torch::kBFloat16).to(torch::kFloat);
  const Gradients cpu = RunActivation(expression, x, betas, upstream);
  for (const bool channels_last : {false, true}) {
    SCOPED_TRACE(channels_last ? "channels-last" : "NCHW");
    torch::Tensor x_cuda = x.to(torch::kCUDA, torch::kBFloat16);
    if (channels_last) x_cuda = x_cuda.contiguous(torch::MemoryFormat::ChannelsLast);
    const Gradients gpu = RunActivation(expression, x_cuda, betas.cuda(),
                                        upstream.to(torch::kCUDA, torch::kBFloat16));
    EXPECT_EQ(gpu.y.scalar_type(), torch::kBFloat16);
    // bf16 keeps 8 bits: one rounding of the result, float math inside.
    EXPECT_LT(RelativeError(gpu.y, cpu.y), 1e-2);
    EXPECT_LT(RelativeError(gpu.x, cpu.x), 1e-2);
    EXPECT_LT(RelativeError(gpu.betas, cpu.betas), 1e-2);
  }
}

TEST(Gpu, SugarsBackwardOnCudaMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({8, 16, 5, 5}) * 3;
  const torch::Tensor upstream = torch::randn_like(x);
  for (const Surrogate& surrogate :
       {Surrogate::BSilu(), Surrogate::Nelu(), Surrogate::Gelu(), Surrogate::Mish(),
        Surrogate::FromExpression(Parse("x * sigmoid(beta * x)"))}) {
    for (const SugarVariant variant : {SugarVariant::kEverywhere, SugarVariant::kNegativeOnly}) {
      SCOPED_TRACE(surrogate.Name() + ", " + SugarVariantName(variant));
      auto gradient = [&](const torch::Tensor& input, const torch::Tensor& gy) {
        const torch::Tensor leaf = input.detach().clone().requires_grad_(true);
        const torch::Tensor y = SugarRelu(leaf, surrogate, variant);
        y.backward(gy);
        EXPECT_TRUE(torch::equal(y.detach().cpu().to(torch::kFloat),
                                 torch::relu(input).cpu().to(torch::kFloat)));
        return leaf.grad();
      };
      const torch::Tensor cpu = gradient(x, upstream);
      EXPECT_LT(RelativeError(gradient(x.cuda(), upstream.cuda()), cpu), 1e-5);
      const torch::Tensor x_cl = x.cuda().contiguous(torch::MemoryFormat::ChannelsLast);
      EXPECT_LT(RelativeError(gradient(x_cl, upstream.cuda()), cpu), 1e-5);
      const torch::Tensor bf16 = gradient(x.to(torch::kCUDA, torch::kBFloat16),
                                          upstream.to(torch::kCUDA, torch::kBFloat16));
      EXPECT_EQ(bf16.scalar_type(), torch::kBFloat16);
      EXPECT_LT(RelativeError(bf16, cpu), 3e-2);
    }
  }
}

TEST(Gpu, PwluOnCudaMatchesTheCpuKernelInEveryLayout) {
  SKIP_WITHOUT_CUDA();
  torch::manual_seed(3);
  const int64_t channels = 16, intervals = 16;
  for (const int64_t units : {channels, int64_t{1}}) {
    PwluTables t{torch::full({units}, -2.0), torch::full({units}, 1.5),
                 torch::randn({units, intervals + 1}), torch::full({units}, 0.1),
                 torch::full({units}, 1.2)};
    t.left_bound += torch::rand({units}) * 0.3;
    const torch::Tensor x = torch::randn({8, channels, 6, 6}) * 2;
    const torch::Tensor upstream = torch::randn_like(x);
    auto run = [&](const torch::Tensor& input, const torch::Tensor& gy, torch::Device device) {
      std::vector<torch::Tensor> leaves = {input.detach().clone().requires_grad_(true)};
      for (const torch::Tensor* p :
           {&t.left_bound, &t.right_bound, &t.points, &t.left_slope, &t.right_slope}) {
        leaves.push_back(p->to(device).detach().requires_grad_(true));
      }
      const torch::Tensor y =
          PiecewiseLinear(leaves[0], {leaves[1], leaves[2], leaves[3], leaves[4], leaves[5]});
      y.backward(gy);
      std::vector<torch::Tensor> out = {y.detach()};
      for (const torch::Tensor& leaf : leaves) out.push_back(leaf.grad());
      return out;
    };
    const auto cpu = run(x, upstream, torch::kCPU);
    for (const bool channels_last : {false, true}) {
      SCOPED_TRACE(std::to_string(units) + " units, " + (channels_last ? "channels-last" : "NCHW"));
      torch::Tensor x_cuda = x.cuda();
      if (channels_last) x_cuda = x_cuda.contiguous(torch::MemoryFormat::ChannelsLast);
      const auto gpu = run(x_cuda, upstream.cuda(), torch::kCUDA);
      const char* names[] = {"y",      "x",          "left bound", "right bound",
                             "points", "left slope", "right slope"};
      for (size_t k = 0; k < cpu.size(); ++k) {
        EXPECT_LT(RelativeError(gpu[k], cpu[k]), 1e-4) << names[k];
      }
    }
  }
}

worker::TrainOptions OnCuda(const std::string& activation, int64_t steps) {
  worker::TrainOptions o;
  o.activation = activation;
  o.profile = worker::ProfileByName("test");
  o.profile.steps = steps;
  o.profile.eval_every = 0;
  o.model = "resnet8";
  o.seed = 3;
  o.device = "cuda";
  o.bf16 = true;
  o.channels_last = true;
  return o;
}

const worker::DatasetSplits& Synthetic() {
  static const worker::DatasetSplits data = worker::MakeSyntheticDataset(1200, 300, 4, 11);
  return data;
}

TEST(Gpu, ATinyResNetLearnsOnCudaWithBf16AndChannelsLast) {
  SKIP_WITHOUT_CUDA();
  for (const std::string activation : {"relu", "x * sigmoid(beta * x)"}) {
    SCOPED_TRACE(activation);
    const worker::TrainResult r = worker::TrainChild(Synthetic(), OnCuda(activation, 120));
    EXPECT_EQ(r.status, worker::TrainStatus::kDone) << r.error;
    EXPECT_GT(r.validation_accuracy, 0.6) << "chance is 0.25";
    EXPECT_EQ(r.device.rfind("cuda", 0), 0u) << r.device;
  }
}

TEST(Gpu, AnExplodingCandidateDivergesOnCudaToo) {
  SKIP_WITHOUT_CUDA();
  for (const bool graph : {true, false}) {
    SCOPED_TRACE(graph ? "CUDA graph" : "eager");
    worker::TrainOptions options = OnCuda("exp(exp(x))", 60);
    options.cuda_graph = graph;
    const worker::TrainResult r = worker::TrainChild(Synthetic(), options);
    EXPECT_EQ(r.status, worker::TrainStatus::kDiverged);
    EXPECT_EQ(r.validation_accuracy, 0.0);
  }
}

// The graph replays the eager step: same data, same initialisation, the same training up to
// float reordering (cuDNN may pick other algorithms run to run), in float so that bf16's
// rounding does not hide a difference.
TEST(Gpu, AGraphedChildTrainsLikeAnEagerOne) {
  SKIP_WITHOUT_CUDA();
  for (const std::string activation : {"relu", "x * sigmoid(beta * x)"}) {
    SCOPED_TRACE(activation);
    worker::TrainOptions options = OnCuda(activation, 40);
    options.bf16 = false;
    options.cuda_graph = false;
    const worker::TrainResult eager = worker::TrainChild(Synthetic(), options);
    options.cuda_graph = true;
    const worker::TrainResult graphed = worker::TrainChild(Synthetic(), options);
    EXPECT_FALSE(eager.cuda_graph);
    EXPECT_TRUE(graphed.cuda_graph) << "the step was not captured";
    ASSERT_EQ(eager.status, worker::TrainStatus::kDone) << eager.error;
    ASSERT_EQ(graphed.status, worker::TrainStatus::kDone) << graphed.error;
    ASSERT_TRUE(eager.final_loss && graphed.final_loss);
    EXPECT_NEAR(*graphed.final_loss, *eager.final_loss, 2e-2 * (1 + *eager.final_loss));
    EXPECT_NEAR(graphed.validation_accuracy, eager.validation_accuracy, 0.05);
  }
}

}  // namespace
}  // namespace actsearch
