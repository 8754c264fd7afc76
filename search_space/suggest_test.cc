#include "search_space/suggest.h"

#include <gtest/gtest.h>

#include "search_space/parser.h"
#include "search_space/space.h"

namespace actsearch {
namespace {

TEST(DidYouMean, NamesTheClosestKnownNameOrNothing) {
  const std::vector<std::string> commands = {"local", "controller", "searches", "leaderboard"};
  EXPECT_EQ(DidYouMean("serches", commands), " (did you mean 'searches'?)");
  EXPECT_EQ(DidYouMean("leaderbaord", commands), " (did you mean 'leaderboard'?)");
  EXPECT_EQ(DidYouMean("contr", commands), " (did you mean 'controller'?)") << "a prefix";
  EXPECT_EQ(DidYouMean("xyzzy", commands), "");
  EXPECT_EQ(DidYouMean("", commands), "");
}

TEST(DidYouMean, MistypedOperatorsGetASuggestion) {
  try {
    ParseUnaryList("identity,sni");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown unary operator 'sni' (did you mean 'sin'?)"),
              std::string::npos)
        << e.what();
  }
  try {
    Parse("x * sigmod(x)");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown function 'sigmod' (did you mean 'sigmoid'?)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(AllOperatorNames().size(), 35u);
}

}  // namespace
}  // namespace actsearch
