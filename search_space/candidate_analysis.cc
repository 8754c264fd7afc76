#include "search_space/candidate_analysis.h"

#include "search_space/parser.h"
#include "search_space/printer.h"
#include "search_space/program.h"

namespace actsearch {

CandidateAnalysis AnalyzeExpression(const Expr& expr) {
  CandidateAnalysis a;
  a.expr = expr;
  a.text = ToString(expr);
  a.screen = Screen(Program(expr));
  a.fingerprint = ComputeFingerprint(expr);
  for (const std::string& op : OperatorNames(expr)) a.operators.push_back(op);
  return a;
}

std::string FingerprintOfText(const std::string& expression) {
  return FingerprintToHex(ComputeFingerprint(Parse(expression)));
}

}  // namespace actsearch
