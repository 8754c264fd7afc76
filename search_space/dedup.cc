#include "search_space/dedup.h"

#include <algorithm>

namespace actsearch {

Candidate AnalyzeCandidate(const Space& space, uint64_t index) {
  Candidate c;
  const std::vector<int> tokens = space.TokensAt(index);
  static_cast<CandidateAnalysis&>(c) = AnalyzeExpression(space.Decode(tokens));
  c.index = index;
  c.tokens = tokens;
  return c;
}

SpaceSummary SummarizeSpace(const Space& space, uint64_t limit) {
  SpaceSummary summary;
  ClassSet classes;
  const uint64_t end = std::min(limit, space.size().value_or(UINT64_MAX));
  for (uint64_t index = 0; index < end; ++index) {
    const Candidate c = AnalyzeCandidate(space, index);
    ++summary.candidates;
    if (!c.screen.accepted()) {
      ++summary.screened[VerdictName(c.screen.verdict)];
      continue;
    }
    ++summary.accepted;
    classes.Insert(c.fingerprint);
  }
  summary.distinct = classes.size();
  return summary;
}

}  // namespace actsearch
