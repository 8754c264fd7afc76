#include "controller/random_strategy.h"

#include <stdexcept>

namespace actsearch::controller {

RandomStrategy::RandomStrategy(const Space* space, uint64_t seed) : space_(space), rng_(seed) {
  if (!space_->size()) throw std::invalid_argument("random search needs a space of at most 2^64");
  pick_ = std::uniform_int_distribution<uint64_t>(0, *space_->size() - 1);
}

std::optional<Proposal> RandomStrategy::Propose() {
  return Proposal{next_id_++, space_->TokensAt(pick_(rng_))};
}

}  // namespace actsearch::controller
