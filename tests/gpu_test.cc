// What only a GPU can check: the fused activation and the trainer on CUDA, bf16 autocast
// included. Every test is skipped where CUDA is not available (CI has no GPU); run them on a
// GPU machine with bench/gpu_session.sh, which also measures training throughput there.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "activation/expression_activation.h"
#include "activation/torch_compat.h"
#include "search_space/parser.h"
#include "worker/synthetic.h"
#include "worker/trainer.h"

namespace actsearch {
namespace {

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

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
  const worker::TrainResult r = worker::TrainChild(Synthetic(), OnCuda("exp(exp(x))", 60));
  EXPECT_EQ(r.status, worker::TrainStatus::kDiverged);
  EXPECT_EQ(r.validation_accuracy, 0.0);
}

}  // namespace
}  // namespace actsearch
