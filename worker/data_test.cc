// Loaders: real layouts read correctly, and every kind of bad file rejected with a message that
// names the file and the fault.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "worker/cifar.h"
#include "worker/data_source.h"
#include "worker/idx.h"

namespace actsearch::worker {
namespace {

class DataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "actsearch-data-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  static void Write(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

  static void WriteGz(const std::string& path, const std::vector<uint8_t>& bytes) {
    gzFile file = gzopen(path.c_str(), "wb");
    gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(file);
  }

  // CIFAR-10 records: label, then R, G and B planes; pixel value encodes (record, plane).
  static std::vector<uint8_t> CifarRecords(int n, int first_label) {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < n; ++i) {
      bytes.push_back(static_cast<uint8_t>((first_label + i) % 10));
      for (int plane = 0; plane < 3; ++plane)
        bytes.insert(bytes.end(), 1024, uint8_t(10 * i + plane));
    }
    return bytes;
  }

  void WriteCifar10(const std::string& folder, int per_file) {
    std::filesystem::create_directories(folder);
    for (int b = 1; b <= 5; ++b) {
      Write(folder + "/data_batch_" + std::to_string(b) + ".bin", CifarRecords(per_file, b));
    }
    Write(folder + "/test_batch.bin", CifarRecords(per_file, 0));
  }

  static std::vector<uint8_t> IdxHeader(uint32_t magic, std::vector<uint32_t> dims) {
    std::vector<uint8_t> bytes;
    for (uint32_t v : std::vector<uint32_t>{magic}) {
      for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(uint8_t(v >> shift));
    }
    for (uint32_t v : dims) {
      for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(uint8_t(v >> shift));
    }
    return bytes;
  }

  void WriteIdxSet(const std::string& prefix, int n, bool gz) {
    std::vector<uint8_t> images = IdxHeader(2051, {uint32_t(n), 28, 28});
    for (int i = 0; i < n * 28 * 28; ++i) images.push_back(uint8_t(i % 251));
    std::vector<uint8_t> labels = IdxHeader(2049, {uint32_t(n)});
    for (int i = 0; i < n; ++i) labels.push_back(uint8_t(i % 10));
    const std::string suffix = gz ? ".gz" : "";
    (gz ? WriteGz : Write)(Path(prefix + "-images-idx3-ubyte" + suffix), images);
    (gz ? WriteGz : Write)(Path(prefix + "-labels-idx1-ubyte" + suffix), labels);
  }

  template <class F>
  static std::string ErrorOf(F&& f) {
    try {
      f();
    } catch (const DataError& e) {
      return e.what();
    }
    return "(no error)";
  }

  std::string dir_;
};

TEST_F(DataTest, ReadsCifar10RecordsPlaneByPlane) {
  WriteCifar10(Path("cifar-10-batches-bin"), 4);
  const DatasetSplits d = LoadCifar10(dir_, /*validation_size=*/5);  // the parent folder works
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.train.size(), 15);
  EXPECT_EQ(d.validation.size(), 5);
  EXPECT_EQ(d.test.size(), 4);
  EXPECT_EQ(d.test.images.sizes(), (std::vector<int64_t>{4, 3, 32, 32}));
  // Test record 2: label 2, planes filled with 20, 21, 22.
  EXPECT_EQ(d.test.labels[2].item<int64_t>(), 2);
  EXPECT_EQ(d.test.images[2][0][5][7].item<uint8_t>(), 20);
  EXPECT_EQ(d.test.images[2][2][31][31].item<uint8_t>(), 22);
  EXPECT_EQ(d.mean.sizes(), (std::vector<int64_t>{3}));
}

TEST_F(DataTest, RejectsBadCifarFilesNamingTheFileAndFault) {
  const std::string folder = Path("cifar-10-batches-bin");
  WriteCifar10(folder, 2);
  std::vector<uint8_t> truncated = CifarRecords(2, 0);
  truncated.resize(truncated.size() - 100);
  Write(folder + "/data_batch_3.bin", truncated);
  std::string error = ErrorOf([&] { LoadCifar10(folder, 1); });
  EXPECT_NE(error.find("data_batch_3.bin: 6046 bytes is not a whole number of 3073-byte records"),
            std::string::npos)
      << error;

  WriteCifar10(folder, 2);
  std::vector<uint8_t> bad_label = CifarRecords(2, 0);
  bad_label[3073] = 12;
  Write(folder + "/test_batch.bin", bad_label);
  error = ErrorOf([&] { LoadCifar10(folder, 1); });
  EXPECT_NE(error.find("test_batch.bin: record 1 has label 12, outside 0..9"), std::string::npos)
      << error;

  std::filesystem::remove(folder + "/data_batch_5.bin");
  error = ErrorOf([&] { LoadCifar10(folder, 1); });
  EXPECT_NE(error.find("data_batch_5.bin: cannot open"), std::string::npos) << error;

  error = ErrorOf([&] { LoadCifar10(Path("nowhere"), 1); });
  EXPECT_NE(error.find("nowhere: No such file or directory"), std::string::npos) << error;
  std::filesystem::create_directory(Path("empty"));
  error = ErrorOf([&] { LoadCifar10(Path("empty"), 1); });
  EXPECT_NE(error.find("empty: no test_batch.bin"), std::string::npos) << error;
}

TEST_F(DataTest, ReadsCifar100FineLabels) {
  std::vector<uint8_t> records;
  for (int i = 0; i < 3; ++i) {
    records.push_back(uint8_t(i));       // coarse
    records.push_back(uint8_t(90 + i));  // fine
    records.insert(records.end(), 3072, uint8_t(i));
  }
  Write(Path("train.bin"), records);
  Write(Path("test.bin"), records);
  const DatasetSplits d = LoadCifar100(dir_, 1);
  EXPECT_EQ(d.num_classes, 100);
  EXPECT_EQ(d.test.labels[2].item<int64_t>(), 92);
}

TEST_F(DataTest, ReadsIdxGzippedOrNot) {
  for (bool gz : {true, false}) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directory(dir_);
    WriteIdxSet("train", 30, gz);
    WriteIdxSet("t10k", 10, gz);
    const DatasetSplits d = LoadIdxDataset("mnist", dir_, 10);
    EXPECT_EQ(d.train.size(), 20);
    EXPECT_EQ(d.test.images.sizes(), (std::vector<int64_t>{10, 1, 28, 28}));
    EXPECT_EQ(d.test.images[0][0][0][5].item<uint8_t>(), 5);
    EXPECT_EQ(d.test.labels[7].item<int64_t>(), 7);
  }
}

TEST_F(DataTest, RejectsBadIdxFilesNamingTheFileAndFault) {
  WriteIdxSet("t10k", 10, true);
  std::vector<uint8_t> labels = IdxHeader(2049, {10});
  labels.resize(labels.size() + 10, 1);
  Write(Path("wrong-magic"), labels);
  std::string error = ErrorOf([&] { ReadIdxImages(Path("wrong-magic")); });
  EXPECT_NE(error.find("wrong-magic: magic number 2049, expected 2051"), std::string::npos)
      << error;

  std::vector<uint8_t> short_images = IdxHeader(2051, {10, 28, 28});
  short_images.resize(short_images.size() + 500);
  WriteGz(Path("short.gz"), short_images);
  error = ErrorOf([&] { ReadIdxImages(Path("short.gz")); });
  EXPECT_NE(error.find("short.gz: 516 bytes, the header promises 7856"), std::string::npos)
      << error;

  Write(Path("corrupt.gz"), {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8});
  error = ErrorOf([&] { ReadIdxLabels(Path("corrupt.gz")); });
  EXPECT_NE(error.find("corrupt.gz:"), std::string::npos) << error;

  std::vector<uint8_t> bad_label = IdxHeader(2049, {2});
  bad_label.push_back(3);
  bad_label.push_back(11);
  Write(Path("bad-label"), bad_label);
  error = ErrorOf([&] { ReadIdxLabels(Path("bad-label")); });
  EXPECT_NE(error.find("bad-label: label 1 is 11, outside 0..9"), std::string::npos) << error;

  error = ErrorOf([&] { LoadIdxDataset("mnist", dir_, 1); });
  EXPECT_NE(error.find("no train-images-idx3-ubyte or train-images-idx3-ubyte.gz"),
            std::string::npos)
      << error;
}

TEST_F(DataTest, ValidationIsDisjointFromTrainingAndFixedBySeed) {
  WriteCifar10(Path("c"), 20);
  const DatasetSplits a = LoadCifar10(Path("c"), 30);
  const DatasetSplits b = LoadCifar10(Path("c"), 30);
  EXPECT_TRUE(torch::equal(a.validation.images, b.validation.images));
  // Every image of this fixture is distinct by its first pixel and label: none is in both.
  const torch::Tensor train_keys =
      a.train.images.select(1, 0).select(1, 0).select(1, 0).to(torch::kLong) * 10 + a.train.labels;
  const torch::Tensor validation_keys =
      a.validation.images.select(1, 0).select(1, 0).select(1, 0).to(torch::kLong) * 10 +
      a.validation.labels;
  EXPECT_EQ(torch::isin(validation_keys, train_keys).sum().item<int64_t>(), 0);
  EXPECT_THROW(LoadCifar10(Path("c"), 100), DataError) << "no training images left";
}

TEST_F(DataTest, AReducedTrainingSetKeepsValidationAndItsOwnStatistics) {
  WriteCifar10(Path("c"), 20);
  const DatasetSplits whole = LoadCifar10(Path("c"), 30);
  DatasetSplits reduced = LoadCifar10(Path("c"), 30);
  KeepTrainingImages(reduced, 25);
  EXPECT_EQ(reduced.train.size(), 25);
  EXPECT_TRUE(torch::equal(reduced.train.images, whole.train.images.slice(0, 0, 25)));
  EXPECT_TRUE(torch::equal(reduced.validation.images, whole.validation.images));
  EXPECT_TRUE(torch::equal(reduced.test.images, whole.test.images));
  const torch::Tensor mean = reduced.train.images.to(torch::kFloat).div(255).mean({0, 2, 3});
  EXPECT_TRUE(torch::allclose(reduced.mean, mean));
  EXPECT_FALSE(torch::allclose(reduced.mean, whole.mean)) << "the statistics were not recomputed";
  const std::string error = ErrorOf([&] { KeepTrainingImages(reduced, 26); });
  EXPECT_NE(error.find("cifar10: 26 training images asked for, the training split holds 25"),
            std::string::npos)
      << error;
}

TEST_F(DataTest, LoadsTheRealFashionMnistFromDebiansPackage) {
  if (!std::filesystem::exists(kDebianFashionMnistDir)) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (deploy/install-deps.sh installs it)";
  }
  const DatasetSplits d = LoadDataset("fashion-mnist");
  EXPECT_EQ(d.train.size(), 55000);
  EXPECT_EQ(d.validation.size(), 5000);
  EXPECT_EQ(d.test.size(), 10000);
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{55000, 1, 28, 28}));
  EXPECT_EQ(std::get<0>(torch::_unique(d.test.labels)).numel(), 10);
}

TEST_F(DataTest, RejectsUnknownDatasetSpecs) {
  EXPECT_NE(ErrorOf([] { LoadDataset("imagenet"); }).find("unknown dataset 'imagenet'"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { LoadDataset("cifar10"); }).find("needs a directory: cifar10:DIR"),
            std::string::npos);
}

}  // namespace
}  // namespace actsearch::worker
