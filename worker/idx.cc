#include "worker/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace actsearch::worker {
namespace {

constexpr uint32_t kImagesMagic = 2051;
constexpr uint32_t kLabelsMagic = 2049;

// The whole file, gunzipped when it is gzip (zlib reads plain files through unchanged).
std::vector<uint8_t> ReadMaybeGzipped(const std::string& path) {
  {
    std::ifstream probe(path);
    if (!probe) throw DataError(path + ": cannot open: " + std::strerror(errno));
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw DataError(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> data;
  uint8_t buffer[1 << 16];
  int read = 0;
  while ((read = gzread(file, buffer, sizeof buffer)) > 0)
    data.insert(data.end(), buffer, buffer + read);
  int error = Z_OK;
  const std::string message = read < 0 ? gzerror(file, &error) : "";
  gzclose(file);
  if (read < 0) throw DataError(path + ": corrupt gzip data: " + message);
  return data;
}

uint32_t BigEndian(const std::vector<uint8_t>& data, size_t offset) {
  return (uint32_t{data[offset]} << 24) | (uint32_t{data[offset + 1]} << 16) |
         (uint32_t{data[offset + 2]} << 8) | uint32_t{data[offset + 3]};
}

std::string FindFile(const std::string& dir, const std::string& base) {
  for (const std::string& candidate : {dir + "/" + base + ".gz", dir + "/" + base}) {
    std::ifstream file(candidate);
    if (file) return candidate;
  }
  throw DataError(dir + ": no " + base + " or " + base + ".gz");
}

}  // namespace

torch::Tensor ReadIdxImages(const std::string& path) {
  const std::vector<uint8_t> data = ReadMaybeGzipped(path);
  if (data.size() < 16) throw DataError(path + ": too short for an IDX image header");
  const uint32_t magic = BigEndian(data, 0);
  if (magic != kImagesMagic) {
    throw DataError(path + ": magic number " + std::to_string(magic) + ", expected " +
                    std::to_string(kImagesMagic) + " (IDX images)");
  }
  const int64_t n = BigEndian(data, 4), rows = BigEndian(data, 8), cols = BigEndian(data, 12);
  const uint64_t expected = 16 + uint64_t(n) * rows * cols;
  if (data.size() != expected) {
    throw DataError(path + ": " + std::to_string(data.size()) + " bytes, the header promises " +
                    std::to_string(expected) + " (" + std::to_string(n) + " images of " +
                    std::to_string(rows) + "x" + std::to_string(cols) + ")");
  }
  torch::Tensor images = torch::empty({n, 1, rows, cols}, torch::kUInt8);
  std::memcpy(images.data_ptr<uint8_t>(), data.data() + 16, expected - 16);
  return images;
}

torch::Tensor ReadIdxLabels(const std::string& path) {
  const std::vector<uint8_t> data = ReadMaybeGzipped(path);
  if (data.size() < 8) throw DataError(path + ": too short for an IDX label header");
  const uint32_t magic = BigEndian(data, 0);
  if (magic != kLabelsMagic) {
    throw DataError(path + ": magic number " + std::to_string(magic) + ", expected " +
                    std::to_string(kLabelsMagic) + " (IDX labels)");
  }
  const int64_t n = BigEndian(data, 4);
  if (data.size() != 8 + uint64_t(n)) {
    throw DataError(path + ": " + std::to_string(data.size()) + " bytes, the header promises " +
                    std::to_string(8 + n) + " (" + std::to_string(n) + " labels)");
  }
  torch::Tensor labels = torch::empty({n}, torch::kLong);
  int64_t* out = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (data[8 + i] > 9) {
      throw DataError(path + ": label " + std::to_string(i) + " is " + std::to_string(data[8 + i]) +
                      ", outside 0..9");
    }
    out[i] = data[8 + i];
  }
  return labels;
}

DatasetSplits LoadIdxDataset(const std::string& name, const std::string& dir,
                             int64_t validation_size) {
  auto load = [&](const std::string& prefix) {
    const std::string images_path = FindFile(dir, prefix + "-images-idx3-ubyte");
    const std::string labels_path = FindFile(dir, prefix + "-labels-idx1-ubyte");
    Dataset d{ReadIdxImages(images_path), ReadIdxLabels(labels_path)};
    if (d.images.size(0) != d.labels.size(0)) {
      throw DataError(labels_path + ": " + std::to_string(d.labels.size(0)) + " labels for " +
                      std::to_string(d.images.size(0)) + " images in " + images_path);
    }
    return d;
  };
  Dataset train = load("train");
  Dataset test = load("t10k");
  return MakeSplits(name, 10, std::move(train), std::move(test), validation_size);
}

}  // namespace actsearch::worker
