#include "worker/reevaluation_modes.h"

#include <cmath>

#include "search_space/fingerprint.h"
#include "search_space/parser.h"
#include "search_space/printer.h"
#include "search_space/probes.h"
#include "search_space/program.h"

namespace actsearch::worker {
namespace {

bool IsRelu(const Expr& expression) {
  static const Fingerprint relu = ComputeFingerprint(Parse("relu(x)"));
  return ComputeFingerprint(expression) == relu;
}

// Whether df/dx at the initial betas is 0 for x < 0 and 1 for x > 0 at every probe point
// (x = 0 excluded: there the derivative is a convention).
bool HasReluSlope(const Program& program) {
  const std::vector<double>& points = ProbePoints();
  const std::vector<double> slope = EvaluateAtProbes(program, program.initial_betas()).slope;
  for (size_t i = 0; i < points.size(); ++i) {
    if (std::abs(points[i]) < 1e-9) continue;
    const double relu_slope = points[i] > 0 ? 1.0 : 0.0;
    if (!(std::abs(slope[i] - relu_slope) <= 1e-9)) return false;  // NaN slopes differ too
  }
  return true;
}

}  // namespace

const char* ReevaluationModeName(ReevaluationMode mode) {
  switch (mode) {
    case ReevaluationMode::kPlain: return "plain";
    case ReevaluationMode::kSugar: return "sugar";
    case ReevaluationMode::kPwlu: return "pwlu";
  }
  return "?";
}

std::optional<ReevaluationMode> ReevaluationModeFromName(const std::string& name) {
  for (const ReevaluationMode mode : AllReevaluationModes()) {
    if (name == ReevaluationModeName(mode)) return mode;
  }
  return std::nullopt;
}

std::vector<ReevaluationMode> AllReevaluationModes() {
  return {ReevaluationMode::kPlain, ReevaluationMode::kSugar, ReevaluationMode::kPwlu};
}

ModeActivation ActivationForMode(const Expr& expression, ReevaluationMode mode) {
  const Program program(expression);
  const std::string text = ToString(expression);
  switch (mode) {
    case ReevaluationMode::kPlain: return {IsRelu(expression) ? "relu" : text, ""};
    case ReevaluationMode::kSugar:
      if (HasReluSlope(program)) {
        return {"", "its derivative is ReLU's step, so SUGAR with it trains exactly as ReLU"};
      }
      return {"sugar:expr=" + text, ""};
    case ReevaluationMode::kPwlu: return {IsRelu(expression) ? "pwlu" : "pwlu:init=" + text, ""};
  }
  return {"", "unknown mode"};
}

}  // namespace actsearch::worker
