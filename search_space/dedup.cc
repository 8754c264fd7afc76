#include "search_space/dedup.h"

#include <algorithm>

#include "search_space/printer.h"

namespace actsearch {

Candidate AnalyzeCandidate(const Space& space, uint64_t index) {
  Candidate c;
  c.index = index;
  c.tokens = space.TokensAt(index);
  c.expr = space.Decode(c.tokens);
  c.text = ToString(c.expr);
  const Program program(c.expr);
  c.screen = Screen(program);
  c.fingerprint = ComputeFingerprint(c.expr);
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
