// Strategy checkpoints as bytes: a magic line, a checksum, then a torch archive of named fields
// tagged with the strategy's name and a format version, so that bytes restore only into the
// kind of strategy that wrote them. The archive format (and torch's optimizer serialisation)
// is the same in LibTorch 1.13 and 2.x.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "controller/strategy.h"
#include "search_space/space.h"

namespace actsearch::controller {

class StateWriter {
 public:
  explicit StateWriter(const std::string& strategy);

  void WriteInt(const std::string& key, int64_t value);
  void WriteUnsigned(const std::string& key, uint64_t value);
  void WriteDouble(const std::string& key, double value);
  void WriteText(const std::string& key, const std::string& value);
  void WriteTensor(const std::string& key, const torch::Tensor& value);
  // What identifies the space (units and vocabulary), for StateReader::CheckSpace.
  void WriteSpace(const Space& space);
  // A nested archive (e.g. for an optimizer's own serialisation), written under `key` when
  // `WriteNested` is called.
  torch::serialize::OutputArchive NewNested() const;
  void WriteNested(const std::string& key, torch::serialize::OutputArchive& nested);

  std::string Bytes();

 private:
  torch::serialize::OutputArchive archive_;
};

// Every read throws StrategyStateError naming the strategy and the field when the field is
// missing or of the wrong type.
class StateReader {
 public:
  // Throws StrategyStateError if `bytes` are not a checkpoint of `strategy` in this format.
  StateReader(const std::string& bytes, const std::string& strategy);

  int64_t ReadInt(const std::string& key);
  uint64_t ReadUnsigned(const std::string& key);
  double ReadDouble(const std::string& key);
  std::string ReadText(const std::string& key);
  // Checks the element type and the number of dimensions; the caller checks the sizes.
  torch::Tensor ReadTensor(const std::string& key, torch::ScalarType type, int64_t dims);
  torch::serialize::InputArchive ReadNested(const std::string& key);
  // Throws unless the checkpoint was written for a space like `space`.
  void CheckSpace(const Space& space);

  // A StrategyStateError about this checkpoint, for the caller's own checks.
  StrategyStateError Error(const std::string& what) const;

 private:
  c10::IValue ReadValue(const std::string& key);

  std::string strategy_;
  torch::serialize::InputArchive archive_;
};

}  // namespace actsearch::controller
