#include "storage/writer_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/test_support.h"

namespace actsearch::storage {
namespace {

class WriterLockTest : public StorageTest {};

TEST_F(WriterLockTest, ASecondWriterIsRefusedWithTheHolderNamed) {
  const std::string db = Path("search.db");
  {
    WriterLock first(db, "controller of search 'a'");
    try {
      WriterLock second(db, "controller of search 'b'");
      FAIL() << "two writers";
    } catch (const DatabaseLocked& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(db + " is in use by another controller"), std::string::npos);
      EXPECT_NE(message.find("controller of search 'a', pid " + std::to_string(getpid())),
                std::string::npos)
          << message;
    }
  }
  EXPECT_NO_THROW(WriterLock(db, "again")) << "released with its holder";
}

TEST_F(WriterLockTest, DiesWithItsProcess) {
  const std::string db = Path("search.db");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  if (child == 0) {
    WriterLock held(db, "child");
    char byte = 1;
    [[maybe_unused]] const ssize_t n = write(ready[1], &byte, 1);
    pause();  // killed while holding the lock
    _exit(0);
  }
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  EXPECT_THROW(WriterLock(db, "parent"), DatabaseLocked);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_NO_THROW(WriterLock(db, "parent")) << "no stale lock after a SIGKILL";
}

}  // namespace
}  // namespace actsearch::storage
