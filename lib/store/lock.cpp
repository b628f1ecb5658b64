// The one-writer lock of a sweep file: an exclusive OFD fcntl lock on FILE.h5.lock.
//
// OFD ("open file description") locks belong to the open file, not to the process: closing some
// other descriptor of the same file (HDF5 does) does not drop them, unlike classic POSIX locks,
// and they work across NFS like POSIX locks do (where the server runs a lock manager). Releasing
// removes the file while still holding the lock; a taker therefore checks, once it holds the lock,
// that the name still points at the file it locked, and starts again if not.
#include "store/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace depthscale::store {

namespace fs = std::filesystem;

namespace {

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The whole file, for writing: what try_lock takes and lock_holder asks about.
struct flock whole_file_write_lock() {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  fl.l_pid = 0;
  return fl;
}

// The whole-file write lock: F_OFD_SETLK, or flock where the kernel has no OFD locks (EINVAL,
// before Linux 3.15). Returns 0 or the errno.
int try_lock(int fd) {
  struct flock fl = whole_file_write_lock();
  if (::fcntl(fd, F_OFD_SETLK, &fl) == 0) return 0;
  int err = errno;
  if (err != EINVAL) return err;
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return 0;
  err = errno;
  return err == EWOULDBLOCK ? EAGAIN : err;
}

std::string read_text(int fd) {
  std::string text;
  char buf[512];
  off_t at = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, size_t(n));
    at += n;
    if (text.size() > 4096) break;
  }
  return text;
}

// "host node17, pid 48213, `depthscale run`, started 2026-12-04T09:31:53Z" from the lock file.
std::string describe_holder(const std::string& text) {
  std::istringstream in(text);
  std::string line, host, pid, started, command;
  while (std::getline(in, line)) {
    const auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    const std::string key = line.substr(0, sp), value = line.substr(sp + 1);
    if (key == "host") host = value;
    if (key == "pid") pid = value;
    if (key == "started") started = value;
    if (key == "command") command = value;
  }
  if (host.empty() && pid.empty()) return "a process that has not written its name yet";
  return "`depthscale " + (command.empty() ? std::string("?") : command) + "` on host " + host +
         ", pid " + pid + ", started " + started;
}

// "nfs4 file system mounted at /mnt/data (from server:/export)" for the folder holding `path`:
// the mount of /proc/self/mounts with the longest mount point that contains it.
std::string file_system_of(const std::string& path) {
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(path), ec).parent_path();
  fs::path canon = fs::weakly_canonical(dir, ec);
  if (!ec) dir = canon;
  const std::string where = dir.string();
  std::ifstream mounts("/proc/self/mounts");
  std::string device, point, type, rest, best_point, best_type, best_device;
  while (mounts >> device >> point >> type && std::getline(mounts, rest)) {
    // /proc/self/mounts escapes spaces as \040; the paths compared here rarely have any.
    const bool inside = where == point || point == "/" ||
                        (where.compare(0, point.size(), point) == 0 &&
                         where.size() > point.size() && where[point.size()] == '/');
    if (inside && point.size() >= best_point.size()) {
      best_point = point;
      best_type = type;
      best_device = device;
    }
  }
  if (best_type.empty()) return "the file system holding " + where;
  return "the " + best_type + " file system mounted at " + best_point + " (from " + best_device +
         ")";
}

}  // namespace

std::string lock_path(const std::string& sweep_path) {
  // A sweep file reached through a symbolic link is locked beside its target, so that the link
  // and the file's own name take the same lock.
  std::error_code ec;
  if (fs::is_symlink(sweep_path, ec)) {
    const fs::path target = fs::canonical(sweep_path, ec);
    if (!ec) return target.string() + ".lock";
  }
  return sweep_path + ".lock";
}

WriterLock::WriterLock(WriterLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) {
  o.fd_ = -1;
}

WriterLock& WriterLock::operator=(WriterLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

WriterLock::~WriterLock() {
  release();
}

void WriterLock::release() noexcept {
  if (fd_ < 0) return;
  // Unlinked while still held: whoever opened the old file finds it gone once it locks it.
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

WriterLock WriterLock::acquire(const std::string& sweep_path, const std::string& command) {
  const std::string path = lock_path(sweep_path);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw StoreError(path + ": cannot open the lock file of " + sweep_path + " (" +
                       std::strerror(errno) + ")");
    const int err = try_lock(fd);
    if (err == EAGAIN || err == EACCES) {
      // Held. Its holder writes its name right after locking: give it a moment to.
      std::string text = read_text(fd);
      for (int i = 0; i < 20 && text.find("started ") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        text = read_text(fd);
      }
      ::close(fd);
      throw LockHeld(sweep_path + " is in use: " + describe_holder(text) + " holds its lock " +
                     path +
                     ". One process at a time may write a sweep file; wait for that one to end "
                     "or stop it (`depthscale status " +
                     sweep_path + "` reads the file meanwhile)");
    }
    if (err != 0) {
      ::close(fd);
      if (err == ENOLCK || err == EOPNOTSUPP || err == ENOTSUP || err == ENOSYS)
        throw LockUnsupported(
            "cannot lock " + path + ": " + file_system_of(path) + " does not support file locks (" +
            std::strerror(err) + "). Without the lock nothing stops a second run from writing " +
            sweep_path +
            " at the same time and corrupting it. Write the sweep to a local disk or a file "
            "system with locking (on NFS: a lock manager, i.e. not mounted with 'nolock'), or, "
            "if you are sure nothing else writes it, pass --no-lock");
      throw StoreError("cannot lock " + path + " (" + std::strerror(err) + ")");
    }
    // Locked; but the holder before us may have removed the name between our open and our lock.
    struct stat mine {
    }, named{};
    if (::fstat(fd, &mine) != 0 || ::stat(path.c_str(), &named) != 0 ||
        mine.st_ino != named.st_ino || mine.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    std::ostringstream s;
    s << "depthscale-lock 1\n"
      << "host " << hostname() << "\n"
      << "pid " << ::getpid() << "\n"
      << "started " << utc_now() << "\n"
      << "command " << command << "\n";
    const std::string text = s.str();
    // Information only: a failed write (disk full) does not weaken the lock itself.
    if (::ftruncate(fd, 0) == 0) {
      size_t done = 0;
      while (done < text.size()) {
        ssize_t n = ::pwrite(fd, text.data() + done, text.size() - done, off_t(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += size_t(n);
      }
    }
    WriterLock lock;
    lock.fd_ = fd;
    lock.path_ = path;
    return lock;
  }
  throw StoreError(path + ": the lock file kept changing under this process (100 tries)");
}

std::optional<std::string> lock_holder(const std::string& sweep_path) {
  const std::string path = lock_path(sweep_path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock fl = whole_file_write_lock();
  std::optional<std::string> out;
  if (::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) out = read_text(fd);
  ::close(fd);
  return out;
}

}  // namespace depthscale::store
