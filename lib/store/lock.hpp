// The one-writer lock of a sweep file (docs/running.md, "One writer"): FILE.h5.lock beside it, an
// exclusive OFD fcntl lock held for as long as a command writes the file or its sidecar
// (FILE.h5.ckpt/). The kernel lock is the truth: it goes with the process, however it ends
// (SIGKILL included), so a lock file left behind never blocks anyone. The file's text (host, pid,
// start time, command) only says who holds it. Readers (`status`, `plot`) never take it.
#pragma once

#include <optional>
#include <string>

#include "store/error.hpp"

namespace depthscale::store {

// Another process holds the lock: the message names the file, the holder's host, pid, command
// and start time.
class LockHeld : public StoreError {
 public:
  using StoreError::StoreError;
};

// The file system refuses locks (ENOLCK, EOPNOTSUPP: some NFS mounts): the message names the
// lock file, the file system and mount point, and what to do.
class LockUnsupported : public StoreError {
 public:
  using StoreError::StoreError;
};

class WriterLock {
 public:
  WriterLock() = default;  // holds nothing
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  WriterLock(WriterLock&& o) noexcept;
  WriterLock& operator=(WriterLock&& o) noexcept;
  ~WriterLock();  // releases

  // Takes the lock of the sweep at `sweep_path` at once or throws: LockHeld, LockUnsupported, or
  // StoreError for any other failure (the folder does not exist, a name too long). `command`
  // ("run", "reduce", "merge") is written into the lock file for the next one to read.
  static WriterLock acquire(const std::string& sweep_path, const std::string& command);

  // Removes the lock file and releases the lock (also done by the destructor).
  void release() noexcept;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::string path_;
};

// FILE.h5 → FILE.h5.lock (beside the link's target when FILE.h5 is a symbolic link)
std::string lock_path(const std::string& sweep_path);

// The text of the lock file when a live process holds the lock (for `status`); nullopt when no
// one holds it (or it cannot be checked).
std::optional<std::string> lock_holder(const std::string& sweep_path);

}  // namespace depthscale::store
