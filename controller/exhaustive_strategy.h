// Every functionally distinct, unscreened candidate of a (small) space, once each, in the
// space's enumeration order; then nothing more.
#pragma once

#include "controller/strategy.h"
#include "search_space/dedup.h"
#include "search_space/space.h"

namespace actsearch::controller {

class ExhaustiveStrategy : public Strategy {
 public:
  // `space` must outlive the strategy. `start_index` resumes a walk (the index after the last
  // candidate proposed).
  explicit ExhaustiveStrategy(const Space* space, uint64_t start_index = 0);

  std::string name() const override { return "exhaustive"; }
  std::optional<Proposal> Propose() override;
  void Observe(uint64_t, double) override {}
  // The position of the walk (the classes seen are rebuilt from it on restore).
  std::string SaveState() const override;
  void RestoreState(const std::string& bytes) override;

  uint64_t next_index() const { return next_index_; }
  // Candidates passed over so far because screening rejected them or their class was seen.
  uint64_t skipped() const { return skipped_; }

 private:
  // Walks the space from the start up to `index`, without proposing, to rebuild the classes
  // already proposed.
  void ReplayTo(uint64_t index);

  const Space* space_;
  uint64_t next_index_;
  uint64_t skipped_ = 0;
  ClassSet seen_;
};

}  // namespace actsearch::controller
