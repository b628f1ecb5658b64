// Plain-file I/O: fsync of files and folders, atomic replacement, whole-file reads.
#include "store/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace depthscale::store {

namespace fs = std::filesystem;

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw StoreError(path + ": cannot open for fsync (" + std::strerror(errno) + ")");
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some file systems refuse fsync on folders; the data itself was synced before.
  if (rc != 0 && err != EINVAL && err != EBADF) {
    throw StoreError(path + ": fsync failed (" + std::strerror(err) + ")");
  }
}

void fsync_parent(const std::string& path) {
  const std::string dir = fs::path(path).parent_path().string();
  fsync_path(dir.empty() ? "." : dir);
}

void rename_durably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw StoreError(to + ": cannot rename " + from + " over it (" + std::strerror(errno) + ")");
  }
  fsync_parent(to);
}

void write_file_atomically(const std::string& path, const std::vector<char>& bytes) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  auto failed = [&](const std::string& what) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw StoreError(path + ": " + what + " (" + std::strerror(err) + ")");
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) failed("cannot create " + tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      failed("cannot write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  // Data before name: after a crash the path holds either the old bytes or all the new ones.
  if (::fsync(fd) != 0) {
    ::close(fd);
    failed("cannot fsync " + tmp);
  }
  if (::close(fd) != 0) failed("cannot close " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) failed("cannot rename " + tmp);
  fsync_parent(path);
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw StoreError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw StoreError(path + ": read error");
  return bytes;
}

}  // namespace depthscale::store
