// Screening: rejects, before any training, the candidates that cannot train well.
#pragma once

#include <string>

#include "search_space/program.h"

namespace actsearch {

enum class ScreenVerdict {
  kAccepted,
  kNonFinite,  // inf or NaN in value or gradient at a probe point
  kExploding,  // |value| or |gradient| above kMaxMagnitude on [-6, 6]
  kConstant,   // the same value at every probe point: the layer would ignore its input
  kFlat,       // zero gradient with respect to x at most probe points
};

struct ScreenResult {
  ScreenVerdict verdict = ScreenVerdict::kAccepted;
  std::string reason;  // one line, empty when accepted
  bool accepted() const { return verdict == ScreenVerdict::kAccepted; }
};

inline constexpr double kMaxMagnitude = 1e6;
inline constexpr double kMaxFlatFraction = 0.9;

// Evaluated at the initial betas, in double precision, checking float's range.
ScreenResult Screen(const Program& program);

const char* VerdictName(ScreenVerdict verdict);  // "accepted", "non_finite", ...

}  // namespace actsearch
