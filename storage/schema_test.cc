#include "storage/schema.h"

#include "storage/test_support.h"

namespace actsearch::storage {
namespace {

using sql::Database;
using sql::OpenMode;

class SchemaTest : public StorageTest {};

std::vector<std::string> Tables(Database& db) {
  std::vector<std::string> names;
  sql::Statement list = db.Prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "ORDER BY name");
  while (list.Step()) names.push_back(list.Text(0));
  return names;
}

TEST_F(SchemaTest, MigratesAnEmptyFileToTheLatestVersion) {
  Database db(Path("new.db"), OpenMode::kReadWriteCreate);
  EXPECT_EQ(SchemaVersion(db), 0);
  Migrate(db);
  EXPECT_EQ(SchemaVersion(db), LatestSchemaVersion());
  EXPECT_EQ(Tables(db),
            (std::vector<std::string>{"candidate_operators", "candidates", "checkpoints",
                                      "evaluations", "leases", "policy_updates", "results",
                                      "searches", "trials", "workers"}));
  Migrate(db);  // idempotent
  EXPECT_EQ(SchemaVersion(db), LatestSchemaVersion());
}

TEST_F(SchemaTest, MigratesEachEarlierVersionKeepingItsRows) {
  for (int from = 1; from < LatestSchemaVersion(); ++from) {
    const std::string path = Path("v" + std::to_string(from) + ".db");
    {
      Database db(path, OpenMode::kReadWriteCreate);
      Migrate(db, from);
      ASSERT_EQ(SchemaVersion(db), from);
      db.Execute(
          "INSERT INTO searches (id, config, seed, started_at, status) "
          "VALUES (7, 'space { units: 1 }', 3, 1.5, 'finished')");
    }
    Database db(path, OpenMode::kReadWrite);
    Migrate(db);
    EXPECT_EQ(SchemaVersion(db), LatestSchemaVersion());
    sql::Statement kept = db.Prepare("SELECT config, seed FROM searches WHERE id = 7");
    ASSERT_TRUE(kept.Step()) << "from version " << from;
    EXPECT_EQ(kept.Text(0), "space { units: 1 }");
    EXPECT_EQ(kept.Int(1), 3);
  }
}

TEST_F(SchemaTest, RefusesAFileFromANewerVersion) {
  const std::string path = Path("future.db");
  {
    Database db(path, OpenMode::kReadWriteCreate);
    Migrate(db);
    db.Execute("PRAGMA user_version = 99");
  }
  Database db(path, OpenMode::kReadWrite);
  try {
    Migrate(db);
    ADD_FAILURE() << "migrated a newer file";
  } catch (const sql::Error& e) {
    EXPECT_NE(
        std::string(e.what()).find(path + ": written by a newer actsearch (schema version 99"),
        std::string::npos)
        << e.what();
  }
  EXPECT_THROW(CheckReadable(db), sql::Error);
  EXPECT_EQ(SchemaVersion(db), 99) << "nothing modified";
}

TEST_F(SchemaTest, RefusesSomeoneElsesDatabase) {
  const std::string path = Path("other.db");
  {
    Database db(path, OpenMode::kReadWriteCreate);
    db.Execute("CREATE TABLE recipes (name TEXT)");
  }
  Database db(path, OpenMode::kReadWrite);
  EXPECT_THROW(Migrate(db), sql::Error);
  EXPECT_THROW(PrepareForWriting(db), sql::Error);
  EXPECT_EQ(Tables(db), std::vector<std::string>{"recipes"});
  EXPECT_THROW(CheckReadable(db), sql::Error);
  sql::Statement mode = db.Prepare("PRAGMA journal_mode");
  mode.Step();
  EXPECT_EQ(mode.Text(0), "delete") << "refused without switching the file to WAL";
}

}  // namespace
}  // namespace actsearch::storage
