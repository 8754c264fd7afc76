#include "search_space/suggest.h"

#include <algorithm>

#include "search_space/operators.h"

namespace actsearch {
namespace {

// Levenshtein distance, with a transposition counting as one edit ("sni" -> "sin").
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, substitute});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string DidYouMean(const std::string& word, const std::vector<std::string>& known) {
  if (word.empty()) return "";
  const size_t allowed = word.size() <= 3 ? 1 : 2;
  std::string best;
  size_t best_distance = allowed + 1;
  for (const std::string& name : known) {
    size_t distance = EditDistance(word, name);
    if (name.rfind(word, 0) == 0 && word.size() >= 3) distance = std::min<size_t>(distance, 1);
    if (distance < best_distance) {
      best = name;
      best_distance = distance;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::vector<std::string> AllOperatorNames() {
  std::vector<std::string> names;
  for (OpId op : AllUnaryTokens()) names.emplace_back(Info(op).name);
  for (OpId op : AllBinaryOps()) names.emplace_back(Info(op).name);
  return names;
}

}  // namespace actsearch
