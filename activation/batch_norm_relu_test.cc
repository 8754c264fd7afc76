// The fused BatchNorm + ReLU against the same computation in LibTorch operators (in double
// precision): outputs, running statistics and every gradient, in both memory formats, with and
// without a residual, on shapes that leave partial blocks and partial vector lanes.
#include "activation/batch_norm_relu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "activation/test_tensors.h"

namespace actsearch {
namespace {

using test_tensors::InFormat;
using test_tensors::RelativeError;

struct Case {
  std::vector<int64_t> shape;
  bool channels_last;
  bool residual;
};

std::string Describe(const Case& c) {
  std::string s = "shape [";
  for (size_t i = 0; i < c.shape.size(); ++i) s += (i ? "," : "") + std::to_string(c.shape[i]);
  return s + "]" + (c.channels_last ? " channels-last" : " NCHW") +
         (c.residual ? " with residual" : "");
}

class BatchNormReluTest : public ::testing::TestWithParam<Case> {};

TEST_P(BatchNormReluTest, MatchesBatchNormThenReluInDouble) {
  const Case c = GetParam();
  SCOPED_TRACE(Describe(c));
  torch::manual_seed(5);
  const int64_t channels = c.shape[1];
  // An offset per channel: the variance must survive a mean far from zero.
  const torch::Tensor x0 = InFormat(
      torch::randn(c.shape) * 2 + torch::arange(channels).view({1, -1, 1, 1}) * 3, c.channels_last);
  const torch::Tensor r0 =
      c.residual ? InFormat(torch::randn(c.shape), c.channels_last) : torch::Tensor();
  const torch::Tensor w0 = torch::rand({channels}) + 0.5, b0 = torch::randn({channels});
  const torch::Tensor g0 = InFormat(torch::randn(c.shape), c.channels_last);
  const double momentum = 0.1, eps = 1e-5;

  auto leaf = [](const torch::Tensor& t, torch::Dtype dtype) {
    return t.defined() ? t.to(dtype).detach().requires_grad_(true) : torch::Tensor();
  };
  // Fused, in float.
  const torch::Tensor x = leaf(x0, torch::kFloat), w = leaf(w0, torch::kFloat),
                      b = leaf(b0, torch::kFloat), r = leaf(r0, torch::kFloat);
  torch::Tensor mean = torch::full({channels}, 0.5), var = torch::full({channels}, 2.0);
  ASSERT_TRUE(CanFuseBatchNormRelu(x, r));
  const torch::Tensor y = BatchNormRelu(x, w, b, r, mean, var, momentum, eps);
  y.backward(g0);

  // Reference, in double.
  const torch::Tensor xd = leaf(x0, torch::kDouble), wd = leaf(w0, torch::kDouble),
                      bd = leaf(b0, torch::kDouble), rd = leaf(r0, torch::kDouble);
  torch::Tensor mean_d = torch::full({channels}, 0.5, torch::kDouble),
                var_d = torch::full({channels}, 2.0, torch::kDouble);
  torch::Tensor yd = torch::batch_norm(xd, wd, bd, mean_d, var_d, /*training=*/true, momentum, eps,
                                       /*cudnn_enabled=*/false);
  if (c.residual) yd = yd + rd;
  yd = torch::relu(yd);
  yd.backward(g0.to(torch::kDouble));

  EXPECT_EQ(y.is_contiguous(torch::MemoryFormat::ChannelsLast) && !y.is_contiguous(),
            c.channels_last)
      << "the output keeps x's memory format";
  EXPECT_LT(RelativeError(y, yd), 1e-5) << "output";
  EXPECT_LT(RelativeError(mean, mean_d), 1e-6) << "running mean";
  EXPECT_LT(RelativeError(var, var_d), 1e-5) << "running variance";
  EXPECT_LT(RelativeError(x.grad(), xd.grad()), 1e-4) << "grad x";
  EXPECT_LT(RelativeError(w.grad(), wd.grad()), 1e-4) << "grad weight";
  EXPECT_LT(RelativeError(b.grad(), bd.grad()), 1e-4) << "grad bias";
  if (c.residual) {
    EXPECT_LT(RelativeError(r.grad(), rd.grad()), 1e-6) << "grad residual";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, BatchNormReluTest,
    ::testing::Values(Case{{5, 3, 7, 9}, false, false}, Case{{5, 3, 7, 9}, true, false},
                      Case{{5, 3, 7, 9}, false, true}, Case{{5, 3, 7, 9}, true, true},
                      // Many blocks in both layouts, as in a ResNet's first stage.
                      Case{{64, 16, 16, 16}, false, true}, Case{{64, 16, 16, 16}, true, true},
                      // Planes smaller than a vector, channels not a multiple of one.
                      Case{{33, 37, 2, 3}, false, false}, Case{{33, 37, 2, 3}, true, true}));

TEST(BatchNormRelu, SameBitsWhateverTheThreadCount) {
  torch::manual_seed(8);
  const torch::Tensor x0 = InFormat(torch::randn({32, 16, 16, 16}), true);
  const torch::Tensor g = InFormat(torch::randn({32, 16, 16, 16}), true);
  auto run = [&](int threads) {
    torch::set_num_threads(threads);
    const torch::Tensor x = x0.clone().requires_grad_(true);
    const torch::Tensor w = torch::ones({16}).requires_grad_(true);
    const torch::Tensor b = torch::zeros({16}).requires_grad_(true);
    const torch::Tensor y =
        BatchNormRelu(x, w, b, {}, torch::zeros({16}), torch::ones({16}), 0.1, 1e-5);
    y.backward(g);
    return std::vector<torch::Tensor>{y.detach(), x.grad(), w.grad(), b.grad()};
  };
  const int threads = torch::get_num_threads();
  const auto one = run(1);
  const auto two = run(2);
  torch::set_num_threads(threads);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(torch::equal(one[i], two[i])) << i;
}

TEST(BatchNormRelu, NonFiniteInputStaysVisible) {
  // A diverging child must end as diverged: ReLU may not turn NaN into 0.
  torch::Tensor x = torch::randn({4, 2, 3, 3});
  x[1][0][1][1] = std::numeric_limits<float>::quiet_NaN();
  const torch::Tensor y = BatchNormRelu(x, torch::ones({2}), torch::zeros({2}), {},
                                        torch::zeros({2}), torch::ones({2}), 0.1, 1e-5);
  EXPECT_TRUE(torch::isnan(y.select(1, 0)).all().item<bool>());
  EXPECT_FALSE(torch::isnan(y.select(1, 1)).any().item<bool>());
}

TEST(BatchNormRelu, TakesOnlyWhatItCanFuse) {
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  EXPECT_TRUE(CanFuseBatchNormRelu(x, {}));
  EXPECT_FALSE(CanFuseBatchNormRelu(x.to(torch::kDouble), {}));
  EXPECT_FALSE(CanFuseBatchNormRelu(x.transpose(2, 3), {})) << "neither NCHW nor channels-last";
  EXPECT_FALSE(CanFuseBatchNormRelu(torch::randn({2, 3, 4}), {}));
  EXPECT_FALSE(CanFuseBatchNormRelu(x, torch::randn({2, 3, 4, 5})));
  EXPECT_FALSE(CanFuseBatchNormRelu(torch::randn({1, 3, 1, 1}), {})) << "one value per channel";
}

}  // namespace
}  // namespace actsearch
