#include "storage/candidate_record.h"

namespace actsearch::storage {

NewCandidate CandidateRow(int64_t search_id, const CandidateAnalysis& analysis,
                          const std::string& proposed_by, const std::string& tokens) {
  NewCandidate candidate;
  candidate.search_id = search_id;
  candidate.expression = analysis.text;
  candidate.fingerprint = FingerprintToHex(analysis.fingerprint);
  candidate.tokens = tokens;
  candidate.proposed_by = proposed_by;
  candidate.screen = VerdictName(analysis.screen.verdict);
  candidate.screen_reason = analysis.screen.reason;
  candidate.operators = analysis.operators;
  return candidate;
}

}  // namespace actsearch::storage
