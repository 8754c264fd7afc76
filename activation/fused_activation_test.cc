// The fused path against autograd through primitive LibTorch operators, for every operator,
// every layout the kernel handles, and the fallback used on other devices.
#include "activation/fused_activation.h"

#include <gtest/gtest.h>

#include "activation/primitive_ops.h"
#include "search_space/parser.h"
#include "search_space/printer.h"

namespace actsearch {
namespace {

std::vector<Expr> TestExpressions() {
  std::vector<Expr> out;
  for (OpId op : AllUnaryTokens()) out.push_back(MakeUnary(op, MakeInput()));
  for (OpId op : AllBinaryOps()) {
    out.push_back(MakeBinary(op, MakeInput(), MakeUnary(OpId::kSin, MakeInput())));
  }
  for (const char* text : {"x * sigmoid(beta * x)", "max(x, sigmoid(x))", "cos(x) - x",
                           "min(x, sin(x))", "atan(x)^2 - x", "max(x, tanh(x))", "sinc(x) + x",
                           "x * asinh(x)^2", "mix(beta * x, tanh(x + beta))"}) {
    out.push_back(Parse(text));
  }
  return out;
}

struct Gradients {
  torch::Tensor y, x, betas;
};

// Runs y = f(x) and backward of sum(y * weight).
Gradients Differentiate(const Expr& e, torch::Tensor x, torch::Tensor betas, bool fused,
                        const torch::Tensor& weight) {
  x = x.detach().requires_grad_(true);
  betas = betas.detach().requires_grad_(true);
  torch::Tensor y;
  if (fused) {
    y = FusedActivation(c10::make_intrusive<CompiledExpression>(e), x, betas);
  } else {
    y = EvaluateWithTorchOps(e, x, BroadcastBetas(betas, x));
  }
  (y * weight).sum().backward();
  torch::Tensor beta_grad = betas.grad().defined() ? betas.grad() : torch::zeros_like(betas);
  torch::Tensor x_grad = x.grad().defined() ? x.grad() : torch::zeros_like(x);
  return {y.detach(), x_grad, beta_grad};
}

void ExpectClose(const torch::Tensor& actual, const torch::Tensor& expected,
                 const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const bool close = torch::allclose(actual, expected, /*rtol=*/2e-4, /*atol=*/2e-5);
  EXPECT_TRUE(close) << what << ": max difference "
                     << (actual - expected).abs().max().item<double>();
}

// Inputs away from the kinks where fused and primitive may legitimately pick different
// one-sided derivatives in float (ties of max/min).
torch::Tensor Input(std::vector<int64_t> shape, torch::Dtype dtype) {
  torch::manual_seed(7);
  return (torch::randn(shape, torch::kDouble) * 1.5).to(dtype);
}

torch::Tensor Betas(int64_t k, int64_t channels) {
  return 0.5 + torch::rand({k, channels}, torch::kDouble);
}

void CompareFusedWithPrimitive(const torch::Tensor& x_in, const std::string& layout) {
  for (const Expr& e : TestExpressions()) {
    const Program program(e);
    const torch::Tensor betas = Betas(program.num_betas(), x_in.size(1)).to(x_in.dtype());
    const torch::Tensor weight = torch::randn_like(x_in);
    const Gradients fused = Differentiate(e, x_in, betas, true, weight);
    const Gradients reference = Differentiate(e, x_in, betas, false, weight);
    const std::string what = ToString(e) + " (" + layout + ")";
    ExpectClose(fused.y, reference.y, what + " value");
    ExpectClose(fused.x, reference.x, what + " x gradient");
    ExpectClose(fused.betas, reference.betas, what + " beta gradient");
  }
}

TEST(FusedActivation, MatchesPrimitiveOpsOnContiguousFeatureMaps) {
  CompareFusedWithPrimitive(Input({4, 6, 9, 9}, torch::kFloat), "NCHW");
}

TEST(FusedActivation, MatchesPrimitiveOpsOnChannelsLastFeatureMaps) {
  CompareFusedWithPrimitive(
      Input({4, 6, 9, 9}, torch::kFloat).contiguous(torch::MemoryFormat::ChannelsLast),
      "channels_last");
}

TEST(FusedActivation, MatchesPrimitiveOpsOnSmallPlanesAndMatrices) {
  CompareFusedWithPrimitive(Input({8, 5, 3, 3}, torch::kFloat), "small planes");
  CompareFusedWithPrimitive(Input({37, 11}, torch::kFloat), "[N, C]");
}

TEST(FusedActivation, MatchesPrimitiveOpsInDoublePrecision) {
  CompareFusedWithPrimitive(Input({3, 4, 10, 10}, torch::kDouble), "double");
}

TEST(FusedActivation, FallbackPathMatchesPrimitiveOps) {
  // A non-dense input takes the path other devices use: recompute with LibTorch ops.
  const torch::Tensor strided = Input({4, 6, 12, 9}, torch::kFloat).transpose(2, 3);
  ASSERT_FALSE(strided.is_contiguous());
  CompareFusedWithPrimitive(strided, "strided");
}

TEST(FusedActivation, TakesTheSameDerivativeAsPrimitiveOpsAtTheKinks) {
  // x exactly 0 (and ties of max and min): both paths pick the same one-sided derivative, so
  // that a CUDA child (primitive operators) trains as a CPU one (fused) does.
  const torch::Tensor x = torch::tensor({0.0, 0.0, -1.0, 1.0}, torch::kFloat).reshape({1, 1, 2, 2});
  const torch::Tensor weight = torch::ones_like(x);
  for (const char* text : {"relu(x)", "min0(x)", "abs(x)", "sqrt(x)", "softplus(x)", "log_abs(x)",
                           "max(x, x)", "min(x, -x)", "laplace(x, -x)"}) {
    const Expr e = Parse(text);
    const torch::Tensor betas = Betas(Program(e).num_betas(), 1).to(torch::kFloat);
    const Gradients fused = Differentiate(e, x, betas, true, weight);
    const Gradients reference = Differentiate(e, x, betas, false, weight);
    ExpectClose(fused.y, reference.y, std::string(text) + " value at the kink");
    ExpectClose(fused.x, reference.x, std::string(text) + " derivative at the kink");
  }
}

TEST(FusedActivation, KeepsOnlyTheInputAndBetasForBackward) {
  const Expr e = Parse("x * asinh(x)^2 + sin(beta * x)");
  const torch::Tensor x = Input({2, 3, 8, 8}, torch::kFloat).requires_grad_(true);
  const torch::Tensor betas = torch::ones({1, 3}).requires_grad_(true);
  const torch::Tensor y = FusedActivation(c10::make_intrusive<CompiledExpression>(e), x, betas);
  // One autograd node whose edges lead to x and betas alone: no per-operator intermediates.
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->next_edges().size(), 2u);
  EXPECT_EQ(y.grad_fn()->next_edges()[0].function,
            torch::autograd::impl::gradient_edge(x).function);
}

TEST(FusedActivation, GradientsMatchFiniteDifferencesInDoublePrecision) {
  const Expr e = Parse("x * sigmoid(beta * x) + rbf(x, tanh(x))");
  const torch::Tensor x = Input({2, 3, 4, 4}, torch::kDouble);
  const torch::Tensor betas = Betas(2, 3);
  const auto compiled = c10::make_intrusive<CompiledExpression>(e);
  const torch::Tensor weight = torch::randn_like(x);
  const Gradients g = Differentiate(e, x, betas, true, weight);
  auto loss = [&](const torch::Tensor& xx, const torch::Tensor& bb) {
    torch::NoGradGuard no_grad;
    return (FusedActivation(compiled, xx, bb) * weight).sum().item<double>();
  };
  const double h = 1e-6;
  for (int64_t i = 0; i < x.numel(); i += 7) {
    torch::Tensor up = x.clone(), down = x.clone();
    up.view(-1)[i] += h;
    down.view(-1)[i] -= h;
    const double numeric = (loss(up, betas) - loss(down, betas)) / (2 * h);
    EXPECT_NEAR(g.x.view(-1)[i].item<double>(), numeric, 1e-6);
  }
  for (int64_t i = 0; i < betas.numel(); ++i) {
    torch::Tensor up = betas.clone(), down = betas.clone();
    up.view(-1)[i] += h;
    down.view(-1)[i] -= h;
    const double numeric = (loss(x, up) - loss(x, down)) / (2 * h);
    EXPECT_NEAR(g.betas.view(-1)[i].item<double>(), numeric, 1e-6);
  }
}

}  // namespace
}  // namespace actsearch
