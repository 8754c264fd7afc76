// The Figure 3 functions evaluate to their closed forms, values and derivatives.
#include "search_space/program.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "search_space/parser.h"
#include "search_space/printer.h"

namespace actsearch {
namespace {

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

struct ClosedForm {
  std::string text;
  std::function<double(double)> f;
  std::function<double(double)> df;
};

const std::vector<ClosedForm>& Figure3() {
  static const std::vector<ClosedForm> forms = {
      {"x * sigmoid(beta * x)",  // beta = 1 initially: SiLU
       [](double x) { return x * Sigmoid(x); },
       [](double x) { return Sigmoid(x) + x * Sigmoid(x) * (1 - Sigmoid(x)); }},
      {"max(x, sigmoid(x))", [](double x) { return std::max(x, Sigmoid(x)); },
       [](double x) { return x >= Sigmoid(x) ? 1.0 : Sigmoid(x) * (1 - Sigmoid(x)); }},
      {"cos(x) - x", [](double x) { return std::cos(x) - x; },
       [](double x) { return -std::sin(x) - 1; }},
      {"min(x, sin(x))", [](double x) { return std::min(x, std::sin(x)); },
       [](double x) { return x <= std::sin(x) ? 1.0 : std::cos(x); }},
      {"atan(x)^2 - x", [](double x) { return std::atan(x) * std::atan(x) - x; },
       [](double x) { return 2 * std::atan(x) / (1 + x * x) - 1; }},
      {"max(x, tanh(x))", [](double x) { return std::max(x, std::tanh(x)); },
       [](double x) { return x >= std::tanh(x) ? 1.0 : 1 - std::tanh(x) * std::tanh(x); }},
      {"sinc(x) + x", [](double x) { return (x == 0 ? 1 : std::sin(x) / x) + x; },
       [](double x) { return (x == 0 ? 0 : (x * std::cos(x) - std::sin(x)) / (x * x)) + 1; }},
      {"x * asinh(x)^2", [](double x) { return x * std::asinh(x) * std::asinh(x); },
       [](double x) {
         return std::asinh(x) * std::asinh(x) + 2 * x * std::asinh(x) / std::sqrt(x * x + 1);
       }},
      {"relu(x)", [](double x) { return std::max(x, 0.0); },
       [](double x) { return x > 0 ? 1.0 : 0.0; }},
  };
  return forms;
}

struct Result {
  std::vector<double> y, dy;
  std::vector<std::vector<double>> dbeta;
};

Result Evaluate(const Program& p, const std::vector<double>& x, const std::vector<double>& betas) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<std::vector<double>> beta_arrays;
  std::vector<const double*> in;
  Result r{std::vector<double>(n), std::vector<double>(n),
           std::vector<std::vector<double>>(betas.size(), std::vector<double>(n))};
  std::vector<double*> out;
  for (size_t k = 0; k < betas.size(); ++k) {
    beta_arrays.emplace_back(n, betas[k]);
    in.push_back(beta_arrays.back().data());
    out.push_back(r.dbeta[k].data());
  }
  const std::vector<double> ones(n, 1.0);
  p.Forward<double>(n, x.data(), in.data(), r.y.data());
  p.Backward<double>(n, x.data(), in.data(), ones.data(), r.dy.data(), out.data());
  return r;
}

std::vector<double> TestPoints() {
  std::vector<double> x = {0.0, 1e-5, -1e-5};
  for (int i = -50; i <= 50; ++i) x.push_back(i * 0.123);
  return x;
}

TEST(Program, Figure3FunctionsMatchTheirClosedForms) {
  const std::vector<double> x = TestPoints();
  for (const ClosedForm& form : Figure3()) {
    const Program p(Parse(form.text));
    const Result r = Evaluate(p, x, p.initial_betas());
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_NEAR(r.y[i], form.f(x[i]), 1e-12 * std::max(1.0, std::abs(form.f(x[i]))))
          << form.text << " at " << x[i];
      EXPECT_NEAR(r.dy[i], form.df(x[i]), 1e-9 * std::max(1.0, std::abs(form.df(x[i]))))
          << form.text << "' at " << x[i];
    }
  }
}

TEST(Program, SwishBetaScalesTheSigmoidInputAndHasItsOwnGradient) {
  const Program swish(Parse("x * sigmoid(beta * x)"));
  ASSERT_EQ(swish.num_betas(), 1);
  const double beta = 1.7;
  const std::vector<double> x = TestPoints();
  const Result r = Evaluate(swish, x, {beta});
  for (size_t i = 0; i < x.size(); ++i) {
    const double s = Sigmoid(beta * x[i]);
    EXPECT_NEAR(r.y[i], x[i] * s, 1e-12);
    EXPECT_NEAR(r.dy[i], s + beta * x[i] * s * (1 - s), 1e-12);
    EXPECT_NEAR(r.dbeta[0][i], x[i] * x[i] * s * (1 - s), 1e-12);  // d/dbeta
  }
}

TEST(Program, NumbersBetasInPostOrder) {
  const Program p(Parse("mix(beta * x, x + beta)"));
  ASSERT_EQ(p.num_betas(), 3);
  EXPECT_EQ(p.initial_betas(), (std::vector<double>{1.0, 1.0, 0.5}));
  // f = b2 * (b0 x) + (1 - b2)(x + b1): each partial lands on its own beta.
  const Result r = Evaluate(p, {2.0}, {3.0, 5.0, 0.25});
  EXPECT_DOUBLE_EQ(r.y[0], 0.25 * 6 + 0.75 * 7);
  EXPECT_DOUBLE_EQ(r.dbeta[0][0], 0.25 * 2);
  EXPECT_DOUBLE_EQ(r.dbeta[1][0], 0.75);
  EXPECT_DOUBLE_EQ(r.dbeta[2][0], 6 - 7);
  std::vector<std::string> owners;
  for (const Expr& owner : p.beta_owners()) owners.push_back(ToString(owner));
  EXPECT_EQ(owners, (std::vector<std::string>{"beta * x", "x + beta", "mix(beta * x, x + beta)"}));
  // An operator's own beta comes after its operands', though printed before them.
  const Program scaled(Parse("beta * (x + beta)"));
  EXPECT_EQ(ToString(scaled.beta_owners()[0]), "x + beta");
  EXPECT_EQ(ToString(scaled.beta_owners()[1]), "beta * (x + beta)");
}

TEST(Program, LeavesAloneEvaluate) {
  const Result identity = Evaluate(Program(Parse("x")), {-1.5, 2.0}, {});
  EXPECT_EQ(identity.y, (std::vector<double>{-1.5, 2.0}));
  EXPECT_EQ(identity.dy, (std::vector<double>{1.0, 1.0}));
  const Result constant = Evaluate(Program(Parse("beta")), {-1.5, 2.0}, {0.5});
  EXPECT_EQ(constant.y, (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(constant.dy, (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(constant.dbeta[0], (std::vector<double>{1.0, 1.0}));
}

TEST(Program, EvaluatesInputsLongerThanOneChunk) {
  const Program p(Parse("sin(x) * x"));
  std::vector<double> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = i * 0.01 - 5;
  const Result r = Evaluate(p, x, {});
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_DOUBLE_EQ(r.y[i], std::sin(x[i]) * x[i]);
    ASSERT_NEAR(r.dy[i], std::cos(x[i]) * x[i] + std::sin(x[i]), 1e-12);
  }
}

}  // namespace
}  // namespace actsearch
