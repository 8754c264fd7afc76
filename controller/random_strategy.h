// The baseline every search method must beat: token sequences drawn uniformly from the space.
#pragma once

#include <random>

#include "controller/strategy.h"
#include "search_space/space.h"

namespace actsearch::controller {

class RandomStrategy : public Strategy {
 public:
  // `space` must outlive the strategy and have a size that fits in 64 bits.
  RandomStrategy(const Space* space, uint64_t seed);

  std::string name() const override { return "random"; }
  std::optional<Proposal> Propose() override;
  void Observe(uint64_t, double) override {}
  // The generator's state and the next id.
  std::string SaveState() const override;
  void RestoreState(const std::string& bytes) override;

 private:
  const Space* space_;
  std::mt19937_64 rng_;
  std::uniform_int_distribution<uint64_t> pick_;
  uint64_t next_id_ = 1;
};

}  // namespace actsearch::controller
