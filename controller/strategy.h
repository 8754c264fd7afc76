// A search strategy proposes candidates (token sequences of a space) and learns from their
// rewards. Workers run asynchronously, so rewards arrive late and in any order: every proposal
// carries an id, and Observe may come for any pending proposal at any time.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "storage/results_store.h"

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

  // The strategy's whole state as bytes, for resuming a search: a strategy restored from them
  // proposes exactly what this one would have proposed next, and accepts observations for the
  // proposals pending now. Restore into a strategy built with the same space and options;
  // it throws StrategyStateError for bytes that are corrupt, of another kind of strategy, or
  // of another space, and then leaves the strategy as it was.
  virtual std::string SaveState() const = 0;
  virtual void RestoreState(const std::string& bytes) = 0;
  // Updates of a learned policy so far (the controller's metrics); 0 for one without.
  virtual int64_t policy_updates() const { return 0; }
  // What the updates since the last call saw, for the results store (the dashboard's charts);
  // none for a strategy without a learned policy.
  virtual std::vector<storage::PolicyUpdateRow> TakePolicyUpdates() { return {}; }
};

// A checkpoint that cannot be restored: something the world can cause (a truncated file, the
// wrong file), so a typed error with a clear message rather than a crash.
class StrategyStateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace actsearch::controller
