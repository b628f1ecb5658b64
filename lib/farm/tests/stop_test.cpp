// A stop signal while a run plans (docs/commands.md, exit codes): the planning loops stop at their
// stop points, so even a grid at the task cap (docs/job-file.md, "Caps") stops within moments.
// Its own binary: the signal it raises stays seen for the rest of the process.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <string>

#include "config/job.hpp"
#include "farm/kinds.hpp"
#include "farm/run.hpp"

namespace farm = depthscale::farm;
namespace cfg = depthscale::config;

namespace {

std::string list(int from, int to) {
  std::string s = "[";
  for (int i = from; i <= to; ++i) s += (i > from ? "," : "") + std::to_string(i);
  return s + "]";
}

// 10 × 100 × 100 = 100000 tasks: the cap.
cfg::Job largest_grid() {
  return cfg::parse_job(
      "name: big\nkind: toy\nseed: 1\ngrid:\n  rho: {linspace: [0, 1, 10]}\n"
      "  teacher: " +
          list(0, 99) + "\n  depth: " + list(1, 100) +
          "\nmodel: {width: 4, vocab: 8, teacher_depth: 4}\n"
          "train: {steps: 10, batch: 2}\n",
      "big.yaml");
}

TEST(StopWhilePlanning, ASignalStopsThePlanOfAGridAtTheCap) {
  const cfg::Job job = largest_grid();
  farm::RunOptions opt;
  opt.dry_run = true;
  ASSERT_EQ(cfg::expand(job).size(), 100000u);
  EXPECT_NO_THROW(farm::stop_point());

  farm::install_signal_handlers(3);
  std::raise(SIGTERM);  // the first signal only asks for a stop
  ASSERT_TRUE(farm::stop_requested());
  EXPECT_THROW(farm::stop_point(), farm::StoppedWhilePlanning);

  auto kind = farm::make_toy_sweep(job, "unused.h5", opt);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(kind->plan(nullptr, opt, 4), farm::StoppedWhilePlanning);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
}

}  // namespace
