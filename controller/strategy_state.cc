#include "controller/strategy_state.h"

#include <cstdio>
#include <sstream>

namespace actsearch::controller {
namespace {

constexpr int64_t kFormatVersion = 1;

// The archive goes behind a magic line and a checksum: torch's zip reader does not notice
// every flipped byte (tensor data is stored raw), and a checkpoint must not half-restore.
constexpr char kMagic[] = "actsearch strategy state\n";
constexpr size_t kChecksumDigits = 16;

uint64_t Checksum(const char* data, size_t size) {  // FNV-1a, 64 bits
  uint64_t hash = 14695981039346656037ull;
  for (size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string Hex(uint64_t value) {
  char digits[kChecksumDigits + 1];
  std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(value));
  return digits;
}

std::string SpaceSignature(const Space& space) {
  std::string signature = std::to_string(space.spec().units) + " units:";
  for (const std::string& token : space.vocabulary()) signature += " " + token;
  return signature;
}

}  // namespace

StateWriter::StateWriter(const std::string& strategy) {
  WriteText("strategy", strategy);
  WriteInt("format_version", kFormatVersion);
}

void StateWriter::WriteInt(const std::string& key, int64_t value) {
  archive_.write(key, c10::IValue(value));
}

void StateWriter::WriteUnsigned(const std::string& key, uint64_t value) {
  // Archives hold signed 64-bit integers; the bit pattern round-trips.
  WriteInt(key, static_cast<int64_t>(value));
}

void StateWriter::WriteDouble(const std::string& key, double value) {
  archive_.write(key, c10::IValue(value));
}

void StateWriter::WriteText(const std::string& key, const std::string& value) {
  archive_.write(key, c10::IValue(value));
}

void StateWriter::WriteTensor(const std::string& key, const torch::Tensor& value) {
  // A copy, detached: the archive must not hold on to live parameters or autograd history.
  archive_.write(key, value.detach().clone(), /*is_buffer=*/true);
}

void StateWriter::WriteSpace(const Space& space) { WriteText("space", SpaceSignature(space)); }

torch::serialize::OutputArchive StateWriter::NewNested() const {
  return torch::serialize::OutputArchive(archive_.compilation_unit());
}

void StateWriter::WriteNested(const std::string& key, torch::serialize::OutputArchive& nested) {
  archive_.write(key, nested);
}

std::string StateWriter::Bytes() {
  std::ostringstream archive;
  archive_.save_to(archive);
  const std::string payload = archive.str();
  return kMagic + Hex(Checksum(payload.data(), payload.size())) + "\n" + payload;
}

StateReader::StateReader(const std::string& bytes, const std::string& strategy)
    : strategy_(strategy) {
  const size_t header = sizeof kMagic - 1 + kChecksumDigits + 1;
  if (bytes.size() < header || bytes.compare(0, sizeof kMagic - 1, kMagic) != 0) {
    throw Error("the bytes are not a strategy checkpoint");
  }
  const char* payload = bytes.data() + header;
  const size_t payload_size = bytes.size() - header;
  if (bytes.compare(sizeof kMagic - 1, kChecksumDigits, Hex(Checksum(payload, payload_size))) !=
      0) {
    throw Error("the checkpoint is corrupt or truncated (checksum mismatch)");
  }
  try {
    std::istringstream in(std::string(payload, payload_size));
    archive_.load_from(in);
  } catch (const c10::Error& e) {
    throw Error(std::string("the checkpoint's archive is unreadable: ") +
                e.what_without_backtrace());
  }
  c10::IValue written_by;
  if (!archive_.try_read("strategy", written_by) || !written_by.isString()) {
    throw Error("the archive is not a strategy checkpoint");
  }
  if (written_by.toStringRef() != strategy) {
    throw Error("the checkpoint is of a " + written_by.toStringRef() + " strategy");
  }
  const int64_t version = ReadInt("format_version");
  if (version != kFormatVersion) {
    throw Error("checkpoint format " + std::to_string(version) + ", this build reads " +
                std::to_string(kFormatVersion));
  }
}

StrategyStateError StateReader::Error(const std::string& what) const {
  return StrategyStateError("cannot restore the " + strategy_ + " strategy: " + what);
}

c10::IValue StateReader::ReadValue(const std::string& key) {
  c10::IValue value;
  if (!archive_.try_read(key, value)) throw Error("field '" + key + "' is missing");
  return value;
}

int64_t StateReader::ReadInt(const std::string& key) {
  const c10::IValue value = ReadValue(key);
  if (!value.isInt()) throw Error("field '" + key + "' is not an integer");
  return value.toInt();
}

uint64_t StateReader::ReadUnsigned(const std::string& key) {
  return static_cast<uint64_t>(ReadInt(key));
}

double StateReader::ReadDouble(const std::string& key) {
  const c10::IValue value = ReadValue(key);
  if (!value.isDouble()) throw Error("field '" + key + "' is not a number");
  return value.toDouble();
}

std::string StateReader::ReadText(const std::string& key) {
  const c10::IValue value = ReadValue(key);
  if (!value.isString()) throw Error("field '" + key + "' is not text");
  return value.toStringRef();
}

torch::Tensor StateReader::ReadTensor(const std::string& key, torch::ScalarType type,
                                      int64_t dims) {
  torch::Tensor tensor;
  if (!archive_.try_read(key, tensor, /*is_buffer=*/true)) {
    throw Error("tensor '" + key + "' is missing");
  }
  if (tensor.scalar_type() != type || tensor.dim() != dims) {
    throw Error("tensor '" + key + "' has the wrong type or number of dimensions");
  }
  return tensor;
}

torch::serialize::InputArchive StateReader::ReadNested(const std::string& key) {
  torch::serialize::InputArchive nested;
  if (!archive_.try_read(key, nested)) throw Error("section '" + key + "' is missing");
  return nested;
}

void StateReader::CheckSpace(const Space& space) {
  const std::string written = ReadText("space");
  if (written != SpaceSignature(space)) {
    throw Error("the checkpoint is of another space (" + written + ")");
  }
}

}  // namespace actsearch::controller
