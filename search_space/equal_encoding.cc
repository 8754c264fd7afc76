#include "search_space/equal_encoding.h"

#include <set>
#include <string>
#include <unordered_map>

#include "search_space/dedup.h"
#include "search_space/fingerprint.h"
#include "search_space/printer.h"
#include "search_space/program.h"

namespace actsearch {
namespace {

bool Symmetric(OpId op) {
  return op == OpId::kAdd || op == OpId::kMul || op == OpId::kMax || op == OpId::kMin ||
         op == OpId::kRbf || op == OpId::kLaplace;
}

// The commuted forms of every node, computed once per node: the uses of a shared node pick
// from the same forms, so a form that keeps one node per use keeps the sharing.
class CommutedFormFinder {
 public:
  explicit CommutedFormFinder(size_t limit) : limit_(limit) {}

  const std::vector<Expr>& Of(const Expr& e) {
    if (const auto it = forms_.find(e.get()); it != forms_.end()) return it->second;
    Forms forms(limit_);
    const int arity = Info(e->op).arity;
    if (arity == 0) {
      forms.Add(e);
    } else if (arity == 1) {
      for (const Expr& a : Of(e->a)) forms.Add(WithOperands(e, a, nullptr));
    } else {
      for (const Expr& a : Of(e->a)) {
        for (const Expr& b : Of(e->b)) {
          forms.Add(WithOperands(e, a, b));
          if (Symmetric(e->op)) forms.Add(MakeBinary(e->op, b, a));
          if (e->op == OpId::kSigmul) {
            forms.Add(MakeBinary(OpId::kMul, b, MakeUnary(OpId::kSigmoid, a)));
          }
        }
      }
    }
    return forms_.emplace(e.get(), std::move(forms.list)).first->second;
  }

 private:
  struct Forms {
    explicit Forms(size_t limit) : limit(limit) {}
    void Add(const Expr& e) {
      if (list.size() < limit && texts.insert(ToString(e)).second) list.push_back(e);
    }
    size_t limit;
    std::vector<Expr> list;
    std::set<std::string> texts;
  };

  size_t limit_;
  std::unordered_map<const Node*, std::vector<Expr>> forms_;
};

}  // namespace

std::vector<Expr> CommutedForms(const Expr& e, size_t limit) {
  // A shared node that took a different form at each use would have betas per use: another
  // family, with more betas.
  const int betas = CountBetas(e);
  std::vector<Expr> forms;
  CommutedFormFinder finder(limit);
  for (const Expr& form : finder.Of(e)) {
    if (CountBetas(form) == betas) forms.push_back(form);
  }
  return forms;
}

std::optional<EqualEncoding> EncodeEqualFunction(const Space& space, const Expr& e,
                                                 uint64_t scan_limit) {
  const std::vector<Expr> forms = CommutedForms(e);
  for (size_t i = 0; i < forms.size(); ++i) {
    if (std::optional<std::vector<int>> tokens = space.Encode(forms[i])) {
      return EqualEncoding{i == 0 ? EqualEncoding::How::kDirect : EqualEncoding::How::kCommuted,
                           *tokens, forms[i]};
    }
  }
  const Fingerprint wanted = ComputeFingerprint(e);
  const uint64_t size = space.size().value_or(UINT64_MAX);
  for (uint64_t index = 0; index < size && index < scan_limit; ++index) {
    Candidate c = AnalyzeCandidate(space, index);
    if (c.fingerprint == wanted) {
      return EqualEncoding{EqualEncoding::How::kSameClass, std::move(c.tokens), c.expr};
    }
  }
  return std::nullopt;
}

}  // namespace actsearch
