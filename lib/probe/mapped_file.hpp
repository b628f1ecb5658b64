// A whole file mapped read-only: the one place in lib/probe that opens, maps and unmaps files
// (safetensors, torch.save archives, token shards). Each reader checks the bytes itself.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace depthscale::probe {

class MappedFile {
 public:
  MappedFile() = default;
  // Maps `path` (an empty file maps to data() == nullptr); on failure throws
  // E(path + ": cannot open|stat|map: " + the system's reason).
  template <class E>
  static MappedFile open(const std::string& path) {
    MappedFile f;
    const std::string why = f.map(path);
    if (!why.empty()) throw E(path + ": " + why);
    return f;
  }
  MappedFile(MappedFile&& o) noexcept { swap(o); }
  MappedFile& operator=(MappedFile&& o) noexcept {
    MappedFile gone(std::move(o));
    swap(gone);
    return *this;
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // A hint for files read front to back (token shards).
  void advise_sequential() const {
    if (data_) ::madvise(const_cast<uint8_t*>(data_), size_, MADV_SEQUENTIAL);
  }

 private:
  void swap(MappedFile& o) noexcept {
    std::swap(fd_, o.fd_);
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
  }
  // "" when mapped, else what failed.
  std::string map(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return std::string("cannot open: ") + std::strerror(errno);
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return std::string("cannot stat: ") + std::strerror(errno);
    size_ = size_t(st.st_size);
    if (size_ == 0) return "";
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (m == MAP_FAILED) return std::string("cannot map: ") + std::strerror(errno);
    data_ = static_cast<const uint8_t*>(m);
    return "";
  }

  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace depthscale::probe
