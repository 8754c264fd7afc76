// The ways a searched winner is re-evaluated (docs/reevaluation.md): the expression itself,
// SUGAR with the expression as the surrogate (ReLU forward, the expression's derivative
// backward), and PWLU initialised from the expression.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "search_space/expr.h"

namespace actsearch::worker {

enum class ReevaluationMode { kPlain, kSugar, kPwlu };

const char* ReevaluationModeName(ReevaluationMode mode);  // plain, sugar, pwlu
std::optional<ReevaluationMode> ReevaluationModeFromName(const std::string& name);
std::vector<ReevaluationMode> AllReevaluationModes();

// The activation spec a mode trains for `expression`, or why it is not worth training.
struct ModeActivation {
  std::string spec;     // set when trained
  std::string skipped;  // set when not: the reason, as a sentence fragment
};

// plain: the canonical expression, or `relu` for anything equal to ReLU (same fingerprint).
// sugar: `sugar:expr=<expression>` (the default variant: surrogate gradient everywhere, betas
//   fixed at their initial values); skipped when the expression's derivative is ReLU's step at
//   every probe point, since ReLU forward with ReLU's gradient is ReLU itself.
// pwlu: `pwlu:init=<expression>` (per channel, 16 intervals, 100 warm-up steps), or `pwlu`
//   for ReLU, PWLU's own default start.
ModeActivation ActivationForMode(const Expr& expression, ReevaluationMode mode);

}  // namespace actsearch::worker
