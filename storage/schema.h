// The results database's schema, its version (PRAGMA user_version) and forward migrations.
#pragma once

#include "storage/sqlite.h"

namespace actsearch::storage {

// The schema version this build writes.
int LatestSchemaVersion();

// The file's version: 0 for a new, empty database.
int SchemaVersion(sql::Database& db);

// Applies the migrations from the file's version up to `target`, each in its own transaction.
// Throws sql::Error naming the file if it comes from a newer actsearch (version > latest),
// or if it is a database that is not actsearch's.
void Migrate(sql::Database& db, int target = LatestSchemaVersion());

// Throws sql::Error naming the file unless it is empty or actsearch's, of a version this build
// knows.
void CheckOurs(sql::Database& db);

// For writers: refuses a file that is not actsearch's or is too new (untouched: no journal
// mode switched), then switches it to WAL and migrates it to the latest version.
void PrepareForWriting(sql::Database& db);

// For readers: throws unless the file's version is one this build reads (1 .. latest).
void CheckReadable(sql::Database& db);

}  // namespace actsearch::storage
