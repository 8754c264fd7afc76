#include "storage/candidate_record.h"

#include "search_space/fingerprint.h"
#include "search_space/printer.h"
#include "search_space/program.h"
#include "search_space/screening.h"

namespace actsearch::storage {

NewCandidate DescribeCandidate(int64_t search_id, const Expr& expr, const std::string& proposed_by,
                               const std::string& tokens) {
  const Program program(expr);
  const ScreenResult screen = Screen(program);
  NewCandidate candidate;
  candidate.search_id = search_id;
  candidate.expression = ToString(expr);
  candidate.fingerprint = FingerprintToHex(ComputeFingerprint(expr));
  candidate.tokens = tokens;
  candidate.proposed_by = proposed_by;
  candidate.screen = VerdictName(screen.verdict);
  candidate.screen_reason = screen.reason;
  for (const std::string& op : OperatorNames(expr)) candidate.operators.push_back(op);
  return candidate;
}

}  // namespace actsearch::storage
