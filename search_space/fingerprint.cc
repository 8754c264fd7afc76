#include "search_space/fingerprint.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "search_space/printer.h"
#include "search_space/probes.h"
#include "search_space/program.h"

namespace actsearch {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

// Moving one beta alone by this much tells it from the others (its signature).
constexpr double kSignatureStep = 0.77;
// Orderings tried for betas whose signatures tie, at most: beyond, the first is taken (equal
// families may then stay apart; different ones are never merged either way).
constexpr int kMaxOrderings = 120;

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

uint64_t HashValues(const std::vector<double>& values, uint64_t hash) {
  for (const double v : values) Mix(Quantize(v), hash);
  return hash;
}

// mix(a, b) computes mix(b, a) with beta -> 1 - beta, and both betas start at 0.5: one family.
// Its operands go in the order of their printed text, at every depth.
Expr WithMixOperandsOrdered(const Expr& e) {
  return Rebuild(e, [](const Expr& node, const Expr& a, const Expr& b) {
    if (node->op == OpId::kMix && ToString(b) < ToString(a)) return MakeBinary(OpId::kMix, b, a);
    return WithOperands(node, a, b);
  });
}

// Beta number k's signature: the values with it alone moved from its start.
uint64_t Signature(const Program& program, int k) {
  std::vector<double> betas = program.initial_betas();
  betas[k] += kSignatureStep;
  return HashValues(ValuesAtProbes(program, betas), kFnvOffset);
}

// The beta orderings to hash: betas sorted by signature, and every arrangement of the betas
// whose signatures tie (they may be symmetric), up to kMaxOrderings.
std::vector<std::vector<int>> CanonicalOrderings(const Program& program) {
  const int n = program.num_betas();
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (n < 2) return {order};  // nothing to order
  std::vector<uint64_t> signature(n);
  for (int k = 0; k < n; ++k) signature[k] = Signature(program, k);
  std::stable_sort(order.begin(), order.end(),
                   [&](int l, int r) { return signature[l] < signature[r]; });
  std::vector<std::vector<int>> orderings = {order};
  for (int start = 0; start < n;) {
    int end = start + 1;
    while (end < n && signature[order[end]] == signature[order[start]]) ++end;
    if (end - start > 1) {
      std::vector<std::vector<int>> grown;
      for (const std::vector<int>& base : orderings) {
        std::vector<int> ordering = base;
        do {
          grown.push_back(ordering);
        } while (std::next_permutation(ordering.begin() + start, ordering.begin() + end) &&
                 static_cast<int>(grown.size()) < kMaxOrderings);
      }
      if (static_cast<int>(grown.size()) < kMaxOrderings) orderings = std::move(grown);
    }
    start = end;
  }
  return orderings;
}

}  // namespace

Fingerprint ComputeFingerprint(const Expr& e) {
  const Program program(WithMixOperandsOrdered(e));
  const int n = program.num_betas();
  uint64_t head = kFnvOffset;
  Mix(static_cast<uint64_t>(n), head);
  head = HashValues(ValuesAtProbes(program, program.initial_betas()), head);
  Fingerprint best = 0;
  bool first = true;
  const std::vector<std::vector<double>> settings = ReachableBetaSettings(n);
  for (const std::vector<int>& ordering : CanonicalOrderings(program)) {
    uint64_t hash = head;
    std::vector<double> betas(n);
    for (const std::vector<double>& setting : settings) {
      // Beta number i in canonical order takes the setting's i-th value.
      for (int i = 0; i < n; ++i) betas[ordering[i]] = setting[i];
      hash = HashValues(ValuesAtProbes(program, betas), hash);
    }
    if (first || hash < best) best = hash;
    first = false;
  }
  return best;
}

std::string FingerprintToHex(Fingerprint fingerprint) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(fingerprint));
  return text;
}

uint64_t HashText(std::string_view text) {
  uint64_t hash = kFnvOffset;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

Fingerprint FingerprintFromHex(const std::string& hex) {
  if (hex.empty() || hex.size() > 16 ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    throw std::invalid_argument("not a fingerprint: '" + hex + "'");
  }
  return std::stoull(hex, nullptr, 16);
}

}  // namespace actsearch
