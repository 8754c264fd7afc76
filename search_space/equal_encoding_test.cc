#include "search_space/equal_encoding.h"

#include <gtest/gtest.h>

#include "search_space/parser.h"
#include "search_space/printer.h"

namespace actsearch {
namespace {

TEST(EqualEncoding, AnExpressionTheSpaceReachesEncodesAsItself) {
  const Space space{SpaceSpec{}};
  const std::optional<EqualEncoding> found = EncodeEqualFunction(space, Parse("max(x, sin(x))"), 0);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->how, EqualEncoding::How::kDirect);
  EXPECT_EQ(space.TokensToString(found->tokens), "x x identity sin max");
}

TEST(EqualEncoding, SwappedOperandsReachSwishInOneUnit) {
  const Space space{SpaceSpec{}};
  const Expr swish = Parse("x * sigmoid(beta * x)");
  EXPECT_FALSE(space.Encode(swish).has_value()) << "not a unit as written";
  const std::optional<EqualEncoding> found = EncodeEqualFunction(space, swish, 0);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->how, EqualEncoding::How::kCommuted);
  EXPECT_EQ(ToString(space.Decode(found->tokens)), ToString(found->encoded));
  EXPECT_EQ(ToString(found->encoded), "sigmoid(beta * x) * x");
}

TEST(EqualEncoding, AnotherMemberOfTheClassIsFoundByScanning) {
  const Space space{SpaceSpec{}};
  // Nested unary functions are no unit's tree, but max(x, -x) computes |x|.
  const Expr abs_abs = Parse("abs(abs(x))");
  EXPECT_FALSE(EncodeEqualFunction(space, abs_abs, 0).has_value()) << "no scan allowed";
  const std::optional<EqualEncoding> found = EncodeEqualFunction(space, abs_abs, 10000);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->how, EqualEncoding::How::kSameClass);
  EXPECT_EQ(ToString(space.Decode(found->tokens)), ToString(found->encoded));
}

TEST(EqualEncoding, CommutedFormsCoverEverySymmetricSwap) {
  const std::vector<Expr> forms = CommutedForms(Parse("max(x, sin(x)) + tanh(x)"));
  EXPECT_EQ(forms.size(), 4u);
  EXPECT_EQ(ToString(forms[0]), "max(x, sin(x)) + tanh(x)") << "the expression first";
}

}  // namespace
}  // namespace actsearch
