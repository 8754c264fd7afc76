#include "search_space/screening.h"

#include <gtest/gtest.h>

#include "search_space/parser.h"

namespace actsearch {
namespace {

ScreenResult ScreenText(const std::string& text) { return Screen(Program(Parse(text))); }

TEST(Screening, AcceptsTheFigure3Functions) {
  for (const char* text :
       {"x * sigmoid(beta * x)", "max(x, sigmoid(x))", "cos(x) - x", "min(x, sin(x))",
        "atan(x)^2 - x", "max(x, tanh(x))", "sinc(x) + x", "x * asinh(x)^2", "relu(x)"}) {
    const ScreenResult r = ScreenText(text);
    EXPECT_TRUE(r.accepted()) << text << ": " << r.reason;
  }
}

TEST(Screening, RejectsDegenerateCandidatesWithAReason) {
  struct Case {
    const char* text;
    ScreenVerdict verdict;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"exp(exp(x))", ScreenVerdict::kNonFinite, "non-finite value"},
      {"cosh(x)^3", ScreenVerdict::kExploding, "exploding value"},
      {"beta", ScreenVerdict::kConstant, "constant"},
      {"x - x", ScreenVerdict::kConstant, "constant"},
      {"sin(x)^2 + cos(x)^2", ScreenVerdict::kConstant, "constant"},
      {"min(relu(x), 0)", ScreenVerdict::kConstant, "constant"},
      {"relu(x - exp(x))", ScreenVerdict::kConstant, "constant"},
      {"relu(x^2 - exp(cos(x - x)) - exp(cos(x - x)))", ScreenVerdict::kFlat, "flat"},
      {"relu(x - x - beta) * x", ScreenVerdict::kConstant, "stuck there (no beta gradient)"},
      {"beta + beta", ScreenVerdict::kConstant, "at every beta setting"},
      {"relu(cos(x) - exp(exp(x^2)) * x^2)", ScreenVerdict::kNonFinite, "gradient"},
  };
  for (const Case& c : cases) {
    const ScreenResult r = ScreenText(c.text);
    EXPECT_EQ(r.verdict, c.verdict) << c.text << ": " << r.reason;
    EXPECT_NE(r.reason.find(c.reason), std::string::npos) << c.text << ": " << r.reason;
  }
}

TEST(Screening, JudgesOverTheBetasACandidateCanReachAndWhereBatchNormPutsInputs) {
  EXPECT_TRUE(ScreenText("beta * x - x").accepted()) << "0 at the start, a line once beta moves";
  EXPECT_TRUE(ScreenText("min(relu(x), beta)").accepted()) << "ReLU with a trainable cap";
  EXPECT_TRUE(ScreenText("relu(cos(x) - exp(x^2)^3 * x^2)").accepted())
      << "a bump around 0, where most preactivations fall";
}

TEST(Screening, DivisionNearZeroIsNotScreenedButStaysFinite) {
  // eps takes the denominator's sign, so x / x is finite everywhere, including at 0.
  EXPECT_TRUE(ScreenText("sin(x) / x").accepted());
}

}  // namespace
}  // namespace actsearch
