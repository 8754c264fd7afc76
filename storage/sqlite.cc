#include "storage/sqlite.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace actsearch::sql {
namespace {

constexpr int kBusyTimeoutMs = 10000;

// Fails early, with a message naming the problem, for what SQLite reports only vaguely.
void CheckPath(const std::string& path, OpenMode mode) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    if (errno != ENOENT || mode != OpenMode::kReadWriteCreate) {
      throw Error(path + ": " + std::strerror(errno), SQLITE_CANTOPEN);
    }
    const size_t slash = path.find_last_of('/');
    const std::string folder = slash == std::string::npos ? "." : path.substr(0, slash);
    if (!folder.empty() && stat(folder.c_str(), &info) != 0) {
      throw Error(path + ": cannot create: " + folder + ": " + std::strerror(errno),
                  SQLITE_CANTOPEN);
    }
    return;
  }
  if (S_ISDIR(info.st_mode))
    throw Error(path + ": is a directory, not a database file", SQLITE_CANTOPEN);
}

// SQLite's URI for `path` (file: with ?, # and % escaped), read without locks or a WAL index:
// for files on storage this process cannot write.
std::string ImmutableUri(const std::string& path) {
  std::string uri = "file:";
  for (const char c : path) {
    if (c == '?' || c == '#' || c == '%') {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", static_cast<unsigned char>(c));
      uri += escaped;
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

off_t FileSize(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 ? info.st_size : 0;
}

}  // namespace

Database::Database(const std::string& path, OpenMode mode) : path_(path), mode_(mode) {
  CheckPath(path, mode);
  try {
    Open(path, mode);
  } catch (const Error& error) {
    // A reader of a WAL database needs to create its -shm file beside it: on read-only storage
    // (a finished search on a read-only mount, an archive) read the file as it stands.
    const int code = error.code() & 0xff;
    if (mode != OpenMode::kReadOnly || (code != SQLITE_READONLY && code != SQLITE_CANTOPEN)) throw;
    if (FileSize(path + "-wal") > 0) {
      throw Error(path + ": on read-only storage, with results still in " + path +
                      "-wal that only a writable copy can read: copy both files to writable "
                      "storage (or make the copy with `actsearch db backup`)",
                  code);
    }
    Open(ImmutableUri(path), mode, /*immutable=*/true);
  }
}

void Database::Open(const std::string& name, OpenMode mode, bool immutable) {
  int flags = SQLITE_OPEN_NOMUTEX | (immutable ? SQLITE_OPEN_URI : 0);
  switch (mode) {
    case OpenMode::kReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case OpenMode::kReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case OpenMode::kReadOnly: flags |= SQLITE_OPEN_READONLY; break;
  }
  const int rc = sqlite3_open_v2(name.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(path_ + ": cannot open: " + message, rc);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  try {
    // Reading the header is what tells a database from any other file.
    Execute("PRAGMA schema_version");
    if (mode != OpenMode::kReadOnly && sqlite3_db_readonly(db_, "main") == 1) {
      throw Error(path_ + ": the file is read-only; a writer needs write access", SQLITE_READONLY);
    }
    if (mode == OpenMode::kReadOnly) {
      Execute("PRAGMA query_only = ON");
    } else {
      // synchronous=FULL: a committed result survives a power cut, not just a crash of the
      // process. (The journal mode is the schema's business: see EnableWal.)
      Execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON");
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

void Database::EnableWal() { Execute("PRAGMA journal_mode = WAL"); }

void Database::CheckpointWal(bool truncate) {
  Execute(truncate ? "PRAGMA wal_checkpoint(TRUNCATE)" : "PRAGMA wal_checkpoint(PASSIVE)");
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::Fail(int code, const std::string& what) const {
  std::string message = path_ + ": " + what + ": " + sqlite3_errmsg(db_);
  if ((code & 0xff) == SQLITE_NOTADB)
    message = path_ + ": not an SQLite database (" + sqlite3_errmsg(db_) + ")";
  throw Error(message, code);
}

void Database::Execute(std::string_view sql) {
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    const std::string detail = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    if ((rc & 0xff) == SQLITE_NOTADB) {
      throw Error(path_ + ": not an SQLite database (" + detail + ")", rc);
    }
    throw Error(path_ + ": " + detail, rc);
  }
}

Statement Database::Prepare(std::string_view sql) { return Statement(*this, sql); }

int64_t Database::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }

int Database::Changes() const { return sqlite3_changes(db_); }

void Database::CopyTo(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) == 0)
    throw Error(path + ": exists; give a new file", SQLITE_CANTOPEN);
  Database copy(path, OpenMode::kReadWriteCreate);
  sqlite3_backup* backup = sqlite3_backup_init(copy.db_, "main", db_, "main");
  if (backup == nullptr) copy.Fail(sqlite3_errcode(copy.db_), "cannot start the backup");
  // All pages in one step: the copy is of one moment (the writer waits out the busy timeout).
  const int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    std::remove(path.c_str());
    throw Error(path + ": backup of " + path_ + " failed: " + sqlite3_errstr(rc), rc);
  }
}

std::string Database::IntegrityCheck() {
  Statement check = Prepare("PRAGMA integrity_check");
  std::string result;
  while (check.Step()) result += (result.empty() ? "" : "; ") + check.Text(0);
  return result;
}

Statement::Statement(Database& db, std::string_view sql) : db_(&db) {
  const int rc =
      sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) db.Fail(rc, "cannot prepare '" + std::string(sql.substr(0, 60)) + "'");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}

Statement& Statement::Bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_->Fail(rc, "bind");
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) db_->Fail(rc, "bind");
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  const int rc =
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_->Fail(rc, "bind");
  return *this;
}

Statement& Statement::BindBlob(int index, const std::vector<uint8_t>& blob) {
  // An empty vector's data() may be null, which SQLite binds as NULL, not as an empty blob.
  const int rc = blob.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                              : sqlite3_bind_blob(stmt_, index, blob.data(),
                                                  static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_->Fail(rc, "bind");
  return *this;
}

Statement& Statement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_->Fail(rc, "bind");
  return *this;
}

bool Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->Fail(rc, "query failed");
}

void Statement::Run() {
  while (Step()) {
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return text ? std::string(text, sqlite3_column_bytes(stmt_, column)) : std::string();
}

std::vector<uint8_t> Statement::Blob(int column) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  return data ? std::vector<uint8_t>(data, data + sqlite3_column_bytes(stmt_, column))
              : std::vector<uint8_t>();
}

std::optional<double> Statement::OptionalDouble(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Double(column);
}

std::optional<int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

Transaction::Transaction(Database& db) : db_(db) { db_.Execute("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::Commit() {
  db_.Execute("COMMIT");
  done_ = true;
}

}  // namespace actsearch::sql
