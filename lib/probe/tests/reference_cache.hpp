// The Python references' models and outputs depend only on their scripts: they are made once per
// version of the scripts, in the build tree, and shared by the test processes (ctest runs each
// test in its own). Made aside and renamed into place, so that a concurrent process never sees
// half a directory.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

namespace depthscale::probe::testing {

// cache/<hash of the scripts' text>, made by `make(tmp)` (a shell command that fills the folder
// tmp) unless it is there already; returns the folder, or an empty path if making it failed.
inline std::filesystem::path cached_reference(
    const std::string& cache, const std::vector<std::string>& scripts,
    const std::function<std::string(const std::string& tmp)>& make) {
  namespace fs = std::filesystem;
  std::string text;
  for (const auto& s : scripts) {
    std::ifstream in(s);
    text.append(std::istreambuf_iterator<char>(in), {});
  }
  const fs::path dir = fs::path(cache) / std::to_string(std::hash<std::string>{}(text));
  if (!fs::exists(dir / "complete")) {
    const fs::path tmp = dir.string() + ".tmp-" + std::to_string(getpid());
    if (std::system(make(tmp.string()).c_str()) == 0) {
      std::ofstream(tmp / "complete") << "ok\n";
      std::error_code ec;
      fs::rename(tmp, dir, ec);  // fails harmlessly if another process got there first
    }
    fs::remove_all(tmp);
  }
  return fs::exists(dir / "complete") ? dir : fs::path();
}

}  // namespace depthscale::probe::testing
