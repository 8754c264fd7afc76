// The fingerprint's guarantee, as properties over the 1- and 2-unit spaces: candidates that
// share a fingerprint are the same trainable family (checked densely: many random beta settings
// and inputs, up to a relabelling of the betas and mix's beta <-> 1 - beta), and the equal
// families the fingerprint promises to merge (operands of a symmetric operator swapped, of mix
// swapped) do share one.
#include "search_space/fingerprint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "search_space/parser.h"
#include "search_space/printer.h"
#include "search_space/probes.h"
#include "search_space/program.h"
#include "search_space/screening.h"
#include "search_space/space.h"

namespace actsearch {
namespace {

Fingerprint Of(const std::string& text) { return ComputeFingerprint(Parse(text)); }

bool Close(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::abs(a - b) <= 1e-6 * std::max({1.0, std::abs(a), std::abs(b)});
}

// Betas that change nothing (mix(x, x)'s, or max(sigmoid(beta) * relu(x), relu(x))'s): moving
// one alone, from random settings, never changes a value.
std::vector<bool> InertBetas(const Program& p, const std::vector<std::vector<double>>& settings,
                             const std::vector<double>& x) {
  std::vector<bool> inert(p.num_betas(), true);
  for (int k = 0; k < p.num_betas(); ++k) {
    for (size_t s = 0; inert[k] && s + 1 < settings.size(); ++s) {
      std::vector<double> moved = settings[s];
      moved[k] = settings[s + 1][k];
      const std::vector<double> before = ValuesAt(p, x, settings[s]), after = ValuesAt(p, x, moved);
      for (size_t i = 0; inert[k] && i < x.size(); ++i) inert[k] = Close(before[i], after[i]);
    }
  }
  return inert;
}

// Whether `a` and `b` are one trainable family: the same values at their starting betas, and
// at every beta setting up to a relabelling of b's betas and replacing any of b's mix betas
// (those starting at 0.5) by 1 - beta, from the same starting point. Betas that change nothing
// are left out. The dense check the fingerprint is held to.
bool SameFamily(const Expr& a, const Expr& b, uint64_t seed) {
  const Program pa(a), pb(b);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> beta_value(-3, 3.5), input(-6, 6);
  auto random_settings = [&](int n) {
    std::vector<std::vector<double>> settings(24, std::vector<double>(n));
    for (auto& setting : settings) {
      for (double& value : setting) value = beta_value(rng);
    }
    return settings;
  };
  std::vector<double> x(150);
  for (double& value : x) value = input(rng);
  {
    const std::vector<double> va = ValuesAt(pa, x, pa.initial_betas());
    const std::vector<double> vb = ValuesAt(pb, x, pb.initial_betas());
    for (size_t i = 0; i < x.size(); ++i) {
      if (!Close(va[i], vb[i])) return false;
    }
  }
  const std::vector<bool> inert_a = InertBetas(pa, random_settings(pa.num_betas()), x);
  const std::vector<bool> inert_b = InertBetas(pb, random_settings(pb.num_betas()), x);
  std::vector<int> live_a, live_b;  // the betas that matter
  for (int k = 0; k < pa.num_betas(); ++k) {
    if (!inert_a[k]) live_a.push_back(k);
  }
  for (int k = 0; k < pb.num_betas(); ++k) {
    if (!inert_b[k]) live_b.push_back(k);
  }
  const int n = static_cast<int>(live_a.size());
  if (static_cast<int>(live_b.size()) != n || n > 5) return false;  // n > 5: beyond the check
  const std::vector<std::vector<double>> settings = random_settings(n);
  std::vector<int> permutation(n);
  std::iota(permutation.begin(), permutation.end(), 0);
  do {
    for (int reflect = 0; reflect < (1 << n); ++reflect) {
      // b's live beta permutation[k] takes a's live beta k (reflected where asked: only mix's).
      bool possible = true;
      for (int k = 0; k < n; ++k) {
        const int kb = live_b[permutation[k]];
        const bool reflected = reflect & (1 << k);
        if (reflected && pb.initial_betas()[kb] != 0.5) possible = false;
        const double start_b = reflected ? 1 - pb.initial_betas()[kb] : pb.initial_betas()[kb];
        if (pa.initial_betas()[live_a[k]] != start_b) possible = false;
      }
      bool same = possible;
      for (size_t s = 0; same && s < settings.size(); ++s) {
        std::vector<double> betas_a = pa.initial_betas(), betas_b = pb.initial_betas();
        for (int k = 0; k < n; ++k) {
          betas_a[live_a[k]] = settings[s][k];
          betas_b[live_b[permutation[k]]] =
              reflect & (1 << k) ? 1 - settings[s][k] : settings[s][k];
        }
        const std::vector<double> va = ValuesAt(pa, x, betas_a), vb = ValuesAt(pb, x, betas_b);
        for (size_t i = 0; same && i < x.size(); ++i) same = Close(va[i], vb[i]);
      }
      if (same) return true;
    }
  } while (std::next_permutation(permutation.begin(), permutation.end()));
  return false;
}

// Every candidate of `space` that screening accepts: all of it, or `sample` drawn at random.
std::vector<Expr> AcceptedCandidates(const Space& space, uint64_t sample, uint64_t seed) {
  std::vector<Expr> accepted;
  std::mt19937_64 rng(seed);
  const uint64_t size = *space.size();
  const uint64_t count = sample == 0 ? size : sample;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t index =
        sample == 0 ? i : std::uniform_int_distribution<uint64_t>(0, size - 1)(rng);
    Expr e = space.Decode(space.TokensAt(index));
    if (Screen(Program(e)).accepted()) accepted.push_back(std::move(e));
  }
  return accepted;
}

// Every class must hold one family: each member against the class's first.
void ExpectNoFalseMerge(const std::vector<Expr>& candidates, const std::string& what) {
  std::map<Fingerprint, std::vector<Expr>> classes;
  for (const Expr& e : candidates) classes[ComputeFingerprint(e)].push_back(e);
  int merged_pairs = 0, false_merges = 0;
  for (const auto& [fingerprint, members] : classes) {
    for (size_t i = 1; i < members.size(); ++i) {
      ++merged_pairs;
      if (!SameFamily(members[0], members[i], fingerprint + i)) {
        ++false_merges;
        ADD_FAILURE() << what
                      << ": one fingerprint for different families: " << ToString(members[0])
                      << "  vs  " << ToString(members[i]);
        if (false_merges > 10) return;
      }
    }
  }
  std::printf("%s: %zu candidates, %zu classes, %d merged pairs checked densely, %d false merges\n",
              what.c_str(), candidates.size(), classes.size(), merged_pairs, false_merges);
}

TEST(FingerprintProperty, NoFalseMergeInTheWholeOneUnitSpace) {
  ExpectNoFalseMerge(AcceptedCandidates(Space(SpaceSpec{}), 0, 0), "1-unit space");
}

TEST(FingerprintProperty, NoFalseMergeInASampleOfTheTwoUnitSpace) {
  // A small operator set, so that a sample of the space holds many equal functions.
  SpaceSpec spec{2, ParseUnaryList("identity,neg,abs,square,beta,sin,relu,sigmoid,tanh,exp"),
                 ParseBinaryList("add,mul,sub,max,min,sigmul,mix")};
  ExpectNoFalseMerge(AcceptedCandidates(Space(spec), 6000, 7), "2-unit sample");
}

// mix operands swapped, and symmetric operators' operands swapped, at every depth; shared
// values stay shared.
Expr Swapped(const Expr& e) {
  return Rebuild(e, [](const Expr& node, const Expr& a, const Expr& b) {
    const OpId op = node->op;
    const bool symmetric = op == OpId::kAdd || op == OpId::kMul || op == OpId::kMax ||
                           op == OpId::kMin || op == OpId::kRbf || op == OpId::kLaplace ||
                           op == OpId::kMix;
    return symmetric ? MakeBinary(op, b, a) : WithOperands(node, a, b);
  });
}

TEST(FingerprintProperty, SwappedOperandsShareTheFingerprintAndTheRateOfFalseSplitsIsSmall) {
  SpaceSpec spec{2, ParseUnaryList("identity,neg,abs,square,beta,sin,relu,sigmoid,tanh,exp"),
                 ParseBinaryList("add,mul,sub,max,min,mix,rbf")};
  const std::vector<Expr> candidates = AcceptedCandidates(Space(spec), 3000, 11);
  int checked = 0, splits = 0;
  for (const Expr& e : candidates) {
    const Expr swapped = Swapped(e);
    if (ToString(swapped) == ToString(e)) continue;
    ++checked;
    if (ComputeFingerprint(swapped) != ComputeFingerprint(e)) ++splits;
  }
  std::printf("swapped operands: %d pairs, %d false splits (%.2f%%)\n", checked, splits,
              100.0 * splits / std::max(1, checked));
  EXPECT_GT(checked, 500);
  EXPECT_LE(splits, checked / 100) << "at most 1% of equal families kept apart";
}

TEST(Fingerprint, FunctionsThatDifferOnceABetaMovesDiffer) {
  EXPECT_NE(Of("sin(x)"), Of("min(sin(x), beta)")) << "equal until beta drops below 1";
  EXPECT_NE(Of("relu(x)"), Of("max(x, beta - cos(x - x))")) << "equal until beta moves";
  EXPECT_NE(Of("relu(x)"), Of("min(relu(x), beta)")) << "a trainable cap, like ReLU6's";
  EXPECT_NE(Of("x + beta"), Of("x + cos(x - x)"));
  EXPECT_NE(Of("beta * x"), Of("beta * beta * x")) << "another parametrisation";
}

TEST(Fingerprint, EqualFamiliesWrittenDifferentlyShareOne) {
  EXPECT_EQ(Of("(beta * x) + (x + beta)"), Of("(x + beta) + (beta * x)"));
  EXPECT_EQ(Of("mix(sin(x), x)"), Of("mix(x, sin(x))"));
  EXPECT_EQ(Of("max(beta * x, x + beta)"), Of("max(x + beta, beta * x)"));
  EXPECT_EQ(Of("(x + beta) * sin(beta * x)"), Of("sin(beta * x) * (x + beta)"));
}

}  // namespace
}  // namespace actsearch
