#include "worker/cifar.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace actsearch::worker {
namespace {

constexpr int64_t kPixels = 3 * 32 * 32;

// The folder that holds the files: `dir` itself, or the standard subfolder inside it.
std::string FindFolder(const std::string& dir, const std::string& subfolder,
                       const std::string& probe) {
  struct stat info;
  if (stat(dir.c_str(), &info) != 0) throw DataError(dir + ": " + std::strerror(errno));
  if (!S_ISDIR(info.st_mode)) throw DataError(dir + ": not a directory");
  for (const std::string& candidate : {dir, dir + "/" + subfolder}) {
    std::ifstream file(candidate + "/" + probe);
    if (file) return candidate;
  }
  throw DataError(dir + ": no " + probe + " here or in " + subfolder +
                  "/ (is this the binary version of the dataset?)");
}

Dataset Concatenate(const std::vector<Dataset>& parts) {
  std::vector<torch::Tensor> images, labels;
  for (const Dataset& d : parts) {
    images.push_back(d.images);
    labels.push_back(d.labels);
  }
  return {torch::cat(images), torch::cat(labels)};
}

}  // namespace

Dataset ReadCifarFile(const std::string& path, int label_bytes, int64_t num_classes) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) throw DataError(path + ": cannot open: " + std::strerror(errno));
  const int64_t bytes = file.tellg();
  const int64_t record = label_bytes + kPixels;
  if (bytes == 0 || bytes % record != 0) {
    throw DataError(path + ": " + std::to_string(bytes) + " bytes is not a whole number of " +
                    std::to_string(record) + "-byte records (truncated or not a CIFAR file)");
  }
  const int64_t n = bytes / record;
  std::vector<uint8_t> raw(bytes);
  file.seekg(0);
  if (!file.read(reinterpret_cast<char*>(raw.data()), bytes)) {
    throw DataError(path + ": read error: " + std::strerror(errno));
  }
  torch::Tensor images = torch::empty({n, 3, 32, 32}, torch::kUInt8);
  torch::Tensor labels = torch::empty({n}, torch::kLong);
  uint8_t* image_data = images.data_ptr<uint8_t>();
  int64_t* label_data = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* r = raw.data() + i * record;
    const int64_t label = r[label_bytes - 1];  // CIFAR-100: the fine label is the second byte
    if (label >= num_classes) {
      throw DataError(path + ": record " + std::to_string(i) + " has label " +
                      std::to_string(label) + ", outside 0.." + std::to_string(num_classes - 1));
    }
    label_data[i] = label;
    std::memcpy(image_data + i * kPixels, r + label_bytes, kPixels);
  }
  return {images, labels};
}

DatasetSplits LoadCifar10(const std::string& dir, int64_t validation_size) {
  const std::string folder = FindFolder(dir, "cifar-10-batches-bin", "test_batch.bin");
  std::vector<Dataset> train;
  for (int b = 1; b <= 5; ++b) {
    train.push_back(ReadCifarFile(folder + "/data_batch_" + std::to_string(b) + ".bin", 1, 10));
  }
  Dataset test = ReadCifarFile(folder + "/test_batch.bin", 1, 10);
  return MakeSplits("cifar10", 10, Concatenate(train), test, validation_size);
}

DatasetSplits LoadCifar100(const std::string& dir, int64_t validation_size) {
  const std::string folder = FindFolder(dir, "cifar-100-binary", "test.bin");
  return MakeSplits("cifar100", 100, ReadCifarFile(folder + "/train.bin", 2, 100),
                    ReadCifarFile(folder + "/test.bin", 2, 100), validation_size);
}

}  // namespace actsearch::worker
