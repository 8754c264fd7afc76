// A unit's output is one value: a later unit that reads it twice reads the same value, with
// the same betas inside it (the paper's unit graph). Printing names such values, parsing reads
// the names back, and both evaluators compute them once.
#include "search_space/value_graph.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "search_space/fingerprint.h"
#include "search_space/parser.h"
#include "search_space/printer.h"
#include "search_space/program.h"
#include "search_space/space.h"

namespace actsearch {
namespace {

Expr Decode(int units, const char* tokens) {
  const Space space(SpaceSpec{units});
  return space.Decode(space.TokensFromString(tokens));
}

TEST(ValueGraph, AUnitReadTwiceIsOneValueWithOneBeta) {
  const Expr square = Decode(2, "x x identity beta add  y1 y1 identity identity mul");
  EXPECT_EQ(CountBetas(square), 1);
  EXPECT_EQ(ToString(square), "u1 = x + beta; u1 * u1");
  EXPECT_TRUE(Equal(square, Parse("u1 = x + beta; u1 * u1")));
  // Written out twice, the two factors are separate values: another family, with two betas.
  const Expr separate = Parse("(x + beta) * (x + beta)");
  EXPECT_EQ(CountBetas(separate), 2);
  EXPECT_FALSE(Equal(square, separate));
  EXPECT_NE(ComputeFingerprint(square), ComputeFingerprint(separate));
}

TEST(ValueGraph, WhatReadsASharedValueIsNamedOnceAtItsWidest) {
  // Unit 2 applies sin to y1 on both sides: sin(y1) is one value, named as a whole.
  EXPECT_EQ(ToString(Decode(2, "x x identity beta add  y1 y1 sin sin mul")),
            "u1 = sin(x + beta); u1 * u1");
  EXPECT_EQ(ToString(Decode(2, "x x identity beta add  y1 y1 sin identity mul")),
            "u1 = x + beta; sin(u1) * u1");
  // Three units: definitions come in order, each reading only earlier names.
  EXPECT_EQ(ToString(Decode(3,
                            "x x scale identity add  y1 y1 identity sin max  "
                            "y2 y2 identity sin add")),
            "u1 = beta * x + x; u2 = max(u1, sin(u1)); u2 + sin(u2)");
}

TEST(ValueGraph, ABetaFreeValueIsTheSameFunctionWhereverItIsWritten) {
  const Expr decoded = Decode(2, "x x sin identity mul  y1 y1 identity identity add");
  EXPECT_EQ(ToString(decoded), "sin(x) * x + sin(x) * x");
  EXPECT_TRUE(Equal(decoded, Parse("sin(x) * x + sin(x) * x")));
  EXPECT_TRUE(Equal(decoded, Parse("u1 = sin(x) * x; u1 + u1")));
  EXPECT_EQ(BuildValueGraph(decoded).values.size(), 4u) << "x, sin(x), sin(x) * x, the sum";
}

TEST(ValueGraph, BetasAreNumberedDefinitionsFirst) {
  const Program p(Parse("u1 = x + beta; beta * x * u1 + u1"));
  ASSERT_EQ(p.num_betas(), 2);
  EXPECT_EQ(ToString(p.beta_owners()[0]), "x + beta") << "u1's beta is printed first";
  EXPECT_EQ(ToString(p.beta_owners()[1]), "beta * x");
}

TEST(ValueGraph, ASharedValuesBetaGetsTheGradientOfEveryUse) {
  // f = (x + b)^2 through one shared value: df/dx = df/db = 2 (x + b).
  const Program p(Parse("u1 = x + beta; u1 * u1"));
  const std::vector<double> x = {-1.5, 0.0, 0.25, 2.0};
  const std::vector<double> b(x.size(), 0.75), grad_y(x.size(), 1.0);
  std::vector<double> y(x.size()), grad_x(x.size()), grad_b(x.size());
  const double* betas[] = {b.data()};
  double* grad_betas[] = {grad_b.data()};
  p.Forward<double>(x.size(), x.data(), betas, y.data());
  p.Backward<double>(x.size(), x.data(), betas, grad_y.data(), grad_x.data(), grad_betas);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_DOUBLE_EQ(y[i], (x[i] + 0.75) * (x[i] + 0.75));
    EXPECT_DOUBLE_EQ(grad_x[i], 2 * (x[i] + 0.75));
    EXPECT_DOUBLE_EQ(grad_b[i], 2 * (x[i] + 0.75));
  }
}

// Central differences of a program with all betas at their initial values.
double NumericSlope(const Program& p, double x, int wrt_beta) {
  const double h = 1e-6;
  auto at = [&](double dx, double dbeta) {
    std::vector<double> betas = p.initial_betas();
    std::vector<std::vector<double>> arrays;
    std::vector<const double*> pointers;
    for (size_t k = 0; k < betas.size(); ++k) {
      arrays.push_back({betas[k] + (static_cast<int>(k) == wrt_beta ? dbeta : 0)});
      pointers.push_back(arrays.back().data());
    }
    const double input = x + dx;
    double y = 0;
    p.Forward<double>(1, &input, pointers.data(), &y);
    return y;
  };
  return wrt_beta < 0 ? (at(h, 0) - at(-h, 0)) / (2 * h) : (at(0, h) - at(0, -h)) / (2 * h);
}

TEST(ValueGraph, GradientsOfRandomMultiUnitCandidatesMatchDifferences) {
  const Space space(SpaceSpec{3, ParseUnaryList("identity,neg,square,beta,sin,tanh,sigmoid,exp"),
                              ParseBinaryList("add,mul,sub,sigmul,mix,rbf")});
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<uint64_t> pick(0, *space.size() - 1);
  int shared = 0;
  for (int i = 0; i < 300; ++i) {
    const Expr e = space.Decode(space.TokensAt(pick(rng)));
    if (!BuildValueGraph(e).named.empty()) ++shared;
    const Program p(e);
    const double x = 0.3;
    std::vector<std::vector<double>> arrays;
    std::vector<const double*> betas;
    std::vector<std::vector<double>> grads(p.num_betas(), std::vector<double>(1));
    std::vector<double*> grad_betas;
    for (int k = 0; k < p.num_betas(); ++k) {
      arrays.push_back({p.initial_betas()[k]});
      betas.push_back(arrays.back().data());
      grad_betas.push_back(grads[k].data());
    }
    const double grad_y = 1;
    double grad_x = 0;
    p.Backward<double>(1, &x, betas.data(), &grad_y, &grad_x, grad_betas.data());
    const double dx = NumericSlope(p, x, -1);
    if (!std::isfinite(dx) || std::abs(dx) > 1e6) continue;
    EXPECT_NEAR(grad_x, dx, 1e-4 * (1 + std::abs(dx))) << ToString(e);
    for (int k = 0; k < p.num_betas(); ++k) {
      const double db = NumericSlope(p, x, k);
      EXPECT_NEAR(grads[k][0], db, 1e-4 * (1 + std::abs(db))) << ToString(e) << " beta " << k;
    }
  }
  EXPECT_GT(shared, 30) << "the sample must hold shared values";
}

TEST(ValueGraph, MultiUnitCandidatesRoundTripThroughTheirText) {
  for (int units : {2, 3}) {
    const Space space(SpaceSpec{units});
    std::mt19937_64 rng(units);
    std::uniform_int_distribution<uint64_t> pick(0, *space.size() - 1);
    for (int i = 0; i < 3000; ++i) {
      const Expr e = space.Decode(space.TokensAt(pick(rng)));
      const std::string text = ToString(e);
      Expr back;
      ASSERT_NO_THROW(back = Parse(text)) << text;
      ASSERT_TRUE(Equal(back, e)) << text << " reads back as " << ToString(back);
      ASSERT_EQ(ToString(back), text);
      ASSERT_EQ(CountBetas(back), CountBetas(e)) << text;
    }
  }
}

TEST(ValueGraph, NamesAreCheckedWhereTheyAreWritten) {
  const auto error_of = [](const char* text) {
    try {
      Parse(text);
    } catch (const ParseError& e) {
      return e.detail();
    }
    return std::string("parsed");
  };
  EXPECT_EQ(error_of("u1 = x + beta; x"), "'u1' is defined but never used");
  EXPECT_EQ(error_of("u1 = x; u1 = sin(x); u1"), "'u1' is already defined");
  EXPECT_EQ(error_of("sin = x; sin"), "'sin' is taken by the grammar; name a value u1, u2, ...");
  EXPECT_EQ(error_of("u1 = beta; u1 * x"),
            "a name stands for a computed value; a lone beta is one already");
  EXPECT_EQ(error_of("u1 = x + beta u1"), "expected ';' after the definition of 'u1', found 'u1'");
  EXPECT_NE(error_of("u2 * x; u2 = x").find("unknown name 'u2'"), std::string::npos);
  EXPECT_EQ(error_of("u1 = x + beta;"), "expected an expression, found the end of the input");
}

TEST(ValueGraph, NamesCannotNestPastTheDepthLimit) {
  std::string text;
  for (int i = 1; i <= 200; ++i) {
    text += "u" + std::to_string(i) + " = sin(" + (i == 1 ? "x" : "u" + std::to_string(i - 1)) +
            ") + beta; ";
  }
  text += "u200";
  try {
    Parse(text);
    FAIL() << "parsed";
  } catch (const ParseError& e) {
    EXPECT_NE(e.detail().find("nests deeper than 256 levels"), std::string::npos) << e.detail();
  }
}

}  // namespace
}  // namespace actsearch
