// Helpers the probe tests share: a temporary folder that removes itself, and a check that a call
// throws with a message naming every given part.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace depthscale::probe::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& tag = "probe-test") {
    static std::atomic<int> n{0};
    path_ = std::filesystem::temp_directory_path() /
            ("ds-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Runs `call`, which must throw; every part must appear in the message. Returns the message.
template <class F>
std::string expect_error(F call, const std::vector<std::string>& parts) {
  try {
    call();
    ADD_FAILURE() << "no error; expected one naming " << parts.front();
  } catch (const std::exception& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message lacks '" << p << "': " << e.what();
    return e.what();
  }
  return "";
}

}  // namespace depthscale::probe::testing
