#include "controller/random_strategy.h"

#include <sstream>
#include <stdexcept>

#include "controller/strategy_state.h"

namespace actsearch::controller {

RandomStrategy::RandomStrategy(const Space* space, uint64_t seed) : space_(space), rng_(seed) {
  if (!space_->size()) throw std::invalid_argument("random search needs a space of at most 2^64");
  pick_ = std::uniform_int_distribution<uint64_t>(0, *space_->size() - 1);
}

std::optional<Proposal> RandomStrategy::Propose() {
  return Proposal{next_id_++, space_->TokensAt(pick_(rng_))};
}

std::string RandomStrategy::SaveState() const {
  StateWriter writer(name());
  writer.WriteSpace(*space_);
  std::ostringstream generator;
  generator << rng_ << ' ' << pick_;
  writer.WriteText("generator", generator.str());
  writer.WriteUnsigned("next_id", next_id_);
  return writer.Bytes();
}

void RandomStrategy::RestoreState(const std::string& bytes) {
  StateReader reader(bytes, name());
  reader.CheckSpace(*space_);
  std::istringstream generator(reader.ReadText("generator"));
  std::mt19937_64 rng;
  std::uniform_int_distribution<uint64_t> pick;
  generator >> rng >> pick;
  if (generator.fail() || pick != pick_) throw reader.Error("the generator state is corrupt");
  const uint64_t next_id = reader.ReadUnsigned("next_id");
  rng_ = rng;
  next_id_ = next_id;
}

}  // namespace actsearch::controller
