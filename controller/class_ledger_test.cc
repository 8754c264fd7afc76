// The rules of a search, as the scheduler and the in-process search both apply them.
#include "controller/class_ledger.h"

#include <gtest/gtest.h>

#include "search_space/parser.h"

namespace actsearch::controller {
namespace {

CandidateAnalysis Of(const char* text) { return AnalyzeExpression(Parse(text)); }

TEST(ClassLedger, ANewClassIsTrainedOnceAndItsRepeatsWaitThenTakeItsReward) {
  ClassLedger ledger;
  EXPECT_EQ(ledger.Rule(Of("x + x")).kind, Ruling::Kind::kTrain);
  ledger.StartTraining(Of("x + x").fingerprint, 7);
  const Ruling waiting = ledger.Rule(Of("x - (-x)"));  // the same function
  EXPECT_EQ(waiting.kind, Ruling::Kind::kInFlight);
  EXPECT_EQ(waiting.trial, 7);
  EXPECT_EQ(ledger.in_training(), 1);
  EXPECT_EQ(ledger.FinishTraining(7, 0.75), Of("x + x").fingerprint);
  const Ruling known = ledger.Rule(Of("x - (-x)"));
  EXPECT_EQ(known.kind, Ruling::Kind::kKnown);
  EXPECT_EQ(known.reward, 0.75);
  EXPECT_EQ(ledger.in_training(), 0);
  EXPECT_FALSE(ledger.FinishTraining(7, 0.5).has_value()) << "finished once";
  EXPECT_EQ(ledger.Rule(Of("sin(x)")).kind, Ruling::Kind::kTrain) << "another class";
}

TEST(ClassLedger, AScreenedClassIsRecordedOnceAndNeverTrained) {
  ClassLedger ledger;
  const CandidateAnalysis constant = Of("x - x");
  ASSERT_FALSE(constant.screen.accepted());
  EXPECT_EQ(ledger.Rule(constant).kind, Ruling::Kind::kScreened);
  ledger.SetReward(constant.fingerprint, 0);
  EXPECT_EQ(ledger.Rule(constant).kind, Ruling::Kind::kScreenedRepeat);
  EXPECT_EQ(ledger.Rule(Of("sin(x) - sin(x)")).kind, Ruling::Kind::kScreenedRepeat)
      << "the same constant function";
}

}  // namespace
}  // namespace actsearch::controller
