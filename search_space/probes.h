// The fixed probe points where candidates are evaluated before any training: for
// fingerprints (functional dedup) and for screening.
#pragma once

#include <vector>

#include "search_space/program.h"

namespace actsearch {

// 121 points, -6 to 6 in steps of 0.1: the range a batch-normalised preactivation lives in.
const std::vector<double>& ProbePoints();

// A function and its derivatives at some points, each beta held at one value.
struct ProbeResult {
  std::vector<double> value;                    // f(p)
  std::vector<double> slope;                    // df/dx(p)
  std::vector<std::vector<double>> beta_slope;  // df/dbeta_k(p)
};

// Evaluates at the points x with the given beta values (one per parameter): for the probe
// points (EvaluateAtProbes), `space eval`, and the dashboard's and `plot`'s curves.
ProbeResult EvaluateAt(const Program& program, const std::vector<double>& x,
                       const std::vector<double>& betas);
ProbeResult EvaluateAtProbes(const Program& program, const std::vector<double>& betas);
// Values only, without the derivatives: at any points, and at the probe points (what
// fingerprints need).
std::vector<double> ValuesAt(const Program& program, const std::vector<double>& x,
                             const std::vector<double>& betas);
std::vector<double> ValuesAtProbes(const Program& program, const std::vector<double>& betas);

// Beta settings besides the initial one that stand for "every setting training can reach":
// beta number i of setting j takes the i-th value of the setting. Every beta visits a negative
// value, one in (0, 1) and one above 1 (both sides of its start, 1 or mix's 0.5, and beyond
// zero), and pairs of betas meet with either sign; within a setting, the first eight betas
// all differ. None for a candidate without
// betas: its one setting is the initial one. For fingerprints and screening.
std::vector<std::vector<double>> ReachableBetaSettings(int num_betas);

}  // namespace actsearch
