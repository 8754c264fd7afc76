#include "search_space/dedup.h"

#include <gtest/gtest.h>

#include "search_space/parser.h"

namespace actsearch {
namespace {

Fingerprint Of(const std::string& text) { return ComputeFingerprint(Parse(text)); }

TEST(Fingerprint, EqualFunctionsWrittenDifferentlyShareOne) {
  EXPECT_EQ(Of("max(x, x)"), Of("x"));
  EXPECT_EQ(Of("x + x"), Of("x - -x"));
  EXPECT_EQ(Of("x + x"), Of("-(-x - x)"));
  EXPECT_EQ(Of("sigmoid(x) * x"), Of("x * sigmoid(x)"));
  EXPECT_EQ(Of("relu(x)"), Of("x - min(x, 0)"));
  EXPECT_EQ(Of("relu(x)"), Of("max(x, relu(x))"));
  EXPECT_EQ(Of("abs(x)"), Of("max(x, -x)"));
  EXPECT_EQ(Of("sin(x)^2 + cos(x)^2"), Of("cos(x - x)")) << "1 and 0.999..9 are one value";
  EXPECT_EQ(Of("x * sigmoid(beta * x)"), Of("sigmoid(beta * x) * x"));
}

TEST(Fingerprint, DifferentFunctionsDiffer) {
  EXPECT_NE(Of("x"), Of("-x"));
  EXPECT_NE(Of("sin(x)"), Of("cos(x)"));
  EXPECT_NE(Of("relu(x)"), Of("abs(x)"));
  // Equal at the initial betas but not once beta trains.
  EXPECT_NE(Of("x + beta"), Of("x + cos(x - x)"));
  EXPECT_NE(Of("x * sigmoid(beta * x)"), Of("x * sigmoid(x)"));
}

TEST(SpaceSummary, TheOneUnitSpaceHasFewerClassesThanCandidates) {
  const Space space(SpaceSpec{});
  const SpaceSummary s = SummarizeSpace(space, UINT64_MAX);
  EXPECT_EQ(s.candidates, 6250u);
  uint64_t screened = 0;
  for (const auto& [verdict, n] : s.screened) screened += n;
  EXPECT_EQ(s.accepted + screened, 6250u);
  EXPECT_LT(s.distinct, s.accepted);
  EXPECT_GT(s.distinct, 1000u);
  EXPECT_GT(s.screened.at("constant"), 0u);  // beta op beta and friends
}

TEST(SpaceSummary, DedupClassesAreStableAcrossRuns) {
  const Space space(SpaceSpec{});
  const Candidate a = AnalyzeCandidate(space, 1234);
  const Candidate b = AnalyzeCandidate(space, 1234);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_EQ(a.text, b.text);
}

}  // namespace
}  // namespace actsearch
