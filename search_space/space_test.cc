#include "search_space/space.h"

#include <gtest/gtest.h>

#include <random>

#include "search_space/parser.h"
#include "search_space/printer.h"

namespace actsearch {
namespace {

Space Units(int n) { return Space(SpaceSpec{n, AllUnaryTokens(), AllBinaryOps()}); }

TEST(Space, HasThePapersSizes) {
  EXPECT_EQ(Units(1).size(), 6250u);
  EXPECT_EQ(Units(2).size(), 6250ull * 2 * 2 * 25 * 25 * 10);
  EXPECT_EQ(Units(3).size(), 6250ull * 25000 * 3 * 3 * 25 * 25 * 10);
  EXPECT_FALSE(Units(6).size().has_value()) << "beyond 2^64 the size is unknown, not wrapped";
  SpaceSpec small{1, ParseUnaryList("identity,sin,cos"), ParseBinaryList("add,max")};
  EXPECT_EQ(Space(small).size(), 3u * 3 * 2);
}

TEST(Space, MasksAllowOnlyEarlierUnitsAsInputs) {
  const Space space = Units(3);
  ASSERT_EQ(space.num_steps(), 15);
  EXPECT_EQ(space.vocabulary().size(), 3u + 25 + 10);
  EXPECT_EQ(space.choices(0).size(), 1u) << "unit 1 sees x only";
  EXPECT_EQ(space.choices(5).size(), 2u) << "unit 2: x or y1";
  EXPECT_EQ(space.choices(11).size(), 3u) << "unit 3: x, y1 or y2";
  EXPECT_EQ(space.step_kind(2), StepKind::kUnary);
  EXPECT_EQ(space.step_kind(4), StepKind::kBinary);
  const std::vector<bool> mask = space.legal_mask(4);
  int legal = 0;
  for (size_t id = 0; id < mask.size(); ++id) {
    if (mask[id]) {
      ++legal;
      EXPECT_TRUE(IsBinary(*OpByName(space.vocabulary()[id])));
    }
  }
  EXPECT_EQ(legal, 10);
}

TEST(Space, EnumeratesInAStableLexicographicOrder) {
  const Space space = Units(1);
  EXPECT_EQ(space.TokensToString(space.TokensAt(0)), "x x identity identity add");
  EXPECT_EQ(space.TokensToString(space.TokensAt(1)), "x x identity identity mul");
  EXPECT_EQ(space.TokensToString(space.TokensAt(6249)), "x x beta beta mix");
  for (uint64_t i = 0; i < 6250; i += 37) EXPECT_EQ(space.IndexOf(space.TokensAt(i)), i);
  EXPECT_THROW(space.TokensAt(6250), std::out_of_range);
}

TEST(Space, DecodesCoreUnits) {
  const Space one = Units(1);
  EXPECT_EQ(ToString(one.Decode(one.TokensFromString("x x identity sin max"))), "max(x, sin(x))");
  EXPECT_EQ(ToString(one.Decode(one.TokensFromString("x x scale identity sigmul"))),
            "sigmoid(beta * x) * x");
  const Space two = Units(2);
  EXPECT_EQ(
      ToString(two.Decode(two.TokensFromString("x x atan atan mul  y1 x identity identity sub"))),
      "atan(x) * atan(x) - x");
  EXPECT_THROW(one.TokensFromString("x x identity sin"), std::invalid_argument);
  EXPECT_THROW(one.TokensFromString("y1 x identity sin add"), std::invalid_argument);
  EXPECT_THROW(one.Decode({0, 0, 1, 1, 1}), std::invalid_argument) << "a unary token as binary";
}

TEST(Space, EncodesWhatItCanReachAndDecodesBackToTheSameTree) {
  const Space one = Units(1);
  for (const char* text :
       {"sigmoid(beta * x) * x", "max(x, sigmoid(x))", "cos(x) - x", "min(x, sin(x))",
        "max(x, tanh(x))", "sinc(x) + x", "x + beta", "beta * x", "tanh(x) * x"}) {
    const Expr e = Parse(text);
    const auto tokens = one.Encode(e);
    ASSERT_TRUE(tokens.has_value()) << text;
    EXPECT_TRUE(Equal(one.Decode(*tokens), e)) << text;
  }
  // Two unaries in a row need a second unit.
  EXPECT_FALSE(one.Encode(Parse("x * sigmoid(beta * x)")).has_value());
  const Space two = Units(2);
  for (const char* text :
       {"x * sigmoid(beta * x)", "x * (asinh(x) * asinh(x))", "sin(x) + x", "max(x, x^2) - x"}) {
    const Expr e = Parse(text);
    const auto tokens = two.Encode(e);
    ASSERT_TRUE(tokens.has_value()) << text;
    EXPECT_TRUE(Equal(two.Decode(*tokens), e)) << text << " -> " << two.TokensToString(*tokens);
  }
  // A bare asinh(x) is never a unit's output, so asinh(x)^2 is out of reach of every space.
  EXPECT_FALSE(two.Encode(Parse("x * asinh(x)^2")).has_value());
  const Space no_beta(SpaceSpec{1, ParseUnaryList("identity,sin"), ParseBinaryList("add")});
  EXPECT_FALSE(no_beta.Encode(Parse("x + beta")).has_value());
}

TEST(Space, EncodeInvertsDecodeOnRandomCandidates) {
  for (int units : {1, 2, 3}) {
    const Space space = Units(units);
    std::mt19937_64 rng(units);
    std::uniform_int_distribution<uint64_t> pick(0, *space.size() - 1);
    for (int i = 0; i < 2000; ++i) {
      const Expr e = space.Decode(space.TokensAt(pick(rng)));
      const auto tokens = space.Encode(e);
      ASSERT_TRUE(tokens.has_value()) << ToString(e);
      ASSERT_TRUE(Equal(space.Decode(*tokens), e)) << ToString(e);
    }
  }
}

TEST(Space, RejectsBadSpecsWithTheReason) {
  EXPECT_THROW(Space(SpaceSpec{0, AllUnaryTokens(), AllBinaryOps()}), std::invalid_argument);
  EXPECT_THROW(Space(SpaceSpec{1, {}, AllBinaryOps()}), std::invalid_argument);
  EXPECT_THROW(Space(SpaceSpec{1, ParseUnaryList("sin,sin"), AllBinaryOps()}),
               std::invalid_argument);
  try {
    ParseUnaryList("sin,tan");
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown unary operator 'tan'"), std::string::npos);
  }
  EXPECT_THROW(ParseBinaryList("sin"), std::invalid_argument) << "sin is not binary";
  EXPECT_EQ(ParseUnaryList("x, sin").size(), 2u) << "x names the identity";
}

}  // namespace
}  // namespace actsearch
