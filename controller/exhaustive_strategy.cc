#include "controller/exhaustive_strategy.h"

#include <algorithm>
#include <stdexcept>

namespace actsearch::controller {

ExhaustiveStrategy::ExhaustiveStrategy(const Space* space, uint64_t start_index)
    : space_(space), next_index_(0) {
  if (!space_->size()) throw std::invalid_argument("an exhaustive search needs a finite space");
  // Replaying the walk up to the start index rebuilds the set of classes already proposed.
  for (; next_index_ < std::min(start_index, *space_->size()); ++next_index_) {
    const Candidate c = AnalyzeCandidate(*space_, next_index_);
    if (c.screen.accepted()) seen_.Insert(c.fingerprint);
  }
}

std::optional<Proposal> ExhaustiveStrategy::Propose() {
  while (next_index_ < *space_->size()) {
    const uint64_t index = next_index_++;
    const Candidate c = AnalyzeCandidate(*space_, index);
    if (c.screen.accepted() && seen_.Insert(c.fingerprint)) return Proposal{index + 1, c.tokens};
    ++skipped_;
  }
  return std::nullopt;
}

}  // namespace actsearch::controller
