#include "search_space/screening.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "search_space/probes.h"

namespace actsearch {
namespace {

// Non-finite in float, the type training uses.
bool NonFiniteInFloat(double v) {
  return !std::isfinite(v) || std::abs(v) > std::numeric_limits<float>::max();
}

std::string At(const char* what, double point, double value) {
  std::ostringstream out;
  out << what << " " << value << " at x = " << point;
  return out.str();
}

}  // namespace

ScreenResult Screen(const Program& program) {
  const std::vector<double>& x = ProbePoints();
  const ProbeResult probe = EvaluateAtProbes(program, program.initial_betas());
  const size_t n = x.size();
  for (size_t i = 0; i < n; ++i) {
    if (NonFiniteInFloat(probe.value[i])) {
      return {ScreenVerdict::kNonFinite, At("non-finite value", x[i], probe.value[i])};
    }
    if (NonFiniteInFloat(probe.slope[i])) {
      return {ScreenVerdict::kNonFinite, At("non-finite gradient", x[i], probe.slope[i])};
    }
    for (const std::vector<double>& beta_slope : probe.beta_slope) {
      if (NonFiniteInFloat(beta_slope[i])) {
        return {ScreenVerdict::kNonFinite, At("non-finite beta gradient", x[i], beta_slope[i])};
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (std::abs(probe.value[i]) > kMaxMagnitude) {
      return {ScreenVerdict::kExploding, At("exploding value", x[i], probe.value[i])};
    }
    if (std::abs(probe.slope[i]) > kMaxMagnitude) {
      return {ScreenVerdict::kExploding, At("exploding gradient", x[i], probe.slope[i])};
    }
  }
  const auto [low, high] = std::minmax_element(probe.value.begin(), probe.value.end());
  if (*high - *low <= 1e-9 * std::max(1.0, std::abs(*high))) {
    std::ostringstream out;
    out << "constant: " << *low << " everywhere on [-6, 6]";
    return {ScreenVerdict::kConstant, out.str()};
  }
  const auto flat = std::count_if(probe.slope.begin(), probe.slope.end(),
                                  [](double s) { return std::abs(s) < 1e-6; });
  if (flat > kMaxFlatFraction * n) {
    std::ostringstream out;
    out << "flat: zero gradient at " << flat << " of " << n << " points of [-6, 6]";
    return {ScreenVerdict::kFlat, out.str()};
  }
  return {};
}

const char* VerdictName(ScreenVerdict verdict) {
  switch (verdict) {
    case ScreenVerdict::kAccepted: return "accepted";
    case ScreenVerdict::kNonFinite: return "non_finite";
    case ScreenVerdict::kExploding: return "exploding";
    case ScreenVerdict::kConstant: return "constant";
    case ScreenVerdict::kFlat: return "flat";
  }
  return "unknown";
}

}  // namespace actsearch
