#include "search_space/fingerprint.h"

#include <cmath>
#include <cstdio>

#include "search_space/probes.h"

namespace actsearch {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

void Mix(uint64_t word, uint64_t& hash) {
  for (int byte = 0; byte < 8; ++byte) {
    hash ^= (word >> (8 * byte)) & 0xff;
    hash *= kFnvPrime;
  }
}

// Rounds to 20 significant bits (about six decimal digits); values below 1e-9 count as 0,
// so that x - x and a 1e-17 rounding residue agree.
uint64_t Quantize(double v) {
  if (std::isnan(v)) return 0x7ff8000000000000ull;
  if (std::isinf(v)) return v > 0 ? 0x7ff0000000000000ull : 0xfff0000000000000ull;
  if (std::abs(v) < 1e-9) return 0;
  int exponent = 0;
  const double mantissa = std::frexp(v, &exponent);  // |mantissa| in [0.5, 1)
  int64_t rounded = std::llround(mantissa * (1 << 20));
  if (std::abs(rounded) == (1 << 20)) {  // rounded up to the next power of two: renormalise
    rounded /= 2;
    ++exponent;
  }
  return (static_cast<uint64_t>(rounded) << 16) ^ static_cast<uint64_t>(exponent & 0xffff);
}

}  // namespace

Fingerprint ComputeFingerprint(const Program& program) {
  uint64_t hash = kFnvOffset;
  for (const std::vector<double>& betas : {program.initial_betas(), PerturbedBetas(program)}) {
    for (double v : ValuesAtProbes(program, betas)) Mix(Quantize(v), hash);
  }
  return hash;
}

std::string FingerprintToHex(Fingerprint fingerprint) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(fingerprint));
  return text;
}

}  // namespace actsearch
