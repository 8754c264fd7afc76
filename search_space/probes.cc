#include "search_space/probes.h"

namespace actsearch {

const std::vector<double>& ProbePoints() {
  static const std::vector<double> points = [] {
    std::vector<double> p;
    for (int i = -60; i <= 60; ++i) p.push_back(i / 10.0);
    return p;
  }();
  return points;
}

ProbeResult EvaluateAt(const Program& program, const std::vector<double>& x,
                       const std::vector<double>& betas) {
  const int64_t n = static_cast<int64_t>(x.size());
  const int num_betas = program.num_betas();
  std::vector<std::vector<double>> beta_arrays(num_betas);
  std::vector<const double*> beta_pointers(num_betas);
  ProbeResult result;
  result.value.resize(n);
  result.slope.resize(n);
  result.beta_slope.assign(num_betas, std::vector<double>(n));
  std::vector<double*> beta_slope_pointers(num_betas);
  for (int k = 0; k < num_betas; ++k) {
    beta_arrays[k].assign(n, betas[k]);
    beta_pointers[k] = beta_arrays[k].data();
    beta_slope_pointers[k] = result.beta_slope[k].data();
  }
  const std::vector<double> ones(n, 1.0);
  program.Forward<double>(n, x.data(), beta_pointers.data(), result.value.data());
  program.Backward<double>(n, x.data(), beta_pointers.data(), ones.data(), result.slope.data(),
                           beta_slope_pointers.data());
  return result;
}

ProbeResult EvaluateAtProbes(const Program& program, const std::vector<double>& betas) {
  return EvaluateAt(program, ProbePoints(), betas);
}

std::vector<double> ValuesAt(const Program& program, const std::vector<double>& x,
                             const std::vector<double>& betas) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<std::vector<double>> beta_arrays;
  std::vector<const double*> beta_pointers;
  for (double b : betas) {
    beta_arrays.emplace_back(n, b);
    beta_pointers.push_back(beta_arrays.back().data());
  }
  std::vector<double> values(n);
  program.Forward<double>(n, x.data(), beta_pointers.data(), values.data());
  return values;
}

std::vector<double> ValuesAtProbes(const Program& program, const std::vector<double>& betas) {
  return ValuesAt(program, ProbePoints(), betas);
}

std::vector<std::vector<double>> ReachableBetaSettings(int num_betas) {
  // Any four cyclically consecutive values hold a negative one, one in (0, 1) and one above 1.
  // Beta i of setting j takes value j + 3i: over the eight settings every beta takes every
  // value, and two betas meet with opposite signs (a negative beta beside a positive one is
  // where many functions part, for example a mix of a beta and a positive value turning
  // negative).
  constexpr double kValues[8] = {-1.6, 0.05, 2.3, -0.35, 0.55, 3.1, -0.8, 1.45};
  const int count = num_betas == 0 ? 0 : 8;
  std::vector<std::vector<double>> settings(count, std::vector<double>(num_betas));
  for (int j = 0; j < count; ++j) {
    for (int i = 0; i < num_betas; ++i) settings[j][i] = kValues[(j + 3 * i) % 8] + 0.013 * (i / 8);
  }
  return settings;
}

}  // namespace actsearch
