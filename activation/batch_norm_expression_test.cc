// The fused BatchNorm + expression against BatchNorm and the expression as LibTorch operators
// in double precision: outputs, running statistics and the gradients of x, the betas, the
// BatchNorm parameters and the residual, in both memory formats.
#include "activation/batch_norm_expression.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "activation/expression_activation.h"
#include "activation/test_tensors.h"
#include "search_space/parser.h"

namespace actsearch {
namespace {

using test_tensors::InFormat;
using test_tensors::RelativeError;

struct Case {
  std::string expression;
  std::vector<int64_t> shape;
  bool channels_last;
  bool residual;
};

class BatchNormExpressionTest : public ::testing::TestWithParam<Case> {};

TEST_P(BatchNormExpressionTest, MatchesBatchNormThenExpressionInDouble) {
  const Case c = GetParam();
  SCOPED_TRACE(c.expression + (c.channels_last ? " channels-last" : " NCHW") +
               (c.residual ? " with residual" : ""));
  torch::manual_seed(11);
  const int64_t channels = c.shape[1];
  ExpressionActivation activation(ExpressionActivationOptions(Parse(c.expression), channels));
  {
    torch::NoGradGuard no_grad;  // betas away from their initial 1, different per channel
    activation->betas().uniform_(0.5, 1.5);
  }
  const torch::Tensor x0 = InFormat(torch::randn(c.shape) * 2 + 1, c.channels_last);
  const torch::Tensor r0 =
      c.residual ? InFormat(torch::randn(c.shape), c.channels_last) : torch::Tensor();
  const torch::Tensor w0 = torch::rand({channels}) + 0.5, b0 = torch::randn({channels}) * 0.3;
  const torch::Tensor g0 = InFormat(torch::randn(c.shape), c.channels_last);

  auto leaf = [](const torch::Tensor& t, torch::Dtype dtype) {
    return t.defined() ? t.to(dtype).detach().requires_grad_(true) : torch::Tensor();
  };
  const torch::Tensor x = leaf(x0, torch::kFloat), w = leaf(w0, torch::kFloat),
                      b = leaf(b0, torch::kFloat), r = leaf(r0, torch::kFloat);
  const torch::Tensor betas = leaf(activation->betas(), torch::kFloat);
  torch::Tensor mean = torch::zeros({channels}), var = torch::ones({channels});
  ASSERT_TRUE(CanFuseBatchNormExpression(x, r));
  const torch::Tensor y =
      BatchNormExpression(activation->compiled(), betas, x, w, b, r, mean, var, 0.1, 1e-5);
  y.backward(g0);

  // Reference: LibTorch's batch_norm, then the expression one operator per node, in double.
  ExpressionActivation reference(
      ExpressionActivationOptions(Parse(c.expression), channels).fused(false));
  reference->to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    reference->betas().copy_(activation->betas());
  }
  const torch::Tensor xd = leaf(x0, torch::kDouble), wd = leaf(w0, torch::kDouble),
                      bd = leaf(b0, torch::kDouble), rd = leaf(r0, torch::kDouble);
  torch::Tensor mean_d = torch::zeros({channels}, torch::kDouble),
                var_d = torch::ones({channels}, torch::kDouble);
  torch::Tensor normalized =
      torch::batch_norm(xd, wd, bd, mean_d, var_d, true, 0.1, 1e-5, /*cudnn_enabled=*/false);
  if (c.residual) normalized = normalized + rd;
  const torch::Tensor yd = reference->forward(normalized);
  yd.backward(g0.to(torch::kDouble));

  EXPECT_LT(RelativeError(y, yd), 1e-5) << "output";
  EXPECT_LT(RelativeError(mean, mean_d), 1e-6) << "running mean";
  EXPECT_LT(RelativeError(var, var_d), 1e-5) << "running variance";
  EXPECT_LT(RelativeError(x.grad(), xd.grad()), 1e-4) << "grad x";
  EXPECT_LT(RelativeError(w.grad(), wd.grad()), 1e-4) << "grad weight";
  EXPECT_LT(RelativeError(b.grad(), bd.grad()), 1e-4) << "grad bias";
  if (betas.numel() > 0) {
    EXPECT_LT(RelativeError(betas.grad(), reference->betas().grad()), 1e-4) << "grad betas";
  }
  if (c.residual) {
    EXPECT_LT(RelativeError(r.grad(), rd.grad()), 1e-4) << "grad residual";
  }
}

const char* const kSwish = "x * sigmoid(beta * x)";
const char* const kTwoBetas = "max(sigmoid(beta * x) * x, tanh(x) * beta)";

INSTANTIATE_TEST_SUITE_P(Layouts, BatchNormExpressionTest,
                         ::testing::Values(Case{kSwish, {5, 3, 7, 9}, false, false},
                                           Case{kSwish, {5, 3, 7, 9}, true, true},
                                           Case{kSwish, {64, 16, 16, 16}, false, true},
                                           Case{kSwish, {64, 16, 16, 16}, true, false},
                                           Case{kTwoBetas, {33, 37, 2, 3}, false, true},
                                           Case{kTwoBetas, {33, 37, 2, 3}, true, false},
                                           Case{"tanh(x) * sin(x)", {8, 6, 5, 5}, true, true}));

TEST(BatchNormExpression, NonFiniteValuesStayVisible) {
  // exp(exp(x)) overflows: the output must carry the infinity, not hide it.
  ExpressionActivation activation(ExpressionActivationOptions(Parse("exp(exp(x))"), 2));
  const torch::Tensor x = torch::randn({4, 2, 3, 3}) * 3;
  const torch::Tensor y =
      BatchNormExpression(activation->compiled(), activation->betas(), x, torch::full({2}, 5.0),
                          torch::zeros({2}), {}, torch::zeros({2}), torch::ones({2}), 0.1, 1e-5);
  EXPECT_FALSE(torch::isfinite(y).all().item<bool>());
}

TEST(BatchNormExpression, RejectsBetasOfTheWrongShape) {
  ExpressionActivation activation(ExpressionActivationOptions(Parse(kSwish), 3));
  const torch::Tensor x = torch::randn({2, 4, 3, 3});  // 4 channels, betas for 3
  EXPECT_THROW(
      BatchNormExpression(activation->compiled(), activation->betas(), x, torch::ones({4}),
                          torch::zeros({4}), {}, torch::zeros({4}), torch::ones({4}), 0.1, 1e-5),
      c10::Error);
}

}  // namespace
}  // namespace actsearch
