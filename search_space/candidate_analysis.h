// What the search knows about a candidate before any training, computed in one place: its
// canonical text, screening verdict, functional class and operators. The scheduler, the
// in-process search, the exhaustive strategy, `actsearch space` and the results store all
// take it from here; the store only records it.
#pragma once

#include <string>
#include <vector>

#include "search_space/expr.h"
#include "search_space/fingerprint.h"
#include "search_space/screening.h"

namespace actsearch {

struct CandidateAnalysis {
  Expr expr;
  std::string text;                    // canonical printed form
  ScreenResult screen;                 // accepted, or why not
  Fingerprint fingerprint = 0;         // functional class
  std::vector<std::string> operators;  // the operators it uses, by name (leaves excluded)
};

// Screens and fingerprints `expr` (at most a few milliseconds).
CandidateAnalysis AnalyzeExpression(const Expr& expr);

// The functional class of an expression's text, as the results store records it (hex): for
// rebuilding a stored search's classes. Throws ParseError for malformed text.
std::string FingerprintOfText(const std::string& expression);

}  // namespace actsearch
