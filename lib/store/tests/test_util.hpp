// Shared helpers for the store tests: a scratch folder per test and deterministic results.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <string>

#include "store/store.hpp"

namespace depthscale::store::testing {

// A fresh folder under the system temp dir, removed when the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ =
        (std::filesystem::temp_directory_path() / ("ds_store_" + std::to_string(getpid()) + "_" +
                                                   info->test_suite_name() + "_" + info->name()))
            .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::vector<float> random_floats(size_t n, std::mt19937_64& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// A result whose every field derives from `i`; losses include a NaN and an inf, as diverged runs
// do.
inline TaskResult make_result(int i, bool complete = true, int64_t probe_inputs = 3) {
  std::mt19937_64 rng(1000 + i);
  TaskResult r;
  r.key = "T" + std::to_string(0.01 * (i + 1)).substr(0, 6) + "_d" + std::to_string(4 + i % 3) +
          "_t" + std::to_string(i % 2) + "_i" + std::to_string(i);
  int depth = 4 + i % 3;
  r.params = {{"temperature", 0.01 * (i + 1)},
              {"rho", 0.25},
              {"depth", static_cast<double>(depth)},
              {"teacher", static_cast<double>(i % 2)},
              {"width", 16.0}};
  r.complete = complete;
  if (!complete) r.error = "diverged at step 17: loss is nan (" + std::to_string(i) + ")";
  r.wall_seconds = 12.5 + i;
  r.host = "node-" + std::to_string(i % 4);
  r.rank = 1 + i % 5;
  r.train_loss = random_floats(50 + i, rng);
  if (r.train_loss.size() > 3) {
    r.train_loss[1] = std::numeric_limits<float>::quiet_NaN();
    r.train_loss[2] = std::numeric_limits<float>::infinity();
    r.train_loss[3] = -0.0f;
  }
  for (int64_t s = 0; s < 50 + i; s += 10) r.eval_step.push_back(s);
  r.test_loss = random_floats(r.eval_step.size(), rng);
  if (complete && probe_inputs > 0) {
    r.probe_inputs = probe_inputs;
    r.theta = random_floats(probe_inputs * depth, rng);
    r.theta_dh = random_floats(probe_inputs * (depth - 1), rng);
    r.norms = random_floats(probe_inputs * (depth + 1), rng);
  }
  return r;
}

inline TaskCheckpoint make_checkpoint(const std::string& key, int64_t step) {
  std::mt19937_64 rng(std::hash<std::string>()(key) + static_cast<uint64_t>(step));
  TaskCheckpoint c;
  c.key = key;
  c.step = step;
  c.params = random_floats(300, rng);
  c.adam_m = random_floats(300, rng);
  c.adam_v = random_floats(300, rng);
  c.train_loss = random_floats(static_cast<size_t>(step), rng);
  for (int64_t s = 0; s < step; s += 5) c.eval_step.push_back(s);
  c.test_loss = random_floats(c.eval_step.size(), rng);
  c.wall_seconds = 0.5 * static_cast<double>(step);
  return c;
}

inline SweepHeader make_header() {
  SweepHeader h;
  h.job_yaml = "name: exp9\nkind: toy\ngrid:\n  depth: [4, 5, 6]  # θ ∈ [0, π]\n";
  h.effective = "{\"name\": \"exp9\", \"kind\": \"toy\"}";
  h.git_commit = "228de72";
  h.version = "0.1.0";
  h.torch_version = "1.13.1";
  return h;
}

}  // namespace depthscale::store::testing
