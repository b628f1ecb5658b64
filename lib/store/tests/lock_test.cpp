// The one-writer lock of a sweep file (store/lock.hpp) between real processes: refused while
// another holds it (naming its host and pid), taken once the holder has released it, exited, or
// been SIGKILLed (the lock file then stays behind and must not block).
#include "store/lock.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_util.hpp"

using namespace depthscale::store;
using depthscale::store::testing::ScratchDir;
namespace fs = std::filesystem;

namespace {

std::string hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Forks a child that takes the lock, says so through a pipe, then waits for the parent's word
// (or forever). Returns its pid once it holds the lock.
pid_t holder(const std::string& sweep, int* release_fd) {
  int ready[2], release[2];
  if (pipe(ready) != 0 || pipe(release) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    close(release[1]);
    char ok = 'n';
    try {
      auto lock = WriterLock::acquire(sweep, "run");
      ok = 'y';
      if (write(ready[1], &ok, 1) != 1) _exit(3);
      char c;
      if (read(release[0], &c, 1) == 1 && c == 'r') lock.release();
      _exit(0);  // without releasing (unless told): the kernel drops the lock
    } catch (...) {
      if (write(ready[1], &ok, 1) != 1) _exit(3);
      _exit(2);
    }
  }
  close(ready[1]);
  close(release[0]);
  char c = 0;
  if (read(ready[0], &c, 1) != 1 || c != 'y') {
    close(ready[0]);
    close(release[1]);
    return -1;
  }
  close(ready[0]);
  *release_fd = release[1];
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST(WriterLock, RefusedWhileAnotherProcessHoldsItAndNamesTheHolder) {
  ScratchDir dir;
  const std::string sweep = dir / "s.h5";
  int release = -1;
  const pid_t pid = holder(sweep, &release);
  ASSERT_GT(pid, 0);
  try {
    WriterLock::acquire(sweep, "reduce");
    FAIL() << "a second writer took the lock";
  } catch (const LockHeld& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(sweep + " is in use"), std::string::npos) << what;
    EXPECT_NE(what.find("pid " + std::to_string(pid)), std::string::npos) << what;
    EXPECT_NE(what.find("host " + hostname()), std::string::npos) << what;
    EXPECT_NE(what.find("`depthscale run`"), std::string::npos) << what;
    EXPECT_NE(what.find("started 20"), std::string::npos) << what;
    EXPECT_NE(what.find(lock_path(sweep)), std::string::npos) << what;
  }
  const auto held = lock_holder(sweep);
  ASSERT_TRUE(held.has_value());
  EXPECT_NE(held->find("pid " + std::to_string(pid)), std::string::npos) << *held;
  // Released by its holder: the file goes, and the lock is free.
  ASSERT_EQ(write(release, "r", 1), 1);
  close(release);
  EXPECT_EQ(wait_exit(pid), 0);
  EXPECT_FALSE(fs::exists(lock_path(sweep)));
  EXPECT_FALSE(lock_holder(sweep).has_value());
  auto lock = WriterLock::acquire(sweep, "reduce");
  EXPECT_TRUE(lock.held());
  EXPECT_NE(text_of(lock_path(sweep)).find("pid " + std::to_string(getpid())), std::string::npos);
}

TEST(WriterLock, TakenAfterTheHolderExitsOrIsKilled) {
  ScratchDir dir;
  const std::string sweep = dir / "s.h5";
  for (const bool kill9 : {false, true}) {
    int release = -1;
    const pid_t pid = holder(sweep, &release);
    ASSERT_GT(pid, 0);
    EXPECT_THROW(WriterLock::acquire(sweep, "run"), LockHeld);
    if (kill9) {
      kill(pid, SIGKILL);
      EXPECT_EQ(wait_exit(pid), 128 + SIGKILL);
    } else {
      ASSERT_EQ(write(release, "x", 1), 1);  // exits without releasing
      EXPECT_EQ(wait_exit(pid), 0);
    }
    close(release);
    // Its lock file stays behind, with its text: it must not block.
    ASSERT_TRUE(fs::exists(lock_path(sweep)));
    EXPECT_NE(text_of(lock_path(sweep)).find("pid " + std::to_string(pid)), std::string::npos);
    EXPECT_FALSE(lock_holder(sweep).has_value());
    {
      auto lock = WriterLock::acquire(sweep, "merge");
      const std::string text = text_of(lock_path(sweep));
      EXPECT_NE(text.find("pid " + std::to_string(getpid())), std::string::npos) << text;
      EXPECT_NE(text.find("command merge"), std::string::npos) << text;
    }
    EXPECT_FALSE(fs::exists(lock_path(sweep)));
  }
}

TEST(WriterLock, OneProcessCannotTakeItTwiceAndMovesKeepIt) {
  ScratchDir dir;
  const std::string sweep = dir / "s.h5";
  WriterLock outer;
  {
    auto lock = WriterLock::acquire(sweep, "run");
    // OFD locks conflict between open files, even of one process.
    EXPECT_THROW(WriterLock::acquire(sweep, "run"), LockHeld);
    outer = std::move(lock);
    EXPECT_FALSE(lock.held());
  }
  EXPECT_TRUE(outer.held());
  EXPECT_THROW(WriterLock::acquire(sweep, "run"), LockHeld);
  outer.release();
  EXPECT_NO_THROW(WriterLock::acquire(sweep, "run"));
}

TEST(WriterLock, AFolderThatDoesNotExistIsAStoreErrorNamingTheLockFile) {
  ScratchDir dir;
  const std::string sweep = dir / "no/such/folder/s.h5";
  try {
    WriterLock::acquire(sweep, "run");
    FAIL();
  } catch (const LockHeld&) {
    FAIL() << "not a held lock";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(lock_path(sweep)), std::string::npos) << e.what();
  }
}

TEST(WriterLock, ASymbolicLinkToTheFileTakesTheFilesOwnLock) {
  ScratchDir dir;
  const std::string sweep = dir / "s.h5", link = dir / "link.h5";
  { std::ofstream(sweep) << "x"; }
  fs::create_symlink(sweep, link);
  EXPECT_EQ(lock_path(link), fs::canonical(sweep).string() + ".lock");
  auto lock = WriterLock::acquire(sweep, "run");
  EXPECT_THROW(WriterLock::acquire(link, "run"), LockHeld);
}
