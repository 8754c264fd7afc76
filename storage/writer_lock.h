// One controller per results database: an exclusive lock on a file beside the database
// (`<db>-writer.lock`), held for the life of the process and released by the kernel when the
// process ends however it ends, so a crash never leaves a stale lock. The lock file names its
// holder, for the message a second controller gets.
#pragma once

#include <stdexcept>
#include <string>

namespace actsearch::storage {

class DatabaseLocked : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class WriterLock {
 public:
  // Takes the lock of `db_path` or throws DatabaseLocked naming its holder (host, pid, what it
  // runs, since when); throws std::runtime_error when the lock file cannot be made.
  // `holder` says what this process is ("actsearch controller, search 'proxy'").
  WriterLock(const std::string& db_path, const std::string& holder);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  static std::string PathFor(const std::string& db_path) { return db_path + "-writer.lock"; }

 private:
  int fd_ = -1;
};

}  // namespace actsearch::storage
