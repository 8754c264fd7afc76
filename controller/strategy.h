// A search strategy proposes candidates (token sequences of a space) and learns from their
// rewards. Workers run asynchronously, so rewards arrive late and in any order: every proposal
// carries an id, and Observe may come for any pending proposal at any time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace actsearch::controller {

struct Proposal {
  uint64_t id = 0;          // unique within the strategy
  std::vector<int> tokens;  // a legal token sequence of the strategy's space
};

class Strategy {
 public:
  virtual ~Strategy() = default;

  virtual std::string name() const = 0;
  // The next candidate, or nullopt when the strategy has nothing left (an exhausted space).
  virtual std::optional<Proposal> Propose() = 0;
  // The reward of a pending proposal, at most once per proposal. Screened candidates and
  // repeats of a known functional class are observed too (reward 0, or the known reward).
  virtual void Observe(uint64_t proposal_id, double reward) = 0;
};

}  // namespace actsearch::controller
