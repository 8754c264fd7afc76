// Functional fingerprints: candidates that are the same trainable family share one, and
// candidates that differ at some beta setting training can reach do not.
//
// A fingerprint hashes a candidate's number of betas and its values at the probe points
// (-6 to 6) at its initial betas and at four more beta settings that take every beta to both
// sides of its starting value, negative and near zero included; values are rounded to about
// six significant digits, so `x + x` and `2 * x`, `max(x, x)` and `x` collide.
//
// Equal families written differently are merged: betas are put in a canonical order first (by
// what moving each one alone does to the function), so swapping the operands of a commutative
// operator merges, and mix(a, b) is mix(b, a) with its beta replaced by 1 - beta (both start at
// 0.5), so the two merge too. The guarantee and its tests: docs/search-space.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "search_space/expr.h"

namespace actsearch {

using Fingerprint = uint64_t;

// Bumped whenever fingerprints of the same candidate change: classes of different versions
// must not be compared (a database records the version its classes were built with).
inline constexpr int kFingerprintVersion = 3;

// Non-finite values hash too (screening rejects such candidates before they train).
Fingerprint ComputeFingerprint(const Expr& e);

std::string FingerprintToHex(Fingerprint fingerprint);
// FNV-1a, 64 bits, of a text: the same on every machine and build, unlike std::hash. For
// classes of their own (activation specs) and content keys (generated kernels).
uint64_t HashText(std::string_view text);
// The inverse of FingerprintToHex. Throws std::invalid_argument for text that is not 1 to 16
// hex digits.
Fingerprint FingerprintFromHex(const std::string& hex);

}  // namespace actsearch
