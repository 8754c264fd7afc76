#include "controller/exhaustive_strategy.h"

#include <algorithm>
#include <stdexcept>

#include "controller/strategy_state.h"

namespace actsearch::controller {

ExhaustiveStrategy::ExhaustiveStrategy(const Space* space, uint64_t start_index)
    : space_(space), next_index_(0) {
  if (!space_->size()) throw std::invalid_argument("an exhaustive search needs a finite space");
  ReplayTo(start_index);
}

void ExhaustiveStrategy::ReplayTo(uint64_t index) {
  next_index_ = 0;
  skipped_ = 0;
  seen_ = ClassSet();
  for (; next_index_ < std::min(index, *space_->size()); ++next_index_) {
    const Candidate c = AnalyzeCandidate(*space_, next_index_);
    if (!c.screen.accepted() || !seen_.Insert(c.fingerprint)) ++skipped_;
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

std::string ExhaustiveStrategy::SaveState() const {
  StateWriter writer(name());
  writer.WriteSpace(*space_);
  writer.WriteUnsigned("next_index", next_index_);
  return writer.Bytes();
}

void ExhaustiveStrategy::RestoreState(const std::string& bytes) {
  StateReader reader(bytes, name());
  reader.CheckSpace(*space_);
  const uint64_t next_index = reader.ReadUnsigned("next_index");
  if (next_index > *space_->size()) throw reader.Error("the position is past the space's end");
  ReplayTo(next_index);
}

}  // namespace actsearch::controller
