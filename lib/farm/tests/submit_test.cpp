// depthscale submit without a cluster: time specs, MaxArraySize chunks, template filling, the
// planned scripts (checked with `bash -n`), refusals, and a submission through a stand-in sbatch.
#include "farm/submit.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "../../store/tests/test_util.hpp"
#include "config/job.hpp"
#include "farm/run.hpp"

using namespace depthscale;
using farm::SubmitOptions;
using store::testing::ScratchDir;
namespace fs = std::filesystem;

namespace {

const std::string kTemplates = std::string(DEPTHSCALE_SOURCE_DIR) + "/slurm";
const std::string kBinary = "/opt/depthscale/bin/depthscale";

const char* kJob = R"(name: sub
kind: toy
grid: {depth: [2, 3, 4], teacher: [0, 1]}
train: {steps: 10}
)";

std::string write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// The filled script parses as bash.
void expect_bash(const ScratchDir& dir, const std::string& text) {
  const std::string f = write(dir / "check.sh", text);
  EXPECT_EQ(std::system(("bash -n " + f).c_str()), 0) << text;
}

SubmitOptions options(const ScratchDir& dir) {
  SubmitOptions o;
  o.job_path = write(dir / "job.yaml", kJob);
  o.out = dir / "results/sub.h5";
  return o;
}

}  // namespace

TEST(Submit, SlurmTimeSpecs) {
  EXPECT_EQ(farm::parse_slurm_time("10"), 600);
  EXPECT_EQ(farm::parse_slurm_time("10:30"), 630);
  EXPECT_EQ(farm::parse_slurm_time("01:00:00"), 3600);
  EXPECT_EQ(farm::parse_slurm_time("2-00"), 2 * 86400);
  EXPECT_EQ(farm::parse_slurm_time("1-02:03"), 86400 + 2 * 3600 + 3 * 60);
  EXPECT_EQ(farm::parse_slurm_time("1-02:03:04"), 86400 + 2 * 3600 + 3 * 60 + 4);
  for (const char* bad : {"", "abc", "1:2:3:4", "0", "00:00:00", "-1", "1h"})
    EXPECT_THROW(farm::parse_slurm_time(bad), farm::OptionError) << bad;
}

TEST(Submit, ArraysStayBelowMaxArraySize) {
  auto chunks = farm::array_chunks(2, 1001);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].offset, 0);
  EXPECT_EQ(chunks[0].count, 2);
  EXPECT_EQ(farm::array_chunks(1001, 1001).size(), 1u);
  chunks = farm::array_chunks(2500, 1001);  // the README's example: 0-1000, 0-1000, 0-497
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[1].offset, 1001);
  EXPECT_EQ(chunks[1].count, 1001);
  EXPECT_EQ(chunks[2].offset, 2002);
  EXPECT_EQ(chunks[2].count, 498);

  EXPECT_EQ(farm::parse_max_array_size("MaxArraySize            = 1001\nMaxJobCount = 10000\n"),
            1001);
  EXPECT_EQ(farm::parse_max_array_size("Configuration data\nMaxArraySize = 5\n"), 5);
  EXPECT_EQ(farm::parse_max_array_size("MaxJobCount = 10000\n"), 1001);
  EXPECT_EQ(farm::parse_max_array_size("MaxArraySize = lots\n", 77), 77);
}

TEST(Submit, FillingDropsDocsAndRefusesLeftovers) {
  EXPECT_EQ(
      farm::fill_template("## doc @X@\n#SBATCH --a=@A@\necho @A@@B@\n", {{"A", "1"}, {"B", "2"}}),
      "#SBATCH --a=1\necho 12\n");
  EXPECT_EQ(farm::fill_template("a\n@EMPTY@\n@FULL@\nb @EMPTY@\n", {{"EMPTY", ""}, {"FULL", "x"}}),
            "a\nx\nb \n");
  // --signal=B:USR1@@SIGNAL_SECONDS@ keeps its '@'.
  EXPECT_EQ(farm::fill_template("B:USR1@@S@\n", {{"S", "300"}}), "B:USR1@300\n");
  try {
    farm::fill_template("@A@ @MISSING@ @OTHER_ONE@\n", {{"A", "1"}});
    FAIL();
  } catch (const farm::OptionError& e) {
    EXPECT_TRUE(has(e.what(), "@MISSING@ @OTHER_ONE@")) << e.what();
  }
  EXPECT_EQ(farm::shell_quote("a'b c"), "'a'\\''b c'");
}

TEST(Submit, FarmScript) {
  ScratchDir dir;
  auto o = options(dir);
  o.ntasks = 2;
  o.time = "00:10:00";
  o.signal_seconds = 60;
  o.partition = "short";
  o.overrides = {"train.steps=600", "grid.depth=[2, 3]"};
  const auto plan = farm::plan_submission(o, kBinary, kTemplates, 1001);
  EXPECT_EQ(plan.out, dir / "results/sub.h5");
  EXPECT_EQ(plan.script_dir, dir / "results/sub.slurm");
  EXPECT_EQ(plan.log_dir, dir / "results/sub.slurm/logs");
  EXPECT_EQ(plan.plot_dir, dir / "results/sub-figures");
  ASSERT_EQ(plan.sweep.size(), 1u);
  EXPECT_EQ(plan.sweep[0].path, dir / "results/sub.slurm/sweep.sbatch");
  const std::string& s = plan.sweep[0].text;
  EXPECT_TRUE(has(s, "#SBATCH --job-name=sub\n"));
  EXPECT_TRUE(has(s, "#SBATCH --ntasks=2\n"));
  EXPECT_TRUE(has(s, "#SBATCH --time=00:10:00\n"));
  EXPECT_TRUE(has(s, "#SBATCH --signal=B:USR1@60\n"));
  EXPECT_TRUE(has(s, "#SBATCH --requeue\n"));
  EXPECT_TRUE(has(s, "#SBATCH --partition=short\n"));
  EXPECT_TRUE(has(s, "#SBATCH --output=" + plan.log_dir + "/%x-%j.out\n"));
  EXPECT_TRUE(has(s, "\"" + kBinary + "\" run \"" + dir / "job.yaml" + "\" --out \"" + plan.out +
                         "\" --resume --set 'train.steps=600' --set 'grid.depth=[2, 3]'"));
  EXPECT_TRUE(has(s, "DEPTHSCALE_DEADLINE=$(( end - 60 ))"));
  EXPECT_FALSE(has(s, "--gres"));
  EXPECT_FALSE(has(s, "\n##"));
  expect_bash(dir, s);

  const std::string& r = plan.reduce.text;
  EXPECT_EQ(plan.reduce.path, dir / "results/sub.slurm/reduce.sbatch");
  EXPECT_TRUE(has(r, "#SBATCH --job-name=sub-reduce\n"));
  EXPECT_TRUE(has(r, "#SBATCH --partition=short\n"));
  EXPECT_TRUE(has(r, "\nn=0\n"));
  EXPECT_TRUE(has(r, "plot \"$out\" --out \"" + plan.plot_dir + "\""));
  expect_bash(dir, r);
}

// What sites require reaches the scripts: account, QoS and any further option on every job;
// memory, features and CPUs on the sweep jobs.
TEST(Submit, SiteOptionsReachTheScripts) {
  ScratchDir dir;
  for (int array : {0, 2}) {
    auto o = options(dir);
    o.array = array;
    o.account = "proj-42";
    o.qos = "normal";
    o.mem = "16G";
    o.constraint = "avx512&ib";
    o.cpus_per_task = 4;
    o.sbatch_options = {"--mail-type=END", "--exclusive"};
    const auto plan = farm::plan_submission(o, kBinary, kTemplates, 1001);
    for (const auto& sweep : plan.sweep) {
      const std::string& s = sweep.text;
      for (const char* line :
           {"--account=proj-42", "--qos=normal", "--mem=16G", "--constraint=avx512&ib",
            "--cpus-per-task=4", "--mail-type=END", "--exclusive"})
        EXPECT_TRUE(has(s, std::string("#SBATCH ") + line + "\n")) << line << "\n" << s;
      expect_bash(dir, s);
    }
    const std::string& r = plan.reduce.text;
    for (const char* line : {"--account=proj-42", "--qos=normal", "--mail-type=END", "--exclusive"})
      EXPECT_TRUE(has(r, std::string("#SBATCH ") + line + "\n")) << line << "\n" << r;
    for (const char* line : {"--mem=", "--constraint=", "--cpus-per-task="})
      EXPECT_FALSE(has(r, line)) << line;
    expect_bash(dir, r);
  }
}

TEST(Submit, ArrayChunksAndCuda) {
  ScratchDir dir;
  auto o = options(dir);
  o.array = 5;
  o.overrides = {"run.device=cuda"};
  const auto plan = farm::plan_submission(o, kBinary, kTemplates, 2);
  ASSERT_EQ(plan.sweep.size(), 3u);
  const char* ranges[] = {"0-1", "0-1", "0-0"};
  for (int k = 0; k < 3; ++k) {
    const std::string& s = plan.sweep[k].text;
    EXPECT_EQ(plan.sweep[k].path,
              dir / "results/sub.slurm/sweep-array" + std::to_string(k) + ".sbatch");
    EXPECT_TRUE(has(s, "#SBATCH --array=" + std::string(ranges[k]) + "\n")) << k;
    EXPECT_TRUE(has(s, "i=$(( SLURM_ARRAY_TASK_ID + " + std::to_string(2 * k) + " ))")) << k;
    EXPECT_TRUE(has(s, "\nn=5\n"));
    EXPECT_TRUE(has(s, "#SBATCH --ntasks=1\n"));
    EXPECT_TRUE(has(s, "#SBATCH --gres=gpu:1\n"));
    EXPECT_TRUE(has(s, "#SBATCH --output=" + plan.log_dir + "/%x-%A_%a.out\n"));
    expect_bash(dir, s);
  }
  EXPECT_TRUE(has(plan.reduce.text, "\nn=5\n"));

  // The farm asks for the GPUs per node: one per rank.
  auto f = options(dir);
  f.overrides = {"run.device=cuda"};
  f.ntasks = 8;
  f.nodes = 2;
  const auto farm = farm::plan_submission(f, kBinary, kTemplates, 1001).sweep[0].text;
  EXPECT_TRUE(has(farm, "#SBATCH --nodes=2\n"));
  EXPECT_TRUE(has(farm, "#SBATCH --ntasks-per-node=4\n#SBATCH --gres=gpu:4\n"));
  EXPECT_FALSE(has(farm, "--gpus-per-task"));
}

TEST(Submit, RefusesWhatCannotWork) {
  ScratchDir dir;
  auto bad = [&](auto change, const std::string& words) {
    auto o = options(dir);
    change(o);
    try {
      farm::plan_submission(o, kBinary, kTemplates, 1001);
      ADD_FAILURE() << "accepted: " << words;
    } catch (const std::exception& e) {
      EXPECT_TRUE(has(e.what(), words)) << e.what();
    }
  };
  bad([](SubmitOptions& o) { o.time = "00:04:00"; }, "--signal-seconds 300");
  bad([](SubmitOptions& o) { o.array = 7; }, "more slices than the 6 tasks");
  bad([](SubmitOptions& o) { o.out += ".bak"; }, "must end in .h5");
  bad([&](SubmitOptions& o) { o.out = dir / "my results/x.h5"; }, "whitespace");
  bad([](SubmitOptions& o) { o.overrides = {"train.stepz=3"}; }, "train.stepz");
  bad([](SubmitOptions& o) { o.array = 2, o.overrides = {"run.slice=0/2"}; }, "run.slice");
  bad([](SubmitOptions& o) { o.partition = "a b"; }, "--partition");
  bad([](SubmitOptions& o) { o.ntasks = 2, o.nodes = 3; }, "--nodes 3");
  bad([](SubmitOptions& o) { o.account = "a\n#SBATCH --x"; }, "control character");
  bad([](SubmitOptions& o) { o.mem = "16 G"; }, "--mem '16 G' holds whitespace");
  bad([](SubmitOptions& o) { o.sbatch_options = {"mail-type=END"}; }, "not an sbatch option");
  bad([](SubmitOptions& o) { o.sbatch_options = {"--comment=a\nb"}; }, "control character");
  EXPECT_THROW(farm::plan_submission(options(dir), kBinary, dir / "none", 1001), farm::OptionError);

  // An existing sweep of another job would fail in the queue: refuse it now.
  store::SweepHeader h;
  h.job_yaml = kJob;
  h.effective = config::parse_job(kJob, "j", {"train.steps=11"}).effective;
  store::SweepFile::create(dir / "results/sub.h5", h, false);
  bad([](SubmitOptions&) {}, "train.steps");
  auto same = options(dir);
  same.overrides = {"train.steps=11"};
  const auto plan = farm::plan_submission(same, kBinary, kTemplates, 1001);
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_TRUE(has(plan.notes[0], "--resume"));
  // ... and the array's merge would refuse to replace it.
  bad([](SubmitOptions& o) { o.array = 2, o.overrides = {"train.steps=11"}; }, "not a merge");
}

TEST(Submit, WritesTheScriptsAndChainsTheReduction) {
  ScratchDir dir;
  // A stand-in sbatch: records its arguments, answers the next job id.
  const std::string fake = write(dir / "sbatch", R"(#!/bin/sh
echo "$*" >> ")" + dir / "calls" + R"("
n=$(wc -l < ")" + dir / "calls" + R"(")
echo "$((100 + n));cluster"
)");
  chmod(fake.c_str(), 0755);
  auto o = options(dir);
  const auto plan = farm::plan_submission(o, kBinary, kTemplates, 1001);
  EXPECT_FALSE(fs::exists(dir / "results"));  // planning writes nothing (what --dry-run prints)

  farm::write_scripts(plan);
  const auto jobs = farm::submit_plan(plan, fake);
  EXPECT_EQ(jobs.sweep_ids, std::vector<std::string>{"101"});
  EXPECT_EQ(jobs.reduce_id, "102");
  EXPECT_TRUE(fs::is_directory(dir / "results/sub.slurm/logs"));
  EXPECT_TRUE(fs::exists(dir / "results/sub.slurm/sweep.sbatch"));
  EXPECT_EQ(read(dir / "calls"), "--parsable " + dir / "results/sub.slurm/sweep.sbatch\n" +
                                     "--parsable --dependency=afterok:101 " +
                                     dir / "results/sub.slurm/reduce.sbatch\n");

  try {
    farm::submit_plan(plan, dir / "no-such-sbatch");
    FAIL() << "a missing sbatch was not reported";
  } catch (const depthscale::InputError&) {
    FAIL() << "a failed sbatch is not the user's input (exit 1, not 2)";
  } catch (const depthscale::Error& e) {
    EXPECT_TRUE(has(e.what(), "no-such-sbatch")) << e.what();
  }
  o.time = "soon";
  EXPECT_THROW(farm::plan_submission(o, kBinary, kTemplates, 1001), depthscale::InputError);
}
