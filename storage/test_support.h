// Test fixture for the storage tests: a fresh temporary directory per test, and the integrity
// check run on every database file the test leaves behind.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "storage/sqlite.h"

namespace actsearch::storage {

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "actsearch-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      const std::string path = entry.path().string();
      if (entry.path().extension() != ".db" || !IsSqlite(path)) continue;
      sql::Database db(path, sql::OpenMode::kReadOnly);
      EXPECT_EQ(db.IntegrityCheck(), "ok") << path;
    }
    std::filesystem::remove_all(dir_);
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  static bool IsSqlite(const std::string& path) {
    try {
      sql::Database db(path, sql::OpenMode::kReadOnly);
      return true;
    } catch (const sql::Error&) {
      return false;  // the bad-input tests leave files that are not databases on purpose
    }
  }

  std::filesystem::path dir_;
};

}  // namespace actsearch::storage
