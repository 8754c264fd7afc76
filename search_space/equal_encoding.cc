#include "search_space/equal_encoding.h"

#include "search_space/dedup.h"
#include "search_space/fingerprint.h"
#include "search_space/program.h"

namespace actsearch {
namespace {

bool Symmetric(OpId op) {
  return op == OpId::kAdd || op == OpId::kMul || op == OpId::kMax || op == OpId::kMin ||
         op == OpId::kRbf || op == OpId::kLaplace;
}

void AddUnique(std::vector<Expr>& forms, const Expr& e, size_t limit) {
  if (forms.size() >= limit) return;
  for (const Expr& f : forms) {
    if (Equal(f, e)) return;
  }
  forms.push_back(e);
}

}  // namespace

std::vector<Expr> CommutedForms(const Expr& e, size_t limit) {
  std::vector<Expr> forms;
  const int arity = Info(e->op).arity;
  if (arity == 0) return {e};
  if (arity == 1) {
    for (const Expr& a : CommutedForms(e->a, limit)) AddUnique(forms, MakeUnary(e->op, a), limit);
    return forms;
  }
  const std::vector<Expr> as = CommutedForms(e->a, limit);
  const std::vector<Expr> bs = CommutedForms(e->b, limit);
  for (const Expr& a : as) {
    for (const Expr& b : bs) {
      AddUnique(forms, MakeBinary(e->op, a, b), limit);
      if (Symmetric(e->op)) AddUnique(forms, MakeBinary(e->op, b, a), limit);
      if (e->op == OpId::kSigmul) {
        AddUnique(forms, MakeBinary(OpId::kMul, b, MakeUnary(OpId::kSigmoid, a)), limit);
      }
    }
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
