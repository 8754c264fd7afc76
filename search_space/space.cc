#include "search_space/space.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "search_space/suggest.h"
#include "search_space/value_graph.h"

namespace actsearch {
namespace {

constexpr int kTokensPerUnit = 5;

std::vector<OpId> ParseOpList(const std::string& names, bool unary) {
  const std::vector<OpId>& all = unary ? AllUnaryTokens() : AllBinaryOps();
  if (names.empty() || names == "all") return all;
  std::vector<OpId> out;
  std::stringstream stream(names);
  std::string name;
  while (std::getline(stream, name, ',')) {
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    const std::optional<OpId> op = OpByName(name == "x" && unary ? "identity" : name);
    if (!op || std::find(all.begin(), all.end(), *op) == all.end()) {
      std::string known;
      std::vector<std::string> names;
      for (OpId o : all) {
        names.emplace_back(Info(o).name);
        known += (known.empty() ? "" : ", ") + names.back();
      }
      throw std::invalid_argument("unknown " + std::string(unary ? "unary" : "binary") +
                                  " operator '" + name + "'" + DidYouMean(name, names) +
                                  "; known: " + known);
    }
    out.push_back(*op);
  }
  return out;
}

// A unit as the encoder builds it: inputs are 0 for x or j for y_j.
struct Unit {
  int input1, input2;
  OpId unary1, unary2, binary;
  Expr output;
};

// Finds units whose last output decodes to a given tree. Units are created children first,
// so every input refers to an earlier unit; the nodes of one value share one unit.
class Encoder {
 public:
  explicit Encoder(const SpaceSpec& spec) : spec_(spec) {}

  std::optional<std::vector<Unit>> Run(const Expr& e) {
    if (!MatchUnit(e)) return std::nullopt;
    return units_;
  }

 private:
  bool Allowed(const std::vector<OpId>& ops, OpId op) const {
    return std::find(ops.begin(), ops.end(), op) != ops.end();
  }

  // Makes `e` the output of a unit (reusing one if it exists); true on success.
  bool MatchUnit(const Expr& e) {
    for (const Unit& u : units_) {
      if (SameValue(u.output, e)) return true;
    }
    if (static_cast<int>(units_.size()) >= spec_.units) return false;
    for (const auto& [op, a, b] : BinaryReadings(e)) {
      if (!Allowed(spec_.binary, op)) continue;
      const size_t saved = units_.size();
      std::optional<std::pair<int, OpId>> first = MatchOperand(a);
      std::optional<std::pair<int, OpId>> second = first ? MatchOperand(b) : std::nullopt;
      if (first && second && static_cast<int>(units_.size()) < spec_.units) {
        units_.push_back({first->first, second->first, first->second, second->second, op, e});
        return true;
      }
      units_.resize(saved);
    }
    return false;
  }

  // Ways to read `e` as binary(a, b), folds and commutativity included.
  std::vector<std::tuple<OpId, Expr, Expr>> BinaryReadings(const Expr& e) const {
    std::vector<std::tuple<OpId, Expr, Expr>> out;
    const OpId op = e->op;
    if (IsBinary(op)) {
      out.emplace_back(op, e->a, e->b);
      if (op == OpId::kAdd || op == OpId::kMul || op == OpId::kMax || op == OpId::kMin) {
        out.emplace_back(op, e->b, e->a);
      }
    }
    if (op == OpId::kSigmul) out.emplace_back(OpId::kMul, MakeUnary(OpId::kSigmoid, e->a), e->b);
    if (op == OpId::kScale) {
      out.emplace_back(OpId::kMul, MakeBeta(), e->a);
      out.emplace_back(OpId::kMul, e->a, MakeBeta());
    }
    if (op == OpId::kShift) {
      out.emplace_back(OpId::kAdd, e->a, MakeBeta());
      out.emplace_back(OpId::kAdd, MakeBeta(), e->a);
    }
    return out;
  }

  // Reads `a` as unary(input): returns (input, unary token).
  std::optional<std::pair<int, OpId>> MatchOperand(const Expr& a) {
    if (a->op == OpId::kBeta && Allowed(spec_.unary, OpId::kBeta)) return std::pair(0, OpId::kBeta);
    if (IsUnaryToken(a->op) && a->op != OpId::kBeta && Allowed(spec_.unary, a->op)) {
      if (std::optional<int> input = MatchInput(a->a)) return std::pair(*input, a->op);
    }
    if (Allowed(spec_.unary, OpId::kIdentity)) {
      if (std::optional<int> input = MatchInput(a)) return std::pair(*input, OpId::kIdentity);
    }
    return std::nullopt;
  }

  std::optional<int> MatchInput(const Expr& e) {
    if (e->op == OpId::kInput) return 0;
    if (!MatchUnit(e)) return std::nullopt;
    for (size_t j = 0; j < units_.size(); ++j) {
      if (SameValue(units_[j].output, e)) return static_cast<int>(j) + 1;
    }
    return std::nullopt;
  }

  const SpaceSpec& spec_;
  std::vector<Unit> units_;
};

}  // namespace

std::vector<OpId> ParseUnaryList(const std::string& names) { return ParseOpList(names, true); }
std::vector<OpId> ParseBinaryList(const std::string& names) { return ParseOpList(names, false); }

Space::Space(SpaceSpec spec) : spec_(std::move(spec)) {
  if (spec_.units < 1) throw std::invalid_argument("a space needs at least 1 core unit");
  if (spec_.unary.empty()) throw std::invalid_argument("a space needs at least 1 unary operator");
  if (spec_.binary.empty()) {
    throw std::invalid_argument("a space needs at least 1 binary operator");
  }
  for (const std::vector<OpId>* ops : {&spec_.unary, &spec_.binary}) {
    for (size_t i = 0; i < ops->size(); ++i) {
      if (std::find(ops->begin() + i + 1, ops->end(), (*ops)[i]) != ops->end()) {
        throw std::invalid_argument("operator '" + std::string(Info((*ops)[i]).name) +
                                    "' is listed twice");
      }
    }
  }
  vocabulary_.push_back("x");
  for (int j = 1; j < spec_.units; ++j) vocabulary_.push_back("y" + std::to_string(j));
  for (OpId op : spec_.unary) vocabulary_.emplace_back(Info(op).name);
  for (OpId op : spec_.binary) vocabulary_.emplace_back(Info(op).name);

  size_ = 1;
  for (int step = 0; step < num_steps(); ++step) {
    std::vector<int> ids;
    const int unit = step / kTokensPerUnit;
    switch (step_kind(step)) {
      case StepKind::kInput:
        for (int j = 0; j <= unit; ++j) ids.push_back(InputToken(j));
        break;
      case StepKind::kUnary:
        for (OpId op : spec_.unary) ids.push_back(UnaryToken(op));
        break;
      case StepKind::kBinary:
        for (OpId op : spec_.binary) ids.push_back(BinaryToken(op));
        break;
    }
    if (size_ && *size_ > UINT64_MAX / ids.size()) size_.reset();
    if (size_) *size_ *= ids.size();
    choices_.push_back(std::move(ids));
  }
}

StepKind Space::step_kind(int step) const {
  const int position = step % kTokensPerUnit;
  if (position < 2) return StepKind::kInput;
  if (position < 4) return StepKind::kUnary;
  return StepKind::kBinary;
}

std::vector<bool> Space::legal_mask(int step) const {
  std::vector<bool> mask(vocabulary_.size(), false);
  for (int id : choices_[step]) mask[id] = true;
  return mask;
}

int Space::UnaryToken(OpId op) const {
  const auto it = std::find(spec_.unary.begin(), spec_.unary.end(), op);
  return spec_.units + static_cast<int>(it - spec_.unary.begin());
}

int Space::BinaryToken(OpId op) const {
  const auto it = std::find(spec_.binary.begin(), spec_.binary.end(), op);
  return spec_.units + static_cast<int>(spec_.unary.size() + (it - spec_.binary.begin()));
}

std::vector<int> Space::TokensAt(uint64_t index) const {
  if (!size_ || index >= *size_) throw std::out_of_range("index beyond the end of the space");
  std::vector<int> tokens(num_steps());
  for (int step = num_steps() - 1; step >= 0; --step) {
    const uint64_t radix = choices_[step].size();
    tokens[step] = choices_[step][index % radix];
    index /= radix;
  }
  return tokens;
}

uint64_t Space::IndexOf(const std::vector<int>& tokens) const {
  CheckTokens(tokens);
  uint64_t index = 0;
  for (int step = 0; step < num_steps(); ++step) {
    const std::vector<int>& ids = choices_[step];
    index = index * ids.size() + (std::find(ids.begin(), ids.end(), tokens[step]) - ids.begin());
  }
  return index;
}

void Space::CheckTokens(const std::vector<int>& tokens) const {
  if (static_cast<int>(tokens.size()) != num_steps()) {
    throw std::invalid_argument("expected " + std::to_string(num_steps()) + " tokens, got " +
                                std::to_string(tokens.size()));
  }
  for (int step = 0; step < num_steps(); ++step) {
    const std::vector<int>& ids = choices_[step];
    if (std::find(ids.begin(), ids.end(), tokens[step]) == ids.end()) {
      const bool known = tokens[step] >= 0 && tokens[step] < static_cast<int>(vocabulary_.size());
      throw std::invalid_argument(
          "token " + std::to_string(step + 1) + " (" +
          (known ? "'" + vocabulary_[tokens[step]] + "'" : std::to_string(tokens[step])) +
          ") is not legal at that step");
    }
  }
}

Expr Space::Decode(const std::vector<int>& tokens) const {
  CheckTokens(tokens);
  const int first_unary = spec_.units;
  const int first_binary = first_unary + static_cast<int>(spec_.unary.size());
  std::vector<Expr> outputs = {MakeInput()};  // outputs[0] = x, outputs[j] = y_j
  for (int unit = 0; unit < spec_.units; ++unit) {
    const int* t = &tokens[unit * kTokensPerUnit];
    Expr a = MakeUnary(spec_.unary[t[2] - first_unary], outputs[t[0]]);
    Expr b = MakeUnary(spec_.unary[t[3] - first_unary], outputs[t[1]]);
    outputs.push_back(MakeBinary(spec_.binary[t[4] - first_binary], a, b));
  }
  return outputs.back();
}

std::optional<std::vector<int>> Space::Encode(const Expr& e) const {
  std::optional<std::vector<Unit>> units = Encoder(spec_).Run(e);
  if (!units) return std::nullopt;
  // Unused filler units go first, so the candidate's own units end with its output.
  const int filler = spec_.units - static_cast<int>(units->size());
  std::vector<int> tokens;
  for (int i = 0; i < filler; ++i) {
    tokens.insert(tokens.end(), {InputToken(0), InputToken(0), UnaryToken(spec_.unary[0]),
                                 UnaryToken(spec_.unary[0]), BinaryToken(spec_.binary[0])});
  }
  auto shifted = [&](int input) { return input == 0 ? 0 : input + filler; };
  for (const Unit& u : *units) {
    tokens.insert(tokens.end(),
                  {InputToken(shifted(u.input1)), InputToken(shifted(u.input2)),
                   UnaryToken(u.unary1), UnaryToken(u.unary2), BinaryToken(u.binary)});
  }
  if (!Equal(Decode(tokens), e)) return std::nullopt;
  return tokens;
}

std::string Space::TokensToString(const std::vector<int>& tokens) const {
  std::string out;
  for (int id : tokens) {
    if (!out.empty()) out += ' ';
    out += vocabulary_.at(id);
  }
  return out;
}

std::vector<int> Space::TokensFromString(const std::string& text) const {
  std::vector<int> tokens;
  std::stringstream stream(text);
  std::string word;
  while (stream >> word) {
    const int step = static_cast<int>(tokens.size());
    int id = -1;
    for (int candidate : step < num_steps() ? choices_[step] : std::vector<int>{}) {
      if (vocabulary_[candidate] == word) id = candidate;
    }
    if (id < 0) {
      throw std::invalid_argument("token " + std::to_string(step + 1) + " '" + word +
                                  "' is not legal at that step");
    }
    tokens.push_back(id);
  }
  CheckTokens(tokens);
  return tokens;
}

}  // namespace actsearch
