#include "controller/report_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

namespace actsearch::controller {
namespace {

constexpr int64_t kBudget = 300;

proto::TrialOutcome Sound() {
  proto::TrialOutcome o;
  o.set_status(proto::TrialOutcome::DONE);
  o.set_validation_accuracy(0.91);
  o.set_test_accuracy(0.9);
  o.set_final_loss(0.3);
  o.set_steps(kBudget);
  o.set_wall_seconds(12.5);
  proto::CurvePoint* point = o.add_curve();
  point->set_step(100);
  point->set_loss(0.8);
  // Not evaluated there: no validation accuracy.
  point = o.add_curve();
  point->set_step(kBudget);
  point->set_loss(0.3);
  point->set_validation_accuracy(0.91);
  return o;
}

TEST(OutcomeProblem, ASoundOutcomeAndADivergedOneAreAccepted) {
  EXPECT_EQ(OutcomeProblem(Sound(), kBudget), "");
  proto::TrialOutcome diverged = Sound();
  diverged.set_status(proto::TrialOutcome::DIVERGED);
  diverged.set_validation_accuracy(std::nan(""));  // recorded as 0 whatever it says
  diverged.clear_final_loss();                     // not finite: left out
  diverged.clear_test_accuracy();
  diverged.set_steps(17);
  EXPECT_EQ(OutcomeProblem(diverged, kBudget), "");
}

TEST(OutcomeProblem, AbsentFiguresAreAcceptedWhereATrainingHasNone) {
  proto::TrialOutcome no_test = Sound();
  no_test.clear_test_accuracy();
  no_test.clear_final_loss();
  EXPECT_EQ(OutcomeProblem(no_test, kBudget), "");
  proto::TrialOutcome stopped = Sound();
  stopped.set_status(proto::TrialOutcome::STOPPED);
  stopped.clear_validation_accuracy();
  EXPECT_EQ(OutcomeProblem(stopped, kBudget), "");
  proto::TrialOutcome failed;
  failed.set_status(proto::TrialOutcome::FAILED);
  failed.set_error("no data files");
  EXPECT_EQ(OutcomeProblem(failed, kBudget), "");
}

TEST(OutcomeProblem, EveryImpossibleFigureIsNamed) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<std::pair<std::function<void(proto::TrialOutcome&)>, std::string>> cases = {
      {[&](auto& o) { o.set_validation_accuracy(inf); }, "validation_accuracy is inf"},
      {[](auto& o) { o.set_validation_accuracy(std::nan("")); }, "validation_accuracy is nan"},
      {[](auto& o) { o.set_validation_accuracy(-0.1); }, "validation_accuracy is -0.1"},
      {[](auto& o) { o.set_validation_accuracy(1.5); }, "must be in [0, 1]"},
      {[](auto& o) { o.set_test_accuracy(7); }, "test_accuracy is 7"},
      {[&](auto& o) { o.set_final_loss(-inf); }, "final_loss is -inf"},
      {[](auto& o) { o.set_final_loss(std::nan("")); }, "final_loss is nan"},
      {[](auto& o) { o.clear_validation_accuracy(); }, "validation_accuracy is missing"},
      {[](auto& o) {
         o.set_status(proto::TrialOutcome::STOPPED);
         o.set_validation_accuracy(3);
       },
       "validation_accuracy is 3"},
      {[](auto& o) { o.set_steps(kBudget + 1); }, "steps is 301; must be from 0 to the child's"},
      {[](auto& o) { o.set_steps(-4); }, "steps is -4"},
      {[&](auto& o) { o.set_wall_seconds(inf); }, "wall_seconds is inf"},
      {[](auto& o) { o.set_wall_seconds(-1); }, "wall_seconds is -1"},
      {[](auto& o) { o.mutable_curve(1)->set_validation_accuracy(2); },
       "curve[1].validation_accuracy is 2"},
      {[](auto& o) { o.mutable_curve(0)->set_step(1000000); }, "curve[0].step is 1000000"},
      {[](auto& o) { o.set_status(static_cast<proto::TrialOutcome::Status>(42)); },
       "status 42 is not a trial outcome"},
  };
  for (const auto& [spoil, problem] : cases) {
    proto::TrialOutcome outcome = Sound();
    spoil(outcome);
    EXPECT_NE(OutcomeProblem(outcome, kBudget).find(problem), std::string::npos)
        << "wanted '" << problem << "', got '" << OutcomeProblem(outcome, kBudget) << "'";
  }
}

TEST(OutcomeProblem, APrunedChildCarriesTheAccuracyOfItsRung) {
  proto::TrialOutcome pruned = Sound();
  pruned.set_status(proto::TrialOutcome::PRUNED);
  pruned.set_steps(100);
  pruned.set_validation_accuracy(0.6);
  EXPECT_EQ(OutcomeProblem(pruned, kBudget), "");
  pruned.clear_validation_accuracy();
  EXPECT_NE(OutcomeProblem(pruned, kBudget).find("validation_accuracy is missing"),
            std::string::npos);
}

TEST(ProgressProblem, AnEvaluationMustBeAnAccuracyWithinTheBudget) {
  EXPECT_EQ(ProgressProblem(100, 0.5, kBudget), "");
  EXPECT_NE(ProgressProblem(100, 1.5, kBudget).find("validation_accuracy is 1.5"),
            std::string::npos);
  EXPECT_NE(ProgressProblem(100, std::nan(""), kBudget).find("validation_accuracy"),
            std::string::npos);
  EXPECT_NE(ProgressProblem(301, 0.5, kBudget).find("step is 301"), std::string::npos);
}

}  // namespace
}  // namespace actsearch::controller
