// Tests for the caps on every size a job can set (docs/job-file.md, "Caps"): each refused just
// above its cap with file, line and key, accepted at it; the grid's task count and axis lengths;
// the job file's size (refused before YAML parses it); --set merging a mapping; the seed warning.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "config/job.hpp"

namespace cfg = depthscale::config;

namespace {

const char* kToy =
    "name: c\n"                                    // 1
    "kind: toy\n"                                  // 2
    "seed: 1\n"                                    // 3
    "grid:\n"                                      // 4
    "  depth: [2, 4]\n"                            // 5
    "  teacher: [0]\n"                             // 6
    "model: {width: 8}\n"                          // 7
    "train:\n"                                     // 8
    "  steps: 100\n"                               // 9
    "  batch: 32\n"                                // 10
    "  lr: {base: 0.01, schedule: linear_tail}\n"  // 11
    "run: {threads: 1}\n";                         // 12

const char* kProbe = "name: p\nkind: probe\nseed: 1\nprobe:\n  models: [m]\n  shards: s.bin\n";

std::string error_of(const std::string& text, const std::vector<std::string>& overrides) {
  try {
    cfg::parse_job(text, "c.yaml", overrides);
  } catch (const cfg::JobError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct Cap {
  const char* what;
  const char* job;            // kToy or kProbe
  std::string at_cap;         // accepted
  std::string above;          // refused
  std::string message_start;  // "c.yaml:(--set): run.threads: must be <= 1024 (got 100000"
};

class Caps : public testing::TestWithParam<Cap> {};

TEST_P(Caps, RefusedAboveAcceptedAt) {
  const Cap& c = GetParam();
  EXPECT_EQ(error_of(c.job, {c.at_cap}), "") << c.what;
  const std::string msg = error_of(c.job, {c.above});
  ASSERT_FALSE(msg.empty()) << c.what << ": " << c.above << " accepted";
  EXPECT_EQ(msg.rfind(c.message_start, 0), 0u) << c.what << ": " << msg;
}

const std::string S = "c.yaml:(--set): ";

INSTANTIATE_TEST_SUITE_P(
    Config, Caps,
    testing::Values(
        // the fault injection's sizes
        Cap{"threads", kToy, "run.threads=1024", "run.threads=100000",
            S + "run.threads: must be <= 1024 (got 100000; intra-op threads"},
        Cap{"steps_1e12", kToy, "train.steps=100000000", "train.steps=1000000000000",
            S + "train.steps: must be <= 100000000 (got 1000000000000"},
        Cap{"steps_int64_max", kToy, "train.steps=100000000", "train.steps=9223372036854775807",
            S + "train.steps: must be <= 100000000 (got 9223372036854775807"},
        Cap{"batch_2e9", kToy, "train.batch=1048576", "train.batch=2000000000",
            S + "train.batch: must be <= 1048576 (got 2000000000"},
        Cap{"width_1e6", kToy, "model.width=16384", "model.width=1000000",
            S + "model.width: must be <= 16384 (got 1000000"},
        // every other size
        Cap{"teacher_width", kToy, "model.teacher_width=16384", "model.teacher_width=16385",
            S + "model.teacher_width: must be <= 16384"},
        Cap{"vocab", kToy, "model.vocab=1048576", "model.vocab=1048577",
            S + "model.vocab: must be <= 1048576"},
        Cap{"model_teacher_depth", kToy, "model.teacher_depth=65536", "model.teacher_depth=65537",
            S + "model.teacher_depth: must be <= 65536"},
        Cap{"grid_depth", kToy, "grid.depth=[65536]", "grid.depth=[2, 65537]",
            S + "grid.depth[1]: depth must be <= 65536 (got 65537"},
        Cap{"grid_teacher", kToy, "grid.teacher=[1000000]", "grid.teacher=[1000001]",
            S + "grid.teacher[0]: teacher must be <= 1000000"},
        Cap{"grid_width", kToy, "grid.width=[8, 16384]", "grid.width=[8, 16385]",
            S + "grid.width[1]: width must be in 1..16384"},
        Cap{"grid_teacher_depth", kToy, "grid.teacher_depth=[65536]", "grid.teacher_depth=[65537]",
            S + "grid.teacher_depth[0]: teacher_depth must be in"},
        Cap{"eval_every", kToy, "train.eval.every=100000000", "train.eval.every=100000001",
            S + "train.eval.every: must be <= 100000000"},
        Cap{"eval_batches", kToy, "train.eval.batches=10000", "train.eval.batches=10001",
            S + "train.eval.batches: must be <= 10000"},
        Cap{"checkpoint_every", kToy, "train.checkpoint_every=100000000",
            "train.checkpoint_every=1000000000000", S + "train.checkpoint_every: must be <="},
        Cap{"probe_hidden_inputs", kToy, "probe_hidden.inputs=1048576",
            "probe_hidden.inputs=1048577", S + "probe_hidden.inputs: must be <= 1048576"},
        Cap{"unit_size", kToy, "run.unit_size=100000", "run.unit_size=100001",
            S + "run.unit_size: must be <= 100000"},
        Cap{"probe_batch", kProbe, "probe.batch=4096", "probe.batch=4097",
            S + "probe.batch: must be <= 4096"},
        Cap{"probe_max_tokens", kProbe, "probe={batch: 16, max_tokens: 1048576}",
            "probe={batch: 1, max_tokens: 1048577}", S + "probe.max_tokens: must be <= 1048576"},
        Cap{"probe_batch_tokens", kProbe,
            "probe={models: [m], shards: s.bin, batch: 16, "
            "max_tokens: 1048576}",
            "probe={models: [m], shards: s.bin, batch: 17, max_tokens: 1048576}",
            S + "probe.batch: probe.batch × probe.max_tokens = 17 × 1048576 tokens"},
        Cap{"linspace_count", kToy, "grid.rho={linspace: [0, 1, 10]}",
            "grid.rho={linspace: [0, 1, 10001]}", S + "grid.rho.linspace[2]: must be <= 10000"}),
    [](const testing::TestParamInfo<Cap>& info) { return std::string(info.param.what); });

// A cap in the file names the file's line, like every other mistake.
TEST(Caps, FileLine) {
  std::string text = kToy;
  text.replace(text.find("run: {threads: 1}"), 17, "run: {threads: 100000}");
  const std::string msg = error_of(text, {});
  EXPECT_EQ(msg.rfind("c.yaml:12: run.threads: must be <= 1024 (got 100000", 0), 0u) << msg;
}

std::string list_of(size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(i);
  return s + "]";
}

TEST(Caps, AxisLength) {
  EXPECT_EQ(error_of(kToy, {"grid.teacher=" + list_of(10000)}), "");
  const std::string msg = error_of(kToy, {"grid.teacher=" + list_of(10001)});
  EXPECT_EQ(msg.rfind(S + "grid.teacher: has 10001 values; a grid axis holds at most 10000", 0), 0u)
      << msg;
}

TEST(Caps, DuplicateInLongAxisFoundQuickly) {
  std::string list = list_of(10000);
  list.back() = ',';
  list += "5]";  // 10001 values would be refused: replace the last with a duplicate
  list = "[" + list.substr(list.find(',') + 1);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string msg = error_of(kToy, {"grid.teacher=" + list});
  EXPECT_TRUE(contains(msg, "duplicate grid value 5")) << msg;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}

TEST(Caps, TaskCount) {
  // 10 × 100 × 101 = 101000 tasks: each axis is fine, the product is not.
  const std::string msg =
      error_of(kToy, {"grid.rho={linspace: [0, 1, 10]}", "grid.teacher=" + list_of(100),
                      "grid.depth=" + list_of(102).replace(1, 2, "")});
  EXPECT_EQ(msg.rfind("c.yaml:4: grid: the grid has 101000 tasks (rho 10 x teacher_depth 1 x "
                      "teacher 100 x temperature 1 x width 1 x depth 101); a job holds at most "
                      "100000",
                      0),
            0u)
      << msg;
  // 10 × 100 × 100: at the cap.
  EXPECT_EQ(error_of(kToy, {"grid.rho={linspace: [0, 1, 10]}", "grid.teacher=" + list_of(100),
                            "grid.depth=" + list_of(101).replace(1, 2, "")}),
            "");
}

// Six million teachers (the fault injection's case) are refused by size before YAML parses them.
TEST(Caps, HugeJobFileRefusedBeforeParsing) {
  std::string text = kToy;
  text.replace(text.find("  teacher: [0]"), 14, "  teacher: " + list_of(6000000));
  const auto t0 = std::chrono::steady_clock::now();
  const std::string msg = error_of(text, {});
  EXPECT_EQ(msg.rfind("c.yaml: the job file has ", 0), 0u) << msg.substr(0, 200);
  EXPECT_TRUE(contains(msg, "a job file holds at most 1048576")) << msg.substr(0, 200);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  const std::string set = error_of(kToy, {"grid.teacher=" + list_of(6000000)});
  EXPECT_EQ(set.rfind("c.yaml: --set grid.teacher=...: the value has ", 0), 0u)
      << set.substr(0, 200);
}

// --set 'train={steps: 3}' changes train.steps and keeps the file's other train: keys.
TEST(Overrides, MappingMergesIntoMapping) {
  const auto j = cfg::parse_job(kToy, "c.yaml", {"train={steps: 3}"});
  EXPECT_EQ(j.train.steps, 3);
  EXPECT_EQ(j.train.batch, 32);
  EXPECT_DOUBLE_EQ(j.train.lr.base, 0.01);
  EXPECT_EQ(j.train.lr.schedule, cfg::Schedule::LinearTail);
  // Recursively: lr.base changes, lr.schedule stays.
  const auto k = cfg::parse_job(kToy, "c.yaml", {"train={lr: {base: 0.5}}", "model={vocab: 64}"});
  EXPECT_DOUBLE_EQ(k.train.lr.base, 0.5);
  EXPECT_EQ(k.train.lr.schedule, cfg::Schedule::LinearTail);
  EXPECT_EQ(k.train.steps, 100);
  EXPECT_EQ(k.model.width, 8);
  EXPECT_EQ(k.model.vocab, 64);
  // The same effective job as the dotted form.
  EXPECT_EQ(j.effective, cfg::parse_job(kToy, "c.yaml", {"train.steps=3"}).effective);
  // A merged key's error says --set; the file's own keys keep their lines.
  EXPECT_EQ(error_of(kToy, {"train={steps: 0}"}), S + "train.steps: must be >= 1 (got 0)");
  std::string bad_batch = kToy;
  bad_batch.replace(bad_batch.find("batch: 32"), 9, "batch: 0");
  EXPECT_EQ(error_of(bad_batch, {"train={steps: 5}"}),
            "c.yaml:10: train.batch: must be >= 1 (got 0)");
  EXPECT_TRUE(contains(error_of(kToy, {"train={stepz: 5}"}), "train.stepz: unknown key"));
}

// A job without seed: runs with seed 0, and says so (docs/job-file.md).
TEST(Seed, MissingSeedIsZeroWithAWarning) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto before = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  std::string text = kToy;
  text.replace(text.find("seed: 1\n"), 8, "");
  const auto j = cfg::parse_job(text, "c.yaml");
  const auto k = cfg::parse_job(kToy, "c.yaml");
  spdlog::set_default_logger(before);
  EXPECT_EQ(j.seed, 0u);
  EXPECT_EQ(k.seed, 1u);
  EXPECT_TRUE(contains(log.str(), "c.yaml: seed: not given, so the job's master seed is 0"))
      << log.str();
  EXPECT_EQ(log.str().find("not given", log.str().find("not given") + 1), std::string::npos)
      << "warned for the job that has a seed: " << log.str();
}

}  // namespace
