// Checks before a run starts: a probe sweep records the intra-op threads its batches ran with and
// refuses a resume with another count (farm/probe_sweep.hpp, check_probe_threads), since the
// reductions' rounding follows it; a toy unit beyond the machine's memory is refused at planning.
#include <gtest/gtest.h>

#include <string>

#include "../../store/tests/test_util.hpp"
#include "config/job.hpp"
#include "error/error.hpp"
#include "farm/kinds.hpp"
#include "farm/probe_sweep.hpp"
#include "store/store.hpp"

namespace farm = depthscale::farm;
namespace store = depthscale::store;
using store::testing::ScratchDir;

TEST(ProbeThreads, RecordedOnceAndAResumeWithAnotherCountRefusedNamingBoth) {
  ScratchDir dir;
  const std::string out = dir / "p.h5";
  store::SweepFile::create(out, store::SweepHeader{"name: p\n", "name: p\n", "", "", ""}, false);
  farm::check_probe_threads(out, 4);  // the first run records its count
  EXPECT_EQ(store::File::open(out, store::Mode::ReadOnly).root().attr_int("probe_threads"), 4);
  EXPECT_NO_THROW(farm::check_probe_threads(out, 4));  // a resume with the same count
  try {
    farm::check_probe_threads(out, 2);  // e.g. -np doubled with run.threads: 0
    ADD_FAILURE() << "a resume with another thread count was accepted";
  } catch (const depthscale::InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("computed with 4 intra-op thread(s) per rank, this run would use 2"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("--set run.threads=4"), std::string::npos) << msg;
  }
  EXPECT_EQ(store::File::open(out, store::Mode::ReadOnly).root().attr_int("probe_threads"), 4);
}

// The memory of one worker (the dry run's estimate) is checked against the machine's before
// LibTorch allocates anything: a real run is refused with the estimate, a dry run warns.
TEST(PlanMemory, AWorkerBeyondTheMachinesMemoryIsRefusedBeforeAnythingIsAllocated) {
  const auto job = depthscale::config::parse_job(
      "name: huge\nkind: toy\nseed: 1\ngrid: {depth: [1000], teacher: [0]}\n"
      "model: {width: 16384, vocab: 8, teacher_depth: 4}\ntrain: {steps: 10, batch: 2}\n",
      "huge.yaml");
  farm::RunOptions opt;
  auto kind = farm::make_toy_sweep(job, "unused.h5", opt);
  try {
    kind->plan(nullptr, opt, 1);
    ADD_FAILURE() << "a unit of ~34 TB was planned";
  } catch (const depthscale::InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("huge.yaml: one worker needs ≈ ", 0), 0u) << msg;
    EXPECT_NE(msg.find("1 student(s) of width up to 16384 and depth up to 1000"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("but this machine has"), std::string::npos) << msg;
  }
  opt.dry_run = true;
  auto dry = farm::make_toy_sweep(job, "unused.h5", opt);
  dry->plan(nullptr, opt, 1);
  EXPECT_NE(dry->dry_run_report(1).find("warning: a run would be refused: one worker needs"),
            std::string::npos);
  // A small job plans.
  const auto small = depthscale::config::parse_job(
      "name: s\nkind: toy\nseed: 1\ngrid: {depth: [2], teacher: [0]}\n"
      "model: {width: 8, vocab: 8, teacher_depth: 4}\ntrain: {steps: 10, batch: 2}\n",
      "s.yaml");
  farm::RunOptions run;
  EXPECT_NO_THROW(farm::make_toy_sweep(small, "unused.h5", run)->plan(nullptr, run, 1));
}
