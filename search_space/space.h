// Core-unit search spaces and their token encoding.
//
// A candidate of N units is N * 5 tokens: per unit input1, input2, unary1, unary2, binary.
// Unit k (1-based) takes each input from {x, y_1 .. y_(k-1)}; its output is
// y_k = binary(unary1(input1), unary2(input2)); the candidate is y_N.
// Enumeration order is lexicographic in the token choices, the first token most significant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "search_space/expr.h"

namespace actsearch {

struct SpaceSpec {
  int units = 1;
  std::vector<OpId> unary = AllUnaryTokens();  // unary tokens allowed, in this order
  std::vector<OpId> binary = AllBinaryOps();   // binary operators allowed, in this order
};

// Parses a comma-separated operator list ("sin,cos,identity"); "all" or "" gives every one.
// Throws std::invalid_argument naming an unknown or misplaced operator.
std::vector<OpId> ParseUnaryList(const std::string& names);
std::vector<OpId> ParseBinaryList(const std::string& names);

enum class StepKind { kInput, kUnary, kBinary };

class Space {
 public:
  // Throws std::invalid_argument for an empty operator list, duplicates, or units < 1.
  explicit Space(SpaceSpec spec);

  const SpaceSpec& spec() const { return spec_; }
  int num_steps() const { return 5 * spec_.units; }

  // Every token any step can emit. Ids: inputs (x, y1 ..), then unary tokens, then binary.
  const std::vector<std::string>& vocabulary() const { return vocabulary_; }
  StepKind step_kind(int step) const;
  // The token ids legal at a step, in enumeration order.
  const std::vector<int>& choices(int step) const { return choices_[step]; }
  // choices(step) as a mask over the vocabulary.
  std::vector<bool> legal_mask(int step) const;

  // Number of token sequences; nullopt if it exceeds 2^64 - 1.
  std::optional<uint64_t> size() const { return size_; }
  // The index-th sequence in enumeration order. Requires a size that fits and index < size.
  std::vector<int> TokensAt(uint64_t index) const;
  uint64_t IndexOf(const std::vector<int>& tokens) const;

  // Throws std::invalid_argument if a token is illegal at its step or the length is wrong.
  Expr Decode(const std::vector<int>& tokens) const;
  // A token sequence that decodes to exactly this tree, if the space can reach it.
  std::optional<std::vector<int>> Encode(const Expr& e) const;

  std::string TokensToString(const std::vector<int>& tokens) const;  // "x x identity sin mul"
  std::vector<int> TokensFromString(const std::string& text) const;  // throws invalid_argument

 private:
  void CheckTokens(const std::vector<int>& tokens) const;
  int InputToken(int unit_output) const { return unit_output; }  // 0 = x, j = y_j
  int UnaryToken(OpId op) const;
  int BinaryToken(OpId op) const;

  SpaceSpec spec_;
  std::vector<std::string> vocabulary_;
  std::vector<std::vector<int>> choices_;
  std::optional<uint64_t> size_;
};

}  // namespace actsearch
