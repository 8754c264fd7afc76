// A small RAII layer over the SQLite C API: the database, prepared statements that finalize
// themselves, and transactions that roll back unless committed. Every failure throws
// sql::Error with the database's path and SQLite's own message.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace actsearch::sql {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, int code) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }  // SQLite's result code

 private:
  int code_;
};

enum class OpenMode {
  kReadWriteCreate,  // the writer (the controller): creates the file if missing
  kReadWrite,        // must exist
  kReadOnly,         // readers: the leaderboard, dashboards; never modify the file
};

class Statement;

class Database {
 public:
  // Opens with foreign keys on and a busy timeout, so that one writer and any number of
  // readers work side by side. A reader of a file on read-only storage reads it as immutable
  // (no -shm file needed), unless results sit in its -wal file (an error says so).
  Database(const std::string& path, OpenMode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  OpenMode mode() const { return mode_; }

  void Execute(std::string_view sql);  // one or more statements, no results
  Statement Prepare(std::string_view sql);
  int64_t LastInsertId() const;
  int Changes() const;  // rows changed by the last statement

  // Switches the file to WAL journaling (persistent): readers beside the writer. Only after the
  // file is known to be ours (storage/schema.h: PrepareForWriting).
  void EnableWal();
  // Copies the WAL's committed pages into the main file, so that the main file alone holds
  // them (truncate: and empties the -wal file; needs no readers in the way).
  void CheckpointWal(bool truncate = false);

  // Copies the whole database, WAL included, into a new file at `path` with SQLite's online
  // backup: consistent as of one moment while a writer goes on. Throws if `path` exists.
  void CopyTo(const std::string& path);

  // The result of PRAGMA integrity_check: "ok" when the file is sound.
  std::string IntegrityCheck();

  sqlite3* handle() const { return db_; }
  [[noreturn]] void Fail(int code, const std::string& what) const;

 private:
  void Open(const std::string& name, OpenMode mode, bool immutable = false);

  std::string path_;
  OpenMode mode_;
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  // Parameters are 1-based, as in SQL's ?1, ?2 ...
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const std::string& text) {
    return Bind(index, std::string_view(text));
  }
  Statement& BindBlob(int index, const std::vector<uint8_t>& blob);
  Statement& BindNull(int index);
  template <class T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Advances to the next row: true while there is one.
  bool Step();
  // Runs a statement that returns no rows.
  void Run();
  void Reset();  // for running again with new bindings

  // Columns are 0-based.
  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::vector<uint8_t> Blob(int column) const;
  std::optional<double> OptionalDouble(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;

 private:
  Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction (the write lock is taken up front, so a writer never fails
// half-way with SQLITE_BUSY); rolls back in the destructor unless Commit() was called.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void Commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace actsearch::sql
