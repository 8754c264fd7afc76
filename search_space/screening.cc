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

bool IsConstant(const std::vector<double>& values) {
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  return *high - *low <= 1e-9 * std::max(1.0, std::abs(*high));
}

// The share of the preactivations where the slope is zero: the probe points weighted by the
// standard normal density, which is about how a batch-normalised preactivation is spread.
double FlatWeight(const std::vector<double>& slope) {
  const std::vector<double>& x = ProbePoints();
  double flat = 0, total = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double weight = std::exp(-0.5 * x[i] * x[i]);
    total += weight;
    if (std::abs(slope[i]) < 1e-6) flat += weight;
  }
  return flat / total;
}

// Why a degenerate start is for good: ", stuck (no beta gradient)" or ", at every beta setting".
std::string Why(const Program& program, bool stuck) {
  if (program.num_betas() == 0) return "";
  return stuck ? ", and stuck there (no beta gradient)" : ", at every beta setting";
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
  // Constant and flat are judged over the betas a candidate can reach: a candidate that starts
  // constant or flat but whose betas train it out of that (beta * x - x starts at 0) passes.
  // One that starts so with no beta gradient anywhere is stuck there for good.
  const bool stuck = std::all_of(
      probe.beta_slope.begin(), probe.beta_slope.end(), [](const std::vector<double>& g) {
        return std::all_of(g.begin(), g.end(), [](double v) { return v == 0; });
      });
  // Asked only of a degenerate start: most candidates never pay for the other settings.
  auto at_every_reachable_setting = [&](const auto& holds) {
    const std::vector<std::vector<double>> reachable = ReachableBetaSettings(program.num_betas());
    return std::all_of(reachable.begin(), reachable.end(), holds);
  };
  if (IsConstant(probe.value) &&
      (stuck || at_every_reachable_setting([&](const std::vector<double>& betas) {
         return IsConstant(ValuesAtProbes(program, betas));
       }))) {
    std::ostringstream out;
    out << "constant: " << probe.value.front() << " everywhere on [-6, 6]" << Why(program, stuck);
    return {ScreenVerdict::kConstant, out.str()};
  }
  const double flat = FlatWeight(probe.slope);
  if (flat > kMaxFlatFraction &&
      (stuck || at_every_reachable_setting([&](const std::vector<double>& betas) {
         return FlatWeight(EvaluateAtProbes(program, betas).slope) > kMaxFlatFraction;
       }))) {
    std::ostringstream out;
    out.precision(3);
    out << "flat: zero gradient on " << 100 * flat << "% of the preactivations (standard normal)"
        << Why(program, stuck);
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
