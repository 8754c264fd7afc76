#include "storage/sqlite.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "storage/test_support.h"

namespace actsearch::storage {
namespace {

using sql::Database;
using sql::OpenMode;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ErrorOf(const std::string& path, OpenMode mode) {
  try {
    Database db(path, mode);
  } catch (const sql::Error& e) {
    return e.what();
  }
  return "";
}

class SqliteTest : public StorageTest {};

TEST_F(SqliteTest, BindsAndReadsEveryType) {
  Database db(Path("types.db"), OpenMode::kReadWriteCreate);
  db.Execute("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)");
  db.Prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)")
      .Bind(1, int64_t{1} << 40)
      .Bind(2, 0.25)
      .Bind(3, std::string("h\xc3\xa9llo"))
      .BindBlob(4, {0, 1, 255})
      .BindNull(5)
      .Run();
  sql::Statement read = db.Prepare("SELECT i, d, s, b, n FROM t");
  ASSERT_TRUE(read.Step());
  EXPECT_EQ(read.Int(0), int64_t{1} << 40);
  EXPECT_EQ(read.Double(1), 0.25);
  EXPECT_EQ(read.Text(2), "h\xc3\xa9llo");
  EXPECT_EQ(read.Blob(3), (std::vector<uint8_t>{0, 1, 255}));
  EXPECT_TRUE(read.IsNull(4));
  EXPECT_FALSE(read.OptionalDouble(4).has_value());
  EXPECT_FALSE(read.Step());
}

TEST_F(SqliteTest, TransactionsRollBackUnlessCommitted) {
  Database db(Path("tx.db"), OpenMode::kReadWriteCreate);
  db.Execute("CREATE TABLE t (x INTEGER NOT NULL)");
  try {
    sql::Transaction transaction(db);
    db.Execute("INSERT INTO t VALUES (1)");
    db.Execute("INSERT INTO t VALUES (NULL)");  // fails: the first insert must not survive
    transaction.Commit();
  } catch (const sql::Error& e) {
    EXPECT_NE(std::string(e.what()).find("NOT NULL"), std::string::npos) << e.what();
  }
  {
    sql::Transaction transaction(db);
    db.Execute("INSERT INTO t VALUES (2)");
    transaction.Commit();
  }
  sql::Statement count = db.Prepare("SELECT group_concat(x) FROM t");
  count.Step();
  EXPECT_EQ(count.Text(0), "2");
}

TEST_F(SqliteTest, OpensWithForeignKeysOnAndSwitchesToWalOnlyWhenAsked) {
  Database db(Path("wal.db"), OpenMode::kReadWriteCreate);
  auto journal_mode = [&] {
    sql::Statement mode = db.Prepare("PRAGMA journal_mode");
    mode.Step();
    return mode.Text(0);
  };
  EXPECT_EQ(journal_mode(), "delete") << "opening changes nothing in the file";
  db.EnableWal();
  EXPECT_EQ(journal_mode(), "wal");
  sql::Statement keys = db.Prepare("PRAGMA foreign_keys");
  keys.Step();
  EXPECT_EQ(keys.Int(0), 1);
}

TEST_F(SqliteTest, ReadOnlyConnectionsCannotWrite) {
  { Database(Path("ro.db"), OpenMode::kReadWriteCreate).Execute("CREATE TABLE t (x)"); }
  Database reader(Path("ro.db"), OpenMode::kReadOnly);
  EXPECT_THROW(reader.Execute("INSERT INTO t VALUES (1)"), sql::Error);
}

TEST_F(SqliteTest, AMissingFileIsAnErrorNamingThePathAndNothingIsCreated) {
  const std::string path = Path("missing.db");
  const std::string error = ErrorOf(path, OpenMode::kReadOnly);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_NE(ErrorOf(path, OpenMode::kReadWrite).find("No such file"), std::string::npos);
}

TEST_F(SqliteTest, ADirectoryIsAnError) {
  const std::string path = Path("folder.db");
  std::filesystem::create_directory(path);
  for (OpenMode mode : {OpenMode::kReadOnly, OpenMode::kReadWriteCreate}) {
    const std::string error = ErrorOf(path, mode);
    EXPECT_NE(error.find(path + ": is a directory"), std::string::npos) << error;
  }
}

TEST_F(SqliteTest, AGarbageFileIsNotADatabaseAndIsLeftUntouched) {
  const std::string path = Path("garbage.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 5000; ++i) out << "not a database " << i << "\n";
  }
  const std::string before = ReadAll(path);
  for (OpenMode mode : {OpenMode::kReadOnly, OpenMode::kReadWriteCreate}) {
    const std::string error = ErrorOf(path, mode);
    EXPECT_NE(error.find(path + ": not an SQLite database"), std::string::npos) << error;
  }
  EXPECT_EQ(ReadAll(path), before);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST_F(SqliteTest, AReadOnlyFileRefusesAWriter) {
  const std::string path = Path("locked.db");
  { Database(path, OpenMode::kReadWriteCreate).Execute("CREATE TABLE t (x)"); }
  // Root ignores permission bits; the immutable attribute binds root too, where it is allowed.
  chmod(path.c_str(), 0444);
  const bool immutable =
      geteuid() != 0 || std::system(("chattr +i '" + path + "' 2>/dev/null").c_str()) == 0;
  if (!immutable) GTEST_SKIP() << "running as root where chattr +i is not permitted";
  const std::string before = ReadAll(path);
  const std::string error = ErrorOf(path, OpenMode::kReadWrite);
  if (geteuid() == 0) std::system(("chattr -i '" + path + "'").c_str());
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("read-only"), std::string::npos) << error;
  EXPECT_EQ(ReadAll(path), before);
  Database reader(path, OpenMode::kReadOnly);  // readers still work
}

TEST_F(SqliteTest, ABackupHoldsWhatIsStillInTheWal) {
  const std::string path = Path("live.db"), copy = Path("copy.db");
  Database writer(path, OpenMode::kReadWriteCreate);
  writer.EnableWal();
  writer.Execute("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)");
  Database reader(path, OpenMode::kReadOnly);
  reader.CopyTo(copy);
  Database restored(copy, OpenMode::kReadOnly);
  sql::Statement count = restored.Prepare("SELECT count(*) FROM t");
  count.Step();
  EXPECT_EQ(count.Int(0), 3);
  EXPECT_THROW(reader.CopyTo(copy), sql::Error) << "never over an existing file";
}

}  // namespace
}  // namespace actsearch::storage
