// SUGAR against ReLU (forward, bit for bit), against autograd of each surrogate written
// independently here (backward), and against its forward-gradient-injection formulation.
#include "activation/sugar.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "search_space/parser.h"

namespace actsearch {
namespace {

// Every surrogate with the function the paper or LibTorch defines it by, written here apart
// from sugar.cc so that a slip in either shows.
struct Case {
  std::string name;
  Surrogate surrogate;
  std::function<torch::Tensor(const torch::Tensor&)> f;
};

std::vector<Case> AllSurrogates() {
  const double a = 1.67;
  return {
      {"bsilu", Surrogate::BSilu(),
       [a](const torch::Tensor& x) { return (x + a) * torch::sigmoid(x) - a / 2; }},
      {"nelu", Surrogate::Nelu(0.1),
       [](const torch::Tensor& x) { return torch::where(x > 0, x, -0.1 / (1 + x.pow(2))); }},
      {"elu", Surrogate::Elu(), [](const torch::Tensor& x) { return torch::elu(x); }},
      {"selu", Surrogate::Selu(), [](const torch::Tensor& x) { return torch::selu(x); }},
      {"gelu", Surrogate::Gelu(), [](const torch::Tensor& x) { return torch::gelu(x); }},
      {"silu", Surrogate::Silu(), [](const torch::Tensor& x) { return x * torch::sigmoid(x); }},
      {"mish", Surrogate::Mish(),
       [](const torch::Tensor& x) { return x * torch::tanh(torch::softplus(x)); }},
      {"leaky_relu", Surrogate::LeakyRelu(),
       [](const torch::Tensor& x) { return torch::leaky_relu(x, 0.01); }},
      {"expression swish", Surrogate::FromExpression(Parse("x * sigmoid(beta * x)")),
       [](const torch::Tensor& x) { return x * torch::sigmoid(x); }},
      {"expression max(x, tanh(x))", Surrogate::FromExpression(Parse("max(x, tanh(x))")),
       [](const torch::Tensor& x) { return torch::max(x, torch::tanh(x)); }},
  };
}

// A spread of points: a dense sweep over [-10, 10] (with 0 on it) and random normals.
torch::Tensor Points(torch::Dtype dtype) {
  torch::manual_seed(11);
  const torch::Tensor sweep = torch::linspace(-10, 10, 2001, torch::kDouble);
  const torch::Tensor normal = 3 * torch::randn({4, 5, 6, 7}, torch::kDouble);
  return torch::cat({sweep, normal.flatten()}).to(dtype).view({1, -1});
}

// Relative and absolute tolerances of gradient comparisons in `dtype`.
struct Tolerance {
  double rtol, atol;
};
Tolerance ToleranceOf(torch::Dtype dtype) {
  return dtype == torch::kDouble ? Tolerance{1e-10, 1e-12} : Tolerance{1e-5, 1e-6};
}

// dL/dx of sum(fn(x) * weight).
torch::Tensor GradientOf(const std::function<torch::Tensor(const torch::Tensor&)>& fn,
                         const torch::Tensor& x, const torch::Tensor& weight) {
  const torch::Tensor leaf = x.detach().requires_grad_(true);
  (fn(leaf) * weight).sum().backward();
  return leaf.grad();
}

void ExpectClose(const torch::Tensor& actual, const torch::Tensor& expected, double rtol,
                 double atol, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  EXPECT_TRUE(torch::allclose(actual, expected, rtol, atol))
      << what << ": max difference " << (actual - expected).abs().max().item<double>();
}

// Bit patterns, so that -0.0 and 0.0 (and NaN payloads) count as different.
torch::Tensor Bits(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  return c.view(c.scalar_type() == torch::kDouble ? torch::kLong : torch::kInt);
}

TEST(Sugar, ForwardIsReluBitForBitIncludingSignedZerosAndSpecialValues) {
  for (torch::Dtype dtype : {torch::kFloat, torch::kDouble}) {
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double tiny = dtype == torch::kFloat ? 1e-40 : 1e-310;  // subnormal
    torch::Tensor special = torch::tensor({-0.0, 0.0, inf, -inf, nan, tiny, -tiny, 1.5, -1.5},
                                          torch::TensorOptions().dtype(dtype));
    torch::Tensor x = torch::cat({special, torch::randn({4 * 3 * 5 * 5 - 9}, dtype)});
    x = x.view({4, 3, 5, 5});
    for (const torch::Tensor& input : {x, x.contiguous(torch::MemoryFormat::ChannelsLast)}) {
      for (const Case& c : AllSurrogates()) {
        for (SugarVariant v : {SugarVariant::kEverywhere, SugarVariant::kNegativeOnly}) {
          const torch::Tensor y = SugarRelu(input.detach().requires_grad_(true), c.surrogate, v);
          EXPECT_TRUE(torch::equal(Bits(y), Bits(torch::relu(input))))
              << c.name << " " << SugarVariantName(v);
          EXPECT_EQ(y.strides(), torch::relu(input).strides()) << "layout kept";
        }
      }
    }
  }
}

TEST(Sugar, GradientIsTheSurrogatesDerivativeAtEveryPoint) {
  for (torch::Dtype dtype : {torch::kDouble, torch::kFloat}) {
    const torch::Tensor x = Points(dtype);
    const torch::Tensor weight = torch::randn_like(x);
    const auto [rtol, atol] = ToleranceOf(dtype);
    for (const Case& c : AllSurrogates()) {
      const torch::Tensor actual =
          GradientOf([&](const torch::Tensor& t) { return SugarRelu(t, c.surrogate); }, x, weight);
      ExpectClose(actual, GradientOf(c.f, x, weight), rtol, atol,
                  c.name + (dtype == torch::kFloat ? " float" : " double"));
    }
  }
}

TEST(Sugar, NegativeOnlyVariantDiffersExactlyWherexIsPositive) {
  const torch::Tensor x = Points(torch::kDouble);
  const torch::Tensor weight = torch::randn_like(x);
  const torch::Tensor positive = x > 0;
  for (const Case& c : AllSurrogates()) {
    auto variant = [&](SugarVariant v) {
      return GradientOf([&](const torch::Tensor& t) { return SugarRelu(t, c.surrogate, v); }, x,
                        weight);
    };
    const torch::Tensor everywhere = variant(SugarVariant::kEverywhere);
    const torch::Tensor negative_only = variant(SugarVariant::kNegativeOnly);
    // x <= 0 (zero included): both use f'(x).
    EXPECT_TRUE(
        torch::equal(everywhere.masked_select(~positive), negative_only.masked_select(~positive)))
        << c.name;
    // x > 0: ReLU's own slope 1 in the negative-only variant, f'(x) in the other.
    EXPECT_TRUE(torch::equal(negative_only.masked_select(positive), weight.masked_select(positive)))
        << c.name;
    const torch::Tensor f_slope = GradientOf(c.f, x, torch::ones_like(x));
    ExpectClose(everywhere.masked_select(positive), (weight * f_slope).masked_select(positive),
                1e-10, 1e-12, c.name);
  }
  // Where the surrogate's slope for x > 0 is not 1, the two really differ.
  const Surrogate bsilu = Surrogate::BSilu();
  const torch::Tensor at_two = torch::full({1, 1}, 2.0, torch::kDouble);
  const torch::Tensor one = torch::ones_like(at_two);
  EXPECT_GT(GradientOf([&](const torch::Tensor& t) { return SugarRelu(t, bsilu); }, at_two, one)
                .item<double>(),
            1.2);
  EXPECT_EQ(
      GradientOf(
          [&](const torch::Tensor& t) { return SugarRelu(t, bsilu, SugarVariant::kNegativeOnly); },
          at_two, one)
          .item<double>(),
      1.0);
}

TEST(Sugar, GradientInjectionAndAutogradFunctionAgree) {
  for (torch::Dtype dtype : {torch::kDouble, torch::kFloat}) {
    const torch::Tensor x = Points(dtype);
    const torch::Tensor weight = torch::randn_like(x);
    const auto [rtol, atol] = ToleranceOf(dtype);
    for (const Case& c : AllSurrogates()) {
      for (SugarVariant v : {SugarVariant::kEverywhere, SugarVariant::kNegativeOnly}) {
        const std::string what = c.name + " " + SugarVariantName(v);
        auto custom = [&](const torch::Tensor& t) { return SugarRelu(t, c.surrogate, v); };
        auto injected = [&](const torch::Tensor& t) {
          return SugarReluByGradientInjection(t, c.surrogate, v);
        };
        EXPECT_TRUE(torch::equal(custom(x), injected(x))) << what;
        ExpectClose(GradientOf(custom, x, weight), GradientOf(injected, x, weight), rtol, atol,
                    what);
      }
    }
  }
}

TEST(Sugar, BSiluDerivativeHasThePublishedShape) {
  // docs/papers.md: f'(0) ~ 0.9175; peak ~1.29 near x ~ 1.49; a dip below 0 near x ~ -3.76.
  const torch::Tensor x = torch::linspace(-8, 8, 160001, torch::kDouble).view({-1, 1});
  const torch::Tensor slope =
      GradientOf([](const torch::Tensor& t) { return SugarRelu(t, Surrogate::BSilu()); }, x,
                 torch::ones_like(x))
          .flatten();
  EXPECT_NEAR(slope[80000].item<double>(), 0.9175, 5e-4);  // x = 0
  const int64_t peak = slope.argmax().item<int64_t>();
  EXPECT_NEAR(x.flatten()[peak].item<double>(), 1.49, 0.02);
  EXPECT_NEAR(slope[peak].item<double>(), 1.29, 0.01);
  const torch::Tensor negative_half = slope.slice(0, 0, 80000);
  const int64_t dip = negative_half.argmin().item<int64_t>();
  EXPECT_NEAR(x.flatten()[dip].item<double>(), -3.76, 0.02);
  EXPECT_LT(negative_half[dip].item<double>(), 0.0);
}

TEST(Sugar, SwishExpressionSurrogateAtBetaOneIsSiluDerivative) {
  for (torch::Dtype dtype : {torch::kDouble, torch::kFloat}) {
    const torch::Tensor x = Points(dtype);
    const torch::Tensor weight = torch::randn_like(x);
    const Surrogate swish = Surrogate::FromExpression(Parse("x * sigmoid(beta * x)"));
    const torch::Tensor from_expression =
        GradientOf([&](const torch::Tensor& t) { return SugarRelu(t, swish); }, x, weight);
    const torch::Tensor silu = GradientOf(
        [](const torch::Tensor& t) { return SugarRelu(t, Surrogate::Silu()); }, x, weight);
    const double tol = dtype == torch::kDouble ? 1e-12 : 1e-6;
    ExpectClose(from_expression, silu, tol, tol, "swish at beta = 1 against silu");
  }
}

TEST(Sugar, ParametersOfSurrogatesReachTheGradient) {
  const torch::Tensor x = torch::tensor({-1.0, -0.5}, torch::kDouble).view({1, 2});
  auto slope = [&](const Surrogate& s) {
    return GradientOf([&](const torch::Tensor& t) { return SugarRelu(t, s); }, x,
                      torch::ones_like(x));
  };
  // NeLU: 2 a x / (1 + x^2)^2 for x <= 0; LeakyReLU: its slope; ELU: alpha e^x.
  ExpectClose(slope(Surrogate::Nelu(0.05)), 2 * 0.05 * x / (1 + x * x).pow(2), 1e-12, 0, "nelu");
  ExpectClose(slope(Surrogate::LeakyRelu(0.2)), torch::full_like(x, 0.2), 0, 0, "leaky");
  ExpectClose(slope(Surrogate::Elu(0.5)), 0.5 * x.exp(), 1e-12, 0, "elu");
}

TEST(Sugar, OtherLayoutsAndDtypesTakeTheFallbackAndAgree) {
  torch::manual_seed(12);
  const torch::Tensor base = 3 * torch::randn({4, 6, 5, 5});
  const torch::Tensor strided = base.slice(1, 0, 6, 2);  // not dense: LibTorch operators
  ASSERT_FALSE(strided.is_non_overlapping_and_dense());
  const torch::Tensor weight = torch::randn(strided.sizes());
  for (const Case& c : AllSurrogates()) {
    for (SugarVariant v : {SugarVariant::kEverywhere, SugarVariant::kNegativeOnly}) {
      auto sugar = [&](const torch::Tensor& t) { return SugarRelu(t, c.surrogate, v); };
      ExpectClose(GradientOf(sugar, strided, weight),
                  GradientOf(sugar, strided.contiguous(), weight), 1e-5, 1e-6, c.name);
      const torch::Tensor half = strided.to(torch::kBFloat16);
      const torch::Tensor g = GradientOf(sugar, half, weight.to(torch::kBFloat16));
      EXPECT_EQ(g.scalar_type(), torch::kBFloat16);
      ExpectClose(g.to(torch::kFloat), GradientOf(sugar, half.to(torch::kFloat), weight), 0.05,
                  0.05, c.name + " bf16");
    }
  }
}

TEST(Sugar, WorksOnCudaLikeOnTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Tensor x = Points(torch::kFloat);
  const torch::Tensor weight = torch::randn_like(x);
  for (const Case& c : AllSurrogates()) {
    auto sugar = [&](const torch::Tensor& t) { return SugarRelu(t, c.surrogate); };
    const torch::Tensor on_gpu = GradientOf(sugar, x.cuda(), weight.cuda());
    ExpectClose(on_gpu.cpu(), GradientOf(sugar, x, weight), 1e-5, 1e-6, c.name);
    EXPECT_TRUE(torch::equal(sugar(x.cuda()).cpu(), torch::relu(x))) << c.name;
  }
}

TEST(Sugar, ModuleAppliesItsOptions) {
  Sugar module(SugarOptions(Surrogate::Nelu(0.05)).variant(SugarVariant::kNegativeOnly));
  EXPECT_TRUE(module->parameters().empty());
  EXPECT_TRUE(module->buffers().empty());
  const torch::Tensor x = torch::tensor({-0.5, 0.5}, torch::kDouble).view({1, 2});
  const torch::Tensor g = GradientOf([&](const torch::Tensor& t) { return module->forward(t); }, x,
                                     torch::ones_like(x));
  EXPECT_NEAR(g[0][0].item<double>(), 2 * 0.05 * -0.5 / std::pow(1.25, 2), 1e-12);
  EXPECT_EQ(g[0][1].item<double>(), 1.0);
  std::ostringstream printed;
  module->pretty_print(printed);
  EXPECT_EQ(printed.str(), "actsearch::Sugar(surrogate=nelu, alpha=0.05, gradient=negative only)");
}

}  // namespace
}  // namespace actsearch
