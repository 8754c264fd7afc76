#include "search_space/parser.h"

#include <gtest/gtest.h>

#include <random>

#include "search_space/printer.h"

namespace actsearch {
namespace {

// The paper's Figure 3 functions and ReLU, written as users write them.
const std::vector<std::string> kFigure3 = {
    "x * sigmoid(beta * x)", "max(x, sigmoid(x))", "cos(x) - x",
    "min(x, sin(x))",        "atan(x)^2 - x",      "max(x, tanh(x))",
    "sinc(x) + x",           "x * asinh(x)^2",     "relu(x)",
};

TEST(Parser, PrinterRoundTripsTheFigure3Functions) {
  for (const std::string& text : kFigure3) {
    EXPECT_EQ(ToString(Parse(text)), text);
  }
}

TEST(Parser, ReadsTheGrammarsStructure) {
  const Expr swish = Parse("x * sigmoid(beta * x)");
  ASSERT_EQ(swish->op, OpId::kMul);
  EXPECT_EQ(swish->a->op, OpId::kInput);
  ASSERT_EQ(swish->b->op, OpId::kSigmoid);
  EXPECT_EQ(swish->b->a->op, OpId::kScale);
  EXPECT_EQ(Parse("atan(x)^2 - x")->a->op, OpId::kSquare);
  EXPECT_EQ(Parse("-x^2")->op, OpId::kNeg) << "powers bind tighter than negation";
  EXPECT_EQ(Parse("x - x - x")->a->op, OpId::kSub) << "subtraction is left-associative";
}

TEST(Parser, FoldsEquivalentSpellingsIntoOneCanonicalTree) {
  EXPECT_EQ(ToString(Parse("max(x, 0)")), "relu(x)");
  EXPECT_EQ(ToString(Parse("max(0, x)")), "relu(x)");
  EXPECT_EQ(ToString(Parse("min(x, 0)")), "min(x, 0)");
  EXPECT_EQ(Parse("min(x, 0)")->op, OpId::kMin0);
  EXPECT_EQ(Parse("sigmoid(x) * x")->op, OpId::kSigmul);
  EXPECT_EQ(ToString(Parse("x * beta")), "beta * x");
  EXPECT_EQ(Parse("beta + x")->op, OpId::kShift);
  EXPECT_EQ(Parse("exp(-x^2)")->op, OpId::kGaussian);
  EXPECT_EQ(Parse("log(abs(x))")->op, OpId::kLogAbs);
  EXPECT_EQ(ToString(Parse("arctan(x)")), "atan(x)");
  EXPECT_EQ(ToString(Parse("((x))")), "x");
  // Binary operators without a symbol have names of their own; registry names work too.
  EXPECT_EQ(ToString(Parse("rbf(x, sin(x))")), "rbf(x, sin(x))");
  EXPECT_EQ(ToString(Parse("mul(x, x)")), "x * x");
  EXPECT_EQ(ToString(Parse("sigmul(beta * x, x)")), "sigmoid(beta * x) * x");
  // The written-out Gaussian kernel is a composition of grammar operators.
  EXPECT_EQ(ToString(Parse("exp(-beta * (x - sin(x))^2)")), "exp(-beta * (x - sin(x))^2)");
}

TEST(Parser, PrintsOnlyTheParenthesesTheTreeNeeds) {
  EXPECT_EQ(ToString(Parse("(x + sin(x)) * x")), "(x + sin(x)) * x");
  EXPECT_EQ(ToString(Parse("x - (x - x)")), "x - (x - x)");
  EXPECT_EQ(ToString(Parse("(x * x) * x")), "x * x * x");
  EXPECT_EQ(ToString(Parse("x * (x * x)")), "x * (x * x)");
  EXPECT_EQ(ToString(Parse("(-x)^2")), "(-x)^2");
  EXPECT_EQ(ToString(Parse("-(x + x)")), "-(x + x)");
  EXPECT_EQ(ToString(Parse("x + -x")), "x + -x");
  EXPECT_EQ(ToString(Parse("(x^2)^3")), "(x^2)^3");
}

struct BadInput {
  std::string text;
  size_t position;
  std::string expected;  // part of the message
};

TEST(Parser, MalformedExpressionsNameThePositionAndWhatWasExpected) {
  const std::vector<BadInput> cases = {
      {"", 0, "expected an expression"},
      {"sin(x", 5, "expected ')'"},
      {"x +", 3, "expected x, beta, a function or '('"},
      {"x x", 2, "expected an operator or the end"},
      {"tan(x)", 0, "unknown function 'tan'"},
      {"2 * x", 0, "numbers are not part of the grammar"},
      {"x^4", 2, "exponent 2 or 3"},
      {"log(x)", 4, "log(abs(...))"},
      {"max(x sin(x))", 6, "expected ','"},
      {"y + x", 0, "unknown name 'y'"},
      {"x * -x", 4, "write (-a)"},
      {"max(1, x)", 4, "only 0 is allowed"},
      {"x ? x", 2, "expected an operator or the end, found '?'"},
  };
  for (const BadInput& c : cases) {
    try {
      Parse(c.text);
      ADD_FAILURE() << "'" << c.text << "' parsed";
    } catch (const ParseError& e) {
      EXPECT_EQ(e.position(), c.position) << c.text << ": " << e.what();
      EXPECT_NE(e.detail().find(c.expected), std::string::npos) << c.text << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("column " + std::to_string(c.position + 1)),
                std::string::npos);
    }
  }
}

// Random trees over every operator: printing then parsing gives back the same tree.
Expr RandomTree(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth <= 0 ? 0 : 2);
  switch (kind(rng)) {
    case 0: return rng() % 4 == 0 ? MakeBeta() : MakeInput();
    case 1: {
      const auto& unary = AllUnaryTokens();
      return MakeUnary(unary[rng() % unary.size()], RandomTree(rng, depth - 1));
    }
    default: {
      const auto& binary = AllBinaryOps();
      Expr a = RandomTree(rng, depth - 1);
      return MakeBinary(binary[rng() % binary.size()], a, RandomTree(rng, depth - 1));
    }
  }
}

TEST(Parser, EveryTreeRoundTripsThroughItsText) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 5000; ++i) {
    const Expr e = RandomTree(rng, 5);
    const std::string text = ToString(e);
    Expr back;
    ASSERT_NO_THROW(back = Parse(text)) << text;
    ASSERT_TRUE(Equal(back, e)) << text << " reads back as " << ToString(back);
  }
}

TEST(Parser, ANestingBombIsAnErrorNotACrash) {
  const std::string deep = std::string(100000, '(') + "x" + std::string(100000, ')');
  try {
    Parse(deep);
    FAIL() << "parsed";
  } catch (const ParseError& e) {
    EXPECT_NE(e.detail().find("nests deeper than 256 levels"), std::string::npos) << e.detail();
  }
  EXPECT_THROW(Parse(std::string(100000, '-') + "x"), ParseError);
  EXPECT_THROW(Parse(std::string(50000, 's') + "x"), ParseError) << "no name, no crash either";
  std::string calls;
  for (int i = 0; i < 20000; ++i) calls += "sin(";
  EXPECT_THROW(Parse(calls + "x" + std::string(20000, ')')), ParseError);
  const std::string fine = std::string(100, '(') + "x" + std::string(100, ')');
  EXPECT_EQ(ToString(Parse(fine)), "x");
}

}  // namespace
}  // namespace actsearch
