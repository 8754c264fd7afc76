// Walking a space in enumeration order with screening and functional dedup: what
// `actsearch space count|list` report and what the exhaustive strategy trains.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "search_space/candidate_analysis.h"
#include "search_space/space.h"

namespace actsearch {

// The index-th candidate of a space, analysed.
struct Candidate : CandidateAnalysis {
  uint64_t index = 0;
  std::vector<int> tokens;
};

Candidate AnalyzeCandidate(const Space& space, uint64_t index);

// Remembers the fingerprint classes seen so far.
class ClassSet {
 public:
  // True if the class is new.
  bool Insert(Fingerprint fingerprint) { return seen_.insert(fingerprint).second; }
  size_t size() const { return seen_.size(); }

 private:
  std::unordered_set<Fingerprint> seen_;
};

struct SpaceSummary {
  uint64_t candidates = 0;                   // token sequences walked
  uint64_t accepted = 0;                     // passed screening
  uint64_t distinct = 0;                     // fingerprint classes among the accepted
  std::map<std::string, uint64_t> screened;  // by verdict name
};

// Walks the first `limit` candidates (all, when the space is smaller).
SpaceSummary SummarizeSpace(const Space& space, uint64_t limit);

}  // namespace actsearch
