// The one stable 64-bit hash of depthscale: FNV-1a over bytes, the same on every build and
// platform (unlike std::hash). Job identities (config::job_identity) and the checksums of stored
// results (store) are built from it and written as 16 lowercase hex digits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace depthscale::hash {

// FNV-1a, 64 bits: offset basis 0xcbf29ce484222325, prime 0x100000001b3.
class Fnv1a {
 public:
  Fnv1a& bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      h_ ^= p[i];
      h_ *= 0x100000001b3ULL;
    }
    return *this;
  }
  // Framed pieces: a length (8 bytes, little-endian) before the bytes, so that ("ab","c") and
  // ("a","bc") differ.
  Fnv1a& u64(uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    return bytes(b, 8);
  }
  Fnv1a& text(std::string_view s) { return u64(s.size()).bytes(s.data(), s.size()); }
  Fnv1a& f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return u64(bits);
  }
  // An array as its element count and its bytes in memory (little-endian on every supported
  // platform, as the files store them).
  template <class T>
  Fnv1a& array(const std::vector<T>& v) {
    u64(v.size());
    return v.empty() ? *this : bytes(v.data(), v.size() * sizeof(T));
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

// FNV-1a of the bytes themselves (no framing): the published test vectors apply.
inline uint64_t fnv1a64(std::string_view s) {
  return Fnv1a().bytes(s.data(), s.size()).value();
}

// 16 lowercase hex digits.
inline std::string hex(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[size_t(i)] = digits[v & 15];
  return s;
}

// The identity of one task of a job: its job's identity (hex) combined with the task's key. The
// one combination, used by config (which computes job identities) and store (which verifies
// stored pieces against the identity in the sidecar's header).
inline std::string task_identity(std::string_view job_identity, std::string_view key) {
  return hex(Fnv1a().text("depthscale-task").text(job_identity).text(key).value());
}

}  // namespace depthscale::hash
