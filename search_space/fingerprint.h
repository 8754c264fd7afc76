// Functional fingerprints: candidates that compute the same function share one.
//
// A fingerprint hashes a candidate's values at the probe points, at the initial betas and at a
// second, perturbed beta setting, each rounded to about six significant digits. `x + x` and
// `2*x`-likes, `max(x, x)` and `x` collide; `x + beta` and `x + 1` do not.
#pragma once

#include <cstdint>
#include <string>

#include "search_space/program.h"

namespace actsearch {

using Fingerprint = uint64_t;

// The candidate must evaluate to finite values (screen first); non-finite values still hash.
Fingerprint ComputeFingerprint(const Program& program);

std::string FingerprintToHex(Fingerprint fingerprint);

}  // namespace actsearch
