#include "search_space/value_graph.h"

#include <map>
#include <tuple>
#include <unordered_map>

namespace actsearch {
namespace {

bool OwnsBeta(OpId op) { return op == OpId::kBeta || Info(op).has_beta; }

// Gives every value of a tree an id, in post-order of first meeting: beta owners by node
// identity, everything else by its operator and operand values.
class Interner {
 public:
  int Intern(const Expr& e) {
    if (const auto it = by_node_.find(e.get()); it != by_node_.end()) return it->second;
    const int a = e->a ? Intern(e->a) : -1;
    const int b = e->b ? Intern(e->b) : -1;
    int id = static_cast<int>(values_.size());
    if (OwnsBeta(e->op)) {
      Add(e, a, b);
    } else if (const auto [it, inserted] = by_key_.try_emplace({e->op, a, b}, id); inserted) {
      Add(e, a, b);
    } else {
      id = it->second;
    }
    by_node_.emplace(e.get(), id);
    return id;
  }

  std::vector<Value>& values() { return values_; }

 private:
  void Add(const Expr& e, int a, int b) {
    Value v;
    v.op = e->op;
    v.a = a;
    v.b = b;
    v.node = e;
    v.depends_on_beta = OwnsBeta(e->op) || (a >= 0 && values_[a].depends_on_beta) ||
                        (b >= 0 && values_[b].depends_on_beta);
    if (a >= 0) ++values_[a].uses;
    if (b >= 0) ++values_[b].uses;
    values_.push_back(std::move(v));
  }

  std::vector<Value> values_;
  std::unordered_map<const Node*, int> by_node_;
  std::map<std::tuple<OpId, int, int>, int> by_key_;
};

// Puts values into evaluation order: each named definition, then the root.
class Orderer {
 public:
  explicit Orderer(const std::vector<Value>& interned)
      : interned_(interned), position_(interned.size(), -1) {}

  int Visit(int id) {
    if (position_[id] >= 0) return position_[id];
    Value v = interned_[id];
    if (v.a >= 0) v.a = Visit(v.a);
    if (v.b >= 0) v.b = Visit(v.b);
    if (OwnsBeta(v.op)) v.beta = num_betas_++;
    position_[id] = static_cast<int>(ordered_.size());
    ordered_.push_back(std::move(v));
    return position_[id];
  }

  std::vector<Value>& ordered() { return ordered_; }
  int num_betas() const { return num_betas_; }

 private:
  const std::vector<Value>& interned_;
  std::vector<int> position_;
  std::vector<Value> ordered_;
  int num_betas_ = 0;
};

}  // namespace

ValueGraph BuildValueGraph(const Expr& e) {
  Interner interner;
  const int root = interner.Intern(e);
  const std::vector<Value>& interned = interner.values();
  ValueGraph graph;
  Orderer orderer(interned);
  // Post-order of first meeting puts a value after every value its definition reads.
  for (int id = 0; id < static_cast<int>(interned.size()); ++id) {
    if (interned[id].uses > 1 && interned[id].depends_on_beta) {
      graph.named.push_back(orderer.Visit(id));
    }
  }
  graph.root = orderer.Visit(root);
  graph.values = std::move(orderer.ordered());
  graph.num_betas = orderer.num_betas();
  return graph;
}

bool SameGraph(const ValueGraph& lhs, const ValueGraph& rhs) {
  if (lhs.values.size() != rhs.values.size() || lhs.root != rhs.root || lhs.named != rhs.named) {
    return false;
  }
  for (size_t i = 0; i < lhs.values.size(); ++i) {
    const Value& l = lhs.values[i];
    const Value& r = rhs.values[i];
    if (l.op != r.op || l.a != r.a || l.b != r.b) return false;
  }
  return true;
}

bool SameValue(const Expr& lhs, const Expr& rhs) {
  if (lhs == rhs) return true;
  const ValueGraph l = BuildValueGraph(lhs);
  const ValueGraph r = BuildValueGraph(rhs);
  if (!SameGraph(l, r)) return false;
  for (size_t i = 0; i < l.values.size(); ++i) {
    if (l.values[i].beta >= 0 && l.values[i].node != r.values[i].node) return false;
  }
  return true;
}

}  // namespace actsearch
