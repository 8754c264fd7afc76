#include "storage/writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "storage/results_store.h"

namespace actsearch::storage {
namespace {

std::string Contents(int fd) {
  std::string text;
  char buffer[512];
  ssize_t n;
  if (lseek(fd, 0, SEEK_SET) != 0) return text;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string Now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  return text;
}

}  // namespace

WriterLock::WriterLock(const std::string& db_path, const std::string& holder) {
  const std::string path = PathFor(db_path);
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw std::runtime_error(path + ": cannot make the lock file: " + std::strerror(errno));
  // flock: on Linux also across NFS clients (the kernel maps it to a POSIX lock there).
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string owner = Contents(fd_);
    close(fd_);
    if (error != EWOULDBLOCK) {
      throw std::runtime_error(path + ": cannot lock: " + std::strerror(error));
    }
    throw DatabaseLocked(db_path + " is in use by another controller" +
                         (owner.empty() ? std::string() : " (" + owner + ")") +
                         "; one controller writes a database: stop that one first (actsearch "
                         "stop --db " +
                         db_path + "), or give this search another --db");
  }
  const std::string owner = holder + ", pid " + std::to_string(getpid()) + " on " + HostName() +
                            ", since " + Now() + "\n";
  // Who holds it, for the message a second controller gets; the lock holds without it.
  if (ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t written = pwrite(fd_, owner.data(), owner.size(), 0);
  }
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) close(fd_);  // releases the lock
}

}  // namespace actsearch::storage
