// depthscale merge: slices of one job become one sweep; anything else is refused, naming why.
#include "farm/merge.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../../store/tests/test_util.hpp"
#include "config/job.hpp"
#include "farm/run.hpp"
#include "store/store.hpp"

using namespace depthscale;
using store::testing::make_result;
using store::testing::ScratchDir;
namespace fs = std::filesystem;

namespace {

const char* kJob = R"(name: m
kind: toy
seed: 7
grid: {depth: [2, 3], teacher: [0, 1]}
train: {steps: 10}
)";

// A slice file as `depthscale run --set run.slice=i/n` leaves it: header plus results.
void make_slice(const std::string& path, int i, int n,
                const std::vector<store::TaskResult>& results,
                std::vector<std::string> overrides = {}, bool teacher = true) {
  overrides.push_back("run.slice=" + std::to_string(i) + "/" + std::to_string(n));
  const config::Job job = config::parse_job(kJob, "job.yaml", overrides);
  store::SweepHeader h;
  h.job_yaml = kJob;
  h.effective = job.effective;
  h.git_commit = "abc";
  h.version = "0.1.0";
  h.torch_version = "1.13.0";
  auto sweep = store::SweepFile::create(path, h, false);
  for (const auto& r : results) sweep.record(r);
  if (teacher) {
    auto f = store::File::open(path, store::Mode::ReadWrite);
    auto g = f.root().require_group("teachers").create_group("rho0_t0");
    g.write("norms", std::vector<float>{1, 2, 3});
    g.set_attr("status", "complete");
  }
}

std::vector<store::TaskResult> results(int from, int count, bool complete = true) {
  std::vector<store::TaskResult> out;
  for (int i = from; i < from + count; ++i) out.push_back(make_result(i, complete));
  return out;
}

}  // namespace

TEST(Merge, JoinsSlicesIntoOneSweepOfTheWholeJob) {
  ScratchDir dir;
  const auto a = results(0, 3), b = results(3, 2);
  auto failed = make_result(5, false);
  make_slice(dir / "s0.h5", 0, 2, a);
  make_slice(dir / "s1.h5", 1, 2, {b[0], b[1], failed});

  const auto report = farm::merge_slices({{dir / "s0.h5", dir / "s1.h5"}, dir / "all.h5"});
  EXPECT_EQ(report.slices, 2);
  EXPECT_EQ(report.slice_count, 2);
  EXPECT_TRUE(report.missing.empty());
  EXPECT_EQ(report.complete, 5);
  EXPECT_EQ(report.failed, 1);
  EXPECT_EQ(report.teachers, 1);

  auto f = store::open_for_reading(dir / "all.h5", 0);
  auto root = f.root();
  EXPECT_EQ(root.attr_string("format"), "depthscale-sweep");
  EXPECT_EQ(root.attr_string("job_yaml"), kJob);
  // The merged file holds the whole job: run.slice back to 0/1.
  EXPECT_EQ(root.attr_string("job_effective"),
            config::parse_job(kJob, "job.yaml", {"run.slice=0/1"}).effective);
  EXPECT_NE(root.attr_string("job_effective").find("slice: 0/1"), std::string::npos);
  EXPECT_EQ(root.attr_string("git_commit"), "abc");
  EXPECT_TRUE(root.has_attr("merged_from"));
  auto tasks = root.open_group("tasks");
  EXPECT_EQ(tasks.children().size(), 6u);
  for (const auto* set : {&a, &b})
    for (const auto& r : *set)
      EXPECT_TRUE(store::bitwise_equal(read_task(tasks.open_group(r.key)), r));
  EXPECT_EQ(tasks.open_group(failed.key).attr_string("status"), "failed");
  EXPECT_EQ(root.open_group("teachers").children(), std::vector<std::string>{"rho0_t0"});
  EXPECT_FALSE(fs::exists(dir / "all.h5.merge.tmp." + std::to_string(getpid())));

  // A normal sweep: resumable with the whole job (no slice), states from the merged file.
  auto sweep = store::SweepFile::open_or_recover(dir / "all.h5");
  EXPECT_EQ(sweep.states().size(), 6u);
  EXPECT_EQ(config::incompatible_change(config::parse_job(sweep.header().effective, "merged"),
                                        config::parse_job(kJob, "job.yaml")),
            "");
}

TEST(Merge, RefusesSlicesOfDifferentJobsNamingTheKey) {
  ScratchDir dir;
  make_slice(dir / "s0.h5", 0, 2, results(0, 1));
  make_slice(dir / "s1.h5", 1, 2, results(1, 1), {"train.steps=20"});
  try {
    farm::merge_slices({{dir / "s0.h5", dir / "s1.h5"}, dir / "all.h5"});
    FAIL() << "merged slices of different jobs";
  } catch (const config::JobError& e) {
    EXPECT_NE(std::string(e.what()).find("train.steps"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("s1.h5"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "all.h5"));
  // The job's fault, so the command exits 2 (apps maps InputError).
  EXPECT_THROW(farm::merge_slices({{dir / "s0.h5", dir / "s1.h5"}, dir / "all.h5"}),
               depthscale::InputError);

  // A grid that differs (even by growing) is a different job too, whichever slice comes first.
  make_slice(dir / "g1.h5", 1, 2, results(1, 1), {"grid.depth=[2,3,4]"});
  for (auto order : {std::vector<std::string>{dir / "s0.h5", dir / "g1.h5"},
                     std::vector<std::string>{dir / "g1.h5", dir / "s0.h5"}}) {
    try {
      farm::merge_slices({order, dir / "all.h5"});
      FAIL() << "merged slices with different grids";
    } catch (const config::JobError& e) {
      EXPECT_NE(std::string(e.what()).find("grid.depth"), std::string::npos) << e.what();
    }
  }
  // Settings that cannot change a result do not stand in the way.
  make_slice(dir / "t1.h5", 1, 2, results(1, 1), {"run.threads=3"});
  EXPECT_NO_THROW(farm::merge_slices({{dir / "s0.h5", dir / "t1.h5"}, dir / "all.h5"}));
}

TEST(Merge, RefusesRepeatedOrInconsistentSlicesAndReportsMissingOnes) {
  ScratchDir dir;
  make_slice(dir / "s0.h5", 0, 3, results(0, 1));
  make_slice(dir / "again.h5", 0, 3, results(1, 1));
  make_slice(dir / "of2.h5", 1, 2, results(2, 1));
  make_slice(dir / "s2.h5", 2, 3, results(3, 1), {}, false);
  auto expect_refused = [&](std::vector<std::string> in, const std::string& what) {
    try {
      farm::merge_slices({in, dir / "all.h5"});
      FAIL() << "merged " << what;
    } catch (const config::JobError& e) {
      EXPECT_NE(std::string(e.what()).find("run.slice"), std::string::npos) << e.what();
    }
  };
  expect_refused({dir / "s0.h5", dir / "again.h5"}, "slice 0 twice");
  expect_refused({dir / "s0.h5", dir / "of2.h5"}, "slices of 3 and of 2");

  const auto report = farm::merge_slices({{dir / "s0.h5", dir / "s2.h5"}, dir / "all.h5"});
  EXPECT_EQ(report.missing, std::vector<int>{1});
  EXPECT_EQ(report.complete, 2);
}

TEST(Merge, ReplacesAnEarlierMergeButNeverAnotherSweep) {
  ScratchDir dir;
  make_slice(dir / "s0.h5", 0, 2, results(0, 2));
  make_slice(dir / "s1.h5", 1, 2, results(2, 2));
  const farm::MergeOptions opt{{dir / "s0.h5", dir / "s1.h5"}, dir / "all.h5"};
  farm::merge_slices(opt);
  // A stale checkpoint beside the old merge must not survive into the new one.
  fs::create_directories(dir / "all.h5.ckpt/tasks");
  std::ofstream(dir / "all.h5.ckpt/tasks/stale.h5") << "x";
  // An existing merge is kept unless --overwrite (reduce may have added /fits to it) ...
  try {
    farm::merge_slices(opt);
    ADD_FAILURE() << "merge replaced an existing --out without --overwrite";
  } catch (const store::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("add --overwrite to replace it"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(fs::exists(dir / "all.h5.ckpt/tasks/stale.h5"));  // untouched
  farm::MergeOptions again = opt;
  again.overwrite = true;
  EXPECT_EQ(farm::merge_slices(again).complete, 4);  // the reduction job may run twice
  EXPECT_FALSE(fs::exists(dir / "all.h5.ckpt/tasks/stale.h5"));
  EXPECT_TRUE(fs::exists(dir / "all.h5.ckpt/header.h5"));

  // A sweep run straight into the file may hold results found nowhere else.
  make_slice(dir / "own.h5", 0, 1, results(7, 1));
  EXPECT_THROW(farm::merge_slices({opt.inputs, dir / "own.h5"}), store::StoreError);
  EXPECT_THROW(farm::merge_slices({opt.inputs, dir / "own.h5", true}), store::StoreError);
  EXPECT_EQ(store::open_for_reading(dir / "own.h5", 0).root().open_group("tasks").children().size(),
            1u);
  try {  // not the job's fault: exit 1
    farm::merge_slices({opt.inputs, dir / "own.h5", true});
  } catch (const depthscale::InputError& e) {
    ADD_FAILURE() << "an I/O refusal reported as bad input: " << e.what();
  } catch (const depthscale::Error&) {
  }
  EXPECT_THROW(farm::merge_slices({opt.inputs, dir / "s0.h5"}), store::StoreError);
  EXPECT_THROW(farm::merge_slices({{dir / "nothing.h5"}, dir / "x.h5"}), store::StoreError);
}
