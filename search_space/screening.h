// Screening: rejects, before any training, the candidates that cannot train well.
#pragma once

#include <string>

#include "search_space/program.h"

namespace actsearch {

enum class ScreenVerdict {
  kAccepted,
  kNonFinite,  // inf or NaN in value or gradient at a probe point
  kExploding,  // |value| or |gradient| above kMaxMagnitude on [-6, 6]
  kConstant,   // the same value at every probe point, at every reachable beta setting (or
               // stuck there: no beta gradient): the layer would ignore its input
  kFlat,       // zero gradient with respect to x for most preactivations, likewise
};

struct ScreenResult {
  ScreenVerdict verdict = ScreenVerdict::kAccepted;
  std::string reason;  // one line, empty when accepted
  bool accepted() const { return verdict == ScreenVerdict::kAccepted; }
};

inline constexpr double kMaxMagnitude = 1e6;
// Flat: the share of standard-normal preactivations with zero slope above this.
inline constexpr double kMaxFlatFraction = 0.9;

// In double precision, checking float's range. Non-finite and exploding are judged at the
// initial betas (where training starts); constant and flat over the reachable beta settings
// (probes.h). Every rule and its reason: docs/search-space.md.
ScreenResult Screen(const Program& program);

const char* VerdictName(ScreenVerdict verdict);  // "accepted", "non_finite", ...

}  // namespace actsearch
