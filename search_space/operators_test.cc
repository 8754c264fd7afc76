// Conformance suite run over every operator of the registry: finite where the grammar
// promises it, analytic derivatives equal to finite differences, float equal to double.
#include "search_space/operators.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "search_space/expr.h"
#include "search_space/printer.h"
#include "search_space/program.h"

namespace actsearch {
namespace {

TEST(Registry, HasThePapersTwentyFiveUnaryAndTenBinaryFunctions) {
  EXPECT_EQ(AllUnaryTokens().size(), 25u);
  EXPECT_EQ(AllBinaryOps().size(), 10u);
  std::set<std::string_view> names;
  for (int i = 0; i < kNumOps; ++i) names.insert(Info(static_cast<OpId>(i)).name);
  EXPECT_EQ(names.size(), static_cast<size_t>(kNumOps)) << "operator names must be unique";
}

TEST(Registry, LooksUpEveryOperatorByName) {
  for (int i = 0; i < kNumOps; ++i) {
    const OpId op = static_cast<OpId>(i);
    ASSERT_EQ(OpByName(Info(op).name), op) << Info(op).name;
  }
  EXPECT_FALSE(OpByName("tan").has_value());
}

// The expression `op(x)` or `op(x, g(x))` for every operator, with a second argument that
// differs from the first so binary partials are both exercised.
std::vector<Expr> OneExpressionPerOperator() {
  std::vector<Expr> out;
  for (OpId op : AllUnaryTokens()) out.push_back(MakeUnary(op, MakeInput()));
  for (OpId op : AllBinaryOps()) {
    out.push_back(MakeBinary(op, MakeInput(), MakeUnary(OpId::kSin, MakeInput())));
  }
  return out;
}

struct Evaluation {
  double value, dx;
  std::vector<double> dbeta;
};

Evaluation EvaluateAt(const Program& p, double x, const std::vector<double>& betas) {
  std::vector<const double*> in;
  for (const double& b : betas) in.push_back(&b);
  Evaluation e{0, 0, std::vector<double>(betas.size())};
  std::vector<double*> out;
  for (double& g : e.dbeta) out.push_back(&g);
  const double one = 1;
  p.Forward<double>(1, &x, in.data(), &e.value);
  p.Backward<double>(1, &x, in.data(), &one, &e.dx, out.data());
  return e;
}

// Points away from every kink of the grammar (0 for abs/relu/sqrt/log, x = sin(x) for the
// binary max/min/laplace), so central differences are valid there.
const std::vector<double> kSmoothPoints = {-3.1, -1.7, -0.6, -0.25, 0.3, 0.8, 1.3, 2.2, 2.9};

TEST(Conformance, AnalyticDerivativesMatchFiniteDifferences) {
  for (const Expr& e : OneExpressionPerOperator()) {
    const Program p(e);
    const std::vector<double> betas = {0.8, 1.3};  // at most one is used
    std::vector<double> b(betas.begin(), betas.begin() + p.num_betas());
    for (double x : kSmoothPoints) {
      const double h = 1e-6;
      const Evaluation at = EvaluateAt(p, x, b);
      const double numeric =
          (EvaluateAt(p, x + h, b).value - EvaluateAt(p, x - h, b).value) / (2 * h);
      EXPECT_NEAR(at.dx, numeric, 1e-5 * std::max(1.0, std::abs(numeric)))
          << ToString(e) << " at x = " << x;
      for (int k = 0; k < p.num_betas(); ++k) {
        std::vector<double> up = b, down = b;
        up[k] += h;
        down[k] -= h;
        const double numeric_beta =
            (EvaluateAt(p, x, up).value - EvaluateAt(p, x, down).value) / (2 * h);
        EXPECT_NEAR(at.dbeta[k], numeric_beta, 1e-5 * std::max(1.0, std::abs(numeric_beta)))
            << ToString(e) << " beta at x = " << x;
      }
    }
  }
}

TEST(Conformance, FiniteValueAndGradientEverywhereExceptOverflow) {
  // exp, sinh, cosh and powers overflow for large inputs by nature; every other operator is
  // finite for every finite input, including at its singular points.
  const std::set<OpId> overflow = {OpId::kExp, OpId::kSinh, OpId::kCosh, OpId::kSquare,
                                   OpId::kCube};
  const std::vector<double> points = {
      -1e30, -1e3, -20, -1e-3, -1e-300, 0.0, 1e-300, 1e-3, std::asin(-1e-3), 20, 1e3, 1e30};
  for (const Expr& e : OneExpressionPerOperator()) {
    if (overflow.count(e->op)) continue;
    const Program p(e);
    const std::vector<double> betas(p.num_betas(), 1.0);
    for (double x : points) {
      const Evaluation at = EvaluateAt(p, x, betas);
      EXPECT_TRUE(std::isfinite(at.value)) << ToString(e) << " at " << x;
      EXPECT_TRUE(std::isfinite(at.dx)) << ToString(e) << " gradient at " << x;
    }
  }
}

TEST(Conformance, SinglePrecisionAgreesWithDoublePrecision) {
  for (const Expr& e : OneExpressionPerOperator()) {
    const Program p(e);
    const int n = 401;
    std::vector<double> xd(n);
    std::vector<float> xf(n);
    for (int i = 0; i < n; ++i) xf[i] = static_cast<float>(xd[i] = -8 + 16.0 * i / (n - 1));
    std::vector<std::vector<double>> bd(p.num_betas(), std::vector<double>(n, 0.7));
    std::vector<std::vector<float>> bf(p.num_betas(), std::vector<float>(n, 0.7f));
    std::vector<const double*> bdp;
    std::vector<const float*> bfp;
    for (auto& v : bd) bdp.push_back(v.data());
    for (auto& v : bf) bfp.push_back(v.data());
    std::vector<double> yd(n), dyd(n), ones(n, 1.0);
    std::vector<std::vector<double>> unused(p.num_betas(), std::vector<double>(n));
    std::vector<double*> unused_pointers;
    for (auto& v : unused) unused_pointers.push_back(v.data());
    std::vector<float> yf(n);
    p.Forward<double>(n, xd.data(), bdp.data(), yd.data());
    p.Backward<double>(n, xd.data(), bdp.data(), ones.data(), dyd.data(), unused_pointers.data());
    p.Forward<float>(n, xf.data(), bfp.data(), yf.data());
    for (int i = 0; i < n; ++i) {
      // Float arithmetic error, plus the input's own rounding to float carried by the slope.
      const double input_error = std::abs(dyd[i]) * std::abs(xd[i] - static_cast<double>(xf[i]));
      const double tolerance = 2e-6 * std::max(1.0, std::abs(yd[i])) + 2 * input_error;
      ASSERT_NEAR(yf[i], yd[i], tolerance) << ToString(e) << " at x = " << xd[i];
    }
  }
}

}  // namespace
}  // namespace actsearch
