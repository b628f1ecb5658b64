// Tests for lib/config: validation messages (key + line), overrides, the canonical form,
// resume compatibility, grid expansion and keys, schedules, seeds, and the shipped job files.
#include "config/job.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace cfg = depthscale::config;

namespace {

// Every line number in the error table below refers to this text.
const char* kBase =
    "name: t\n"                                // 1
    "kind: toy\n"                              // 2
    "seed: 7\n"                                // 3
    "grid:\n"                                  // 4
    "  temperature: {logspace: [-2, 0, 4]}\n"  // 5
    "  rho: [0, 1]\n"                          // 6
    "  depth: [2, 4]\n"                        // 7
    "  teacher: [0, 1]\n"                      // 8
    "model:\n"                                 // 9
    "  width: 8\n"                             // 10
    "  vocab: 16\n"                            // 11
    "  teacher_depth: 8\n"                     // 12
    "  block: plain\n"                         // 13
    "  head: trained\n"                        // 14
    "train:\n"                                 // 15
    "  loss: kl\n"                             // 16
    "  steps: 100\n"                           // 17
    "  batch: 32\n"                            // 18
    "  lr:\n"                                  // 19
    "    base: 0.001\n"                        // 20
    "    depth_scaling: none\n"                // 21
    "    schedule: constant\n"                 // 22
    "  inputs: shared\n"                       // 23
    "  eval:\n"                                // 24
    "    every: 10\n"                          // 25
    "    batches: 2\n"                         // 26
    "  checkpoint_every: 50\n"                 // 27
    "  student_temperature: false\n"           // 28
    "probe_hidden:\n"                          // 29
    "  inputs: 16\n"                           // 30
    "run:\n"                                   // 31
    "  unit_size: 0\n"                         // 32
    "  threads: 1\n"                           // 33
    "  device: cpu\n";                         // 34

// kBase with some lines replaced (1-based); "#" blanks a line without shifting the others.
std::string edit(const std::map<int, std::string>& lines) {
  std::istringstream in(kBase);
  std::string out, line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto it = lines.find(n);
    out += (it == lines.end() ? line : it->second) + "\n";
  }
  return out;
}

// The JobError message, or "" when the text is accepted.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    cfg::parse_job(text, "t.yaml", overrides);
  } catch (const cfg::JobError& e) {
    return e.what();
  }
  return "";
}

const char* kMinimal =
    "name: m\n"
    "kind: toy\n"
    "grid:\n"
    "  depth: [6, 12]\n"
    "  teacher: [0]\n";

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Parsing

TEST(Parse, BaseValues) {
  const auto j = cfg::parse_job(kBase, "t.yaml");
  EXPECT_EQ(j.name, "t");
  EXPECT_EQ(j.kind, cfg::JobKind::Toy);
  EXPECT_EQ(j.seed, 7u);
  ASSERT_EQ(j.grid.temperature.size(), 4u);
  EXPECT_EQ(j.grid.temperature.front(), 0.01);
  EXPECT_EQ(j.grid.temperature.back(), 1.0);
  EXPECT_EQ(j.grid.rho, (std::vector<double>{0, 1}));
  EXPECT_EQ(j.grid.depth, (std::vector<int>{2, 4}));
  EXPECT_EQ(j.grid.teacher, (std::vector<int>{0, 1}));
  EXPECT_EQ(j.model.width, 8);
  EXPECT_EQ(j.model.vocab, 16);
  EXPECT_EQ(j.model.teacher_depth, 8);
  EXPECT_EQ(j.train.steps, 100);
  EXPECT_EQ(j.train.batch, 32);
  EXPECT_DOUBLE_EQ(j.train.lr.base, 0.001);
  EXPECT_EQ(j.train.eval.every, 10);
  EXPECT_EQ(j.train.eval.batches, 2);
  EXPECT_EQ(j.train.checkpoint_every, 50);
  EXPECT_FALSE(j.train.student_temperature);
  EXPECT_EQ(j.probe_hidden.inputs, 16);
  EXPECT_EQ(j.run.threads, 1);
  EXPECT_EQ(j.run.device, cfg::Device::Cpu);
  EXPECT_EQ(j.source_path, "t.yaml");
  EXPECT_EQ(j.yaml_text, kBase);
}

TEST(Parse, Defaults) {
  const auto j = cfg::parse_job(kMinimal, "m.yaml");
  EXPECT_EQ(j.grid.temperature, std::vector<double>{1.0});
  EXPECT_EQ(j.grid.rho, std::vector<double>{0.0});
  EXPECT_EQ(j.seed, 0u);
  const cfg::Job d;
  EXPECT_EQ(j.model.width, d.model.width);
  EXPECT_EQ(j.model.teacher_depth, 128);
  EXPECT_EQ(j.model.head, cfg::Head::Trained);
  EXPECT_EQ(j.train.loss, cfg::Loss::Kl);
  EXPECT_EQ(j.train.steps, 40000);
  EXPECT_EQ(j.train.batch, 1024);
  EXPECT_EQ(j.train.lr.schedule, cfg::Schedule::Constant);
  EXPECT_EQ(j.train.inputs, cfg::Inputs::Shared);
  EXPECT_EQ(j.train.eval.every, 0);
  EXPECT_EQ(j.run.unit_size, 0);
  EXPECT_EQ(j.run.device, cfg::Device::Cpu);
  EXPECT_TRUE(j.probe.models.empty());
}

TEST(Parse, EnumsAndFlowForms) {
  const auto j = cfg::parse_job(
      "name: e\nkind: toy\ngrid: {depth: [3], teacher: [2], rho: {linspace: [0, 1, 3]}}\n"
      "model: {block: rk2, head: none}\n"
      "train: {loss: mse, student_temperature: true, inputs: independent,\n"
      "        lr: {depth_scaling: inv_sqrt, schedule: linear_tail}}\n"
      "run: {device: cuda}\n",
      "e.yaml");
  EXPECT_EQ(j.grid.depth, std::vector<int>{3});
  EXPECT_EQ(j.grid.rho, (std::vector<double>{0, 0.5, 1}));
  EXPECT_EQ(j.model.block, cfg::Block::Rk2);
  EXPECT_EQ(j.model.head, cfg::Head::None);
  EXPECT_EQ(j.train.loss, cfg::Loss::Mse);
  EXPECT_TRUE(j.train.student_temperature);
  EXPECT_EQ(j.train.inputs, cfg::Inputs::Independent);
  EXPECT_EQ(j.train.lr.depth_scaling, cfg::DepthScaling::InvSqrt);
  EXPECT_EQ(j.train.lr.schedule, cfg::Schedule::LinearTail);
  EXPECT_EQ(j.run.device, cfg::Device::Cuda);
  EXPECT_STREQ(cfg::to_string(cfg::Loss::Mse), "mse");
  EXPECT_STREQ(cfg::to_string(cfg::Head::Teacher), "teacher");
  EXPECT_STREQ(cfg::to_string(cfg::Block::Rk2), "rk2");
}

TEST(Parse, EmptySectionsMeanDefaults) {
  const auto j = cfg::parse_job(std::string(kMinimal) + "train:\nmodel:\n", "m.yaml");
  EXPECT_EQ(j.train.steps, 40000);
}

TEST(Parse, ProbeKind) {
  const auto j = cfg::parse_job(
      "name: p\nkind: probe\nseed: 3\nprobe:\n  models: [pythia-70m]\n  shards: s.bin\n", "p.yaml");
  EXPECT_EQ(j.kind, cfg::JobKind::Probe);
  EXPECT_EQ(j.seed, 3u);
  ASSERT_EQ(j.probe.models.size(), 1u);
  EXPECT_EQ(j.probe.models[0].path, "pythia-70m");
  EXPECT_EQ(j.probe.shards, std::vector<std::string>{"s.bin"});
  EXPECT_TRUE(cfg::expand(j).empty());
  EXPECT_EQ(cfg::parse_job(j.effective, "effective").effective, j.effective);
  EXPECT_FALSE(contains(j.effective, "  depth: ["));
  // The probe: mapping as written, keys sorted.
  EXPECT_TRUE(contains(j.effective, "probe: {models: [pythia-70m], shards: s.bin}")) << j.effective;
  // A probe job needs no grid; the probe mapping must be a mapping.
  EXPECT_TRUE(contains(error_of("name: p\nkind: probe\nprobe: [1, 2]\n"),
                       "t.yaml:3: probe: must be a mapping (got a list)"));
}

TEST(Parse, LoadJobReadsFile) {
  const auto path = std::filesystem::temp_directory_path() / "depthscale_config_test.yaml";
  { std::ofstream(path) << kMinimal; }
  const auto j = cfg::load_job(path.string(), {"train.steps=5"});
  EXPECT_EQ(j.source_path, path.string());
  EXPECT_EQ(j.yaml_text, kMinimal);
  EXPECT_EQ(j.train.steps, 5);
  std::filesystem::remove(path);
  try {
    cfg::load_job(path.string());
    FAIL() << "expected JobError";
  } catch (const cfg::JobError& e) {
    EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
  }
}

// ------------------------------------------------------------------------------------------
// Validation: every mistake names the file, the line and the dotted key.

struct BadCase {
  const char* what;
  std::map<int, std::string> lines;  // edits to kBase
  std::string where;                 // "t.yaml:<line>: <key>"
  std::string detail;                // more of the message
};

class Errors : public testing::TestWithParam<BadCase> {};

TEST_P(Errors, NameKeyAndLine) {
  const BadCase& c = GetParam();
  const std::string msg = error_of(edit(c.lines));
  ASSERT_FALSE(msg.empty()) << c.what << ": accepted";
  EXPECT_EQ(msg.rfind(c.where, 0), 0u) << c.what << ": " << msg;
  EXPECT_TRUE(contains(msg, c.detail)) << c.what << ": " << msg;
}

const std::string B = "#";  // blank a line

INSTANTIATE_TEST_SUITE_P(
    Config, Errors,
    testing::Values(
        // unknown keys at every level, with suggestions
        BadCase{
            "unknown_top", {{3, "sed: 7"}}, "t.yaml:3: sed:", "unknown key (did you mean seed?)"},
        BadCase{"unknown_nested",
                {{17, "  stepz: 100"}},
                "t.yaml:17: train.stepz:",
                "did you mean train.steps?"},
        BadCase{"unknown_transposed",
                {{17, "  stpes: 100"}},
                "t.yaml:17: train.stpes:",
                "did you mean train.steps?"},
        BadCase{"unknown_deep",
                {{20, "    bsae: 0.001"}},
                "t.yaml:20: train.lr.bsae:",
                "did you mean train.lr.base?"},
        BadCase{"unknown_grid_axis",
                {{6, "  roh: [0, 1]"}},
                "t.yaml:6: grid.roh:",
                "did you mean grid.rho?"},
        BadCase{"unknown_axis_form",
                {{5, "  temperature: {logspce: [-2, 0, 4]}"}},
                "t.yaml:5: grid.temperature.logspce:",
                "did you mean grid.temperature.logspace?"},
        BadCase{"unknown_no_suggestion",
                {{30, "  zzzzzzz: 16"}},
                "t.yaml:30: probe_hidden.zzzzzzz:",
                "unknown key"},
        BadCase{"duplicate_key",
                {{18, "  steps: 5"}},
                "t.yaml:18: train.steps:",
                "duplicate key (first at line 17)"},
        // wrong types
        BadCase{"string_for_int",
                {{17, "  steps: many"}},
                "t.yaml:17: train.steps:",
                "must be an integer (got 'many')"},
        BadCase{"float_for_int",
                {{17, "  steps: 100.5"}},
                "t.yaml:17: train.steps:",
                "must be an integer"},
        BadCase{"string_for_number",
                {{20, "    base: fast"}},
                "t.yaml:20: train.lr.base:",
                "must be a number (got 'fast')"},
        BadCase{"list_for_number",
                {{20, "    base: [1]"}},
                "t.yaml:20: train.lr.base:",
                "must be a number (got a list)"},
        BadCase{"list_for_mapping",
                {{9, "model: [1, 2]"}, {10, B}, {11, B}, {12, B}, {13, B}, {14, B}},
                "t.yaml:9: model:",
                "must be a mapping (got a list)"},
        BadCase{"scalar_for_mapping",
                {{19, "  lr: 0.1"}, {20, B}, {21, B}, {22, B}},
                "t.yaml:19: train.lr:",
                "must be a mapping (got '0.1')"},
        BadCase{"mapping_for_int_axis",
                {{7, "  depth: {linspace: [1, 3, 3]}"}},
                "t.yaml:7: grid.depth:",
                "must be a list of integers (got a mapping)"},
        BadCase{"scalar_teacher_axis",
                {{8, "  teacher: 3"}},
                "t.yaml:8: grid.teacher:",
                "must be a list of replicate indices such as [0, 1, 2] (got '3')"},
        BadCase{"scalar_depth_axis",
                {{7, "  depth: 6"}},
                "t.yaml:7: grid.depth:",
                "must be a list of integers (got '6'; one value is a list too: [6])"},
        BadCase{
            "scalar_rho_axis",
            {{6, "  rho: 0"}},
            "t.yaml:6: grid.rho:",
            "must be a list, {logspace: [lo_exp, hi_exp, count]} or {linspace: [lo, hi, count]} "
            "(got '0'; one value is a list too: [0])"},
        BadCase{"float_in_int_axis",
                {{7, "  depth: [2, 4.5]"}},
                "t.yaml:7: grid.depth[1]:",
                "must be an integer"},
        BadCase{"string_for_bool",
                {{28, "  student_temperature: maybe"}},
                "t.yaml:28: train.student_temperature:",
                "must be true or false"},
        BadCase{"list_for_enum",
                {{16, "  loss: [kl]"}},
                "t.yaml:16: train.loss:",
                "must be one of: kl, mse (got a list)"},
        BadCase{"infinite_number",
                {{20, "    base: inf"}},
                "t.yaml:20: train.lr.base:",
                "must be a finite number"},
        BadCase{"int_out_of_range",
                {{10, "  width: 99999999999"}},
                "t.yaml:10: model.width:",
                "must be <= 16384 (got 99999999999"},
        BadCase{"negative_seed",
                {{3, "seed: -1"}},
                "t.yaml:3: seed:",
                "must be a non-negative integer"},
        BadCase{"bad_name", {{1, "name: a/b"}}, "t.yaml:1: name:", "must be letters"},
        BadCase{
            "top_level_list",
            {{1, "- 1"}, {2, "- 2"}, {3, B},  {4, B},  {5, B},  {6, B},  {7, B},  {8, B},  {9, B},
             {10, B},    {11, B},    {12, B}, {13, B}, {14, B}, {15, B}, {16, B}, {17, B}, {18, B},
             {19, B},    {20, B},    {21, B}, {22, B}, {23, B}, {24, B}, {25, B}, {26, B}, {27, B},
             {28, B},    {29, B},    {30, B}, {31, B}, {32, B}, {33, B}, {34, B}},
            "t.yaml:1: (top level):",
            "must be a mapping"},
        // grid axes
        BadCase{"empty_axis", {{7, "  depth: []"}}, "t.yaml:7: grid.depth:", "empty grid axis"},
        BadCase{"empty_axis_map",
                {{5, "  temperature: {}"}},
                "t.yaml:5: grid.temperature:",
                "empty grid axis"},
        BadCase{"depth_zero",
                {{7, "  depth: [2, 0]"}},
                "t.yaml:7: grid.depth[1]:",
                "must be >= 1 (got 0)"},
        BadCase{"teacher_negative",
                {{8, "  teacher: [-1]"}},
                "t.yaml:8: grid.teacher[0]:",
                "must be >= 0 (got -1)"},
        BadCase{"temperature_zero",
                {{5, "  temperature: [0.5, 0]"}},
                "t.yaml:5: grid.temperature[1]:",
                "must be > 0 (got 0)"},
        BadCase{"temperature_negative",
                {{5, "  temperature: {linspace: [-1, 1, 3]}"}},
                "t.yaml:5: grid.temperature.linspace:",
                "must be > 0 (got -1)"},
        BadCase{"rho_above_one",
                {{6, "  rho: [0, 1.5]"}},
                "t.yaml:6: grid.rho[1]:",
                "must be in [0, 1] (got 1.5)"},
        BadCase{"rho_negative",
                {{6, "  rho: [-0.1]"}},
                "t.yaml:6: grid.rho[0]:",
                "must be in [0, 1] (got -0.1)"},
        BadCase{"duplicate_list_value",
                {{7, "  depth: [2, 4, 2]"}},
                "t.yaml:7: grid.depth[2]:",
                "duplicate grid value 2 (also at grid.depth[0])"},
        BadCase{"duplicate_generated_value",
                {{5, "  temperature: {linspace: [1, 1, 3]}"}},
                "t.yaml:5: grid.temperature.linspace:",
                "duplicate grid value 1"},
        BadCase{"logspace_two_args",
                {{5, "  temperature: {logspace: [-2, 0]}"}},
                "t.yaml:5: grid.temperature.logspace:",
                "expected [lo_exp, hi_exp, count] (got 2 values)"},
        BadCase{"linspace_four_args",
                {{6, "  rho: {linspace: [0, 1, 3, 4]}"}},
                "t.yaml:6: grid.rho.linspace:",
                "expected [lo, hi, count] (got 4 values)"},
        BadCase{"logspace_not_list",
                {{5, "  temperature: {logspace: 3}"}},
                "t.yaml:5: grid.temperature.logspace:",
                "expected [lo_exp, hi_exp, count]"},
        BadCase{"logspace_zero_count",
                {{5, "  temperature: {logspace: [-2, 0, 0]}"}},
                "t.yaml:5: grid.temperature.logspace[2]:",
                "must be >= 1 (got 0)"},
        BadCase{"logspace_float_count",
                {{5, "  temperature: {logspace: [-2, 0, 2.5]}"}},
                "t.yaml:5: grid.temperature.logspace[2]:",
                "must be an integer"},
        BadCase{"both_spaces",
                {{5, "  temperature: {logspace: [-2, 0, 3], linspace: [1, 2, 2]}"}},
                "t.yaml:5: grid.temperature:",
                "one of logspace or linspace"},
        // ranges
        BadCase{
            "width_zero", {{10, "  width: 0"}}, "t.yaml:10: model.width:", "must be >= 1 (got 0)"},
        BadCase{
            "vocab_zero", {{11, "  vocab: 0"}}, "t.yaml:11: model.vocab:", "must be >= 1 (got 0)"},
        BadCase{"teacher_depth_zero",
                {{12, "  teacher_depth: 0"}},
                "t.yaml:12: model.teacher_depth:",
                "must be >= 1 (got 0)"},
        BadCase{
            "batch_zero", {{18, "  batch: 0"}}, "t.yaml:18: train.batch:", "must be >= 1 (got 0)"},
        BadCase{"steps_negative",
                {{17, "  steps: -5"}},
                "t.yaml:17: train.steps:",
                "must be >= 1 (got -5)"},
        BadCase{
            "lr_zero", {{20, "    base: 0"}}, "t.yaml:20: train.lr.base:", "must be > 0 (got 0)"},
        BadCase{"lr_negative",
                {{20, "    base: -1e-3"}},
                "t.yaml:20: train.lr.base:",
                "must be > 0 (got -0.001)"},
        BadCase{"eval_every_negative",
                {{25, "    every: -1"}},
                "t.yaml:25: train.eval.every:",
                "must be >= 0 (got -1)"},
        BadCase{"eval_batches_zero",
                {{26, "    batches: 0"}},
                "t.yaml:26: train.eval.batches:",
                "must be >= 1 (got 0)"},
        BadCase{"checkpoint_negative",
                {{27, "  checkpoint_every: -2"}},
                "t.yaml:27: train.checkpoint_every:",
                "must be >= 0 (got -2)"},
        BadCase{"probe_inputs_negative",
                {{30, "  inputs: -1"}},
                "t.yaml:30: probe_hidden.inputs:",
                "must be >= 0 (got -1)"},
        BadCase{"unit_size_negative",
                {{32, "  unit_size: -1"}},
                "t.yaml:32: run.unit_size:",
                "must be >= 0 (got -1)"},
        BadCase{"threads_negative",
                {{33, "  threads: -1"}},
                "t.yaml:33: run.threads:",
                "must be >= 0 (got -1)"},
        // enums list the allowed values
        BadCase{"kind",
                {{2, "kind: tory"}},
                "t.yaml:2: kind:",
                "unknown value 'tory' (allowed: toy, probe)"},
        BadCase{"block",
                {{13, "  block: rk4"}},
                "t.yaml:13: model.block:",
                "unknown value 'rk4' (allowed: plain, rk2)"},
        BadCase{"head",
                {{14, "  head: fixed"}},
                "t.yaml:14: model.head:",
                "(allowed: trained, teacher, none)"},
        BadCase{"loss",
                {{16, "  loss: ce"}},
                "t.yaml:16: train.loss:",
                "unknown value 'ce' (allowed: kl, mse)"},
        BadCase{"depth_scaling",
                {{21, "    depth_scaling: sqrt"}},
                "t.yaml:21: train.lr.depth_scaling:",
                "(allowed: none, inv_sqrt)"},
        BadCase{"schedule",
                {{22, "    schedule: cosine"}},
                "t.yaml:22: train.lr.schedule:",
                "(allowed: constant, linear_tail)"},
        BadCase{"inputs",
                {{23, "  inputs: fresh"}},
                "t.yaml:23: train.inputs:",
                "(allowed: shared, independent)"},
        BadCase{
            "device", {{34, "  device: gpu"}}, "t.yaml:34: run.device:", "(allowed: cpu, cuda)"},
        // cross-field
        BadCase{"kl_without_head",
                {{14, "  head: none"}},
                "t.yaml:16: train.loss:",
                "model.head is none"},
        BadCase{"head_none_with_default_loss",
                {{14, "  head: none"}, {16, B}},
                "t.yaml:14: model.head:",
                "train.loss defaults to kl"},
        BadCase{"probe_on_toy",
                {{31, "probe: {a: 1}"}, {32, B}, {33, B}, {34, B}},
                "t.yaml:31: probe:",
                "only allowed with kind: probe"},
        // the axes beyond the study's
        BadCase{"teacher_groups_with_rho",
                {{8, "  teacher: [0, 1]\n  teacher_groups: [1, 2]"}},
                "t.yaml:9: grid.teacher_groups:",
                "cannot be combined with grid.rho"},
        BadCase{"teacher_groups_above_depth",
                {{6, "  teacher_groups: [1, 16]"}},
                "t.yaml:6: grid.teacher_groups:",
                "16 groups exceed the teacher depth 8 (K must be <= model.teacher_depth)"},
        BadCase{"teacher_groups_above_axis_depth",
                {{6, "  teacher_groups: [1, 6]\n  teacher_depth: [4, 8]"}},
                "t.yaml:6: grid.teacher_groups:",
                "6 groups exceed the teacher depth 4 (K must be <= grid.teacher_depth)"},
        BadCase{
            "grid_width_zero", {{6, "  width: [8, 0]"}}, "t.yaml:6: grid.width[1]:", "1..16384"},
        BadCase{"teacher_depth_duplicate",
                {{6, "  teacher_depth: [4, 4]"}},
                "t.yaml:6: grid.teacher_depth[1]:",
                "duplicate grid value 4"},
        BadCase{"width_with_teacher_head",
                {{6, "  width: [4, 8]"}, {14, "  head: teacher"}},
                "t.yaml:14: model.head:",
                "differs from the teacher's (8) needs model.head: trained"},
        BadCase{
            "teacher_width_with_head_none",
            {{10, "  width: 8\n  teacher_width: 12"}, {14, "  head: none"}, {16, "  loss: mse"}},
            "t.yaml:15: model.head:",
            "needs model.head: trained (head none reads the teacher's width)"},
        BadCase{"input_dim_above_teacher_width",
                {{10, "  width: 8\n  input_dim: 9"}},
                "t.yaml:11: model.input_dim:",
                "must be <= the teacher's width 8"},
        // missing required keys: at the line of the mapping that should hold them
        BadCase{"missing_name", {{1, B}}, "t.yaml:1: name:", "missing required key"},
        BadCase{"missing_kind", {{2, B}}, "t.yaml:1: kind:", "missing required key"},
        BadCase{"missing_depth", {{7, B}}, "t.yaml:4: grid.depth:", "missing required key"},
        BadCase{"missing_teacher", {{8, B}}, "t.yaml:4: grid.teacher:", "missing required key"},
        BadCase{"missing_grid",
                {{4, B}, {5, B}, {6, B}, {7, B}, {8, B}},
                "t.yaml:1: grid:",
                "missing required key"},
        // YAML syntax: yaml-cpp's mark, reported 1-based
        BadCase{"syntax", {{18, "    batch: 32"}}, "t.yaml:18:", "YAML syntax error"},
        BadCase{"syntax_flow", {{7, "  depth: [2, 4"}}, "t.yaml:8:", "YAML syntax error"},
        BadCase{"tab", {{10, "\twidth: 8"}}, "t.yaml:10:", "YAML syntax error"}),
    [](const testing::TestParamInfo<BadCase>& info) { return std::string(info.param.what); });

TEST(Errors, ExactMessage) {
  EXPECT_EQ(error_of(edit({{17, "  steps: 0"}})), "t.yaml:17: train.steps: must be >= 1 (got 0)");
}

TEST(Errors, MultipleDocuments) {
  EXPECT_TRUE(contains(error_of(std::string(kMinimal) + "---\nname: x\n"),
                       "t.yaml:7: expected one YAML document"));
}

TEST(Errors, EmptyFile) {
  EXPECT_EQ(error_of(""), "t.yaml:1: name: missing required key");
}

// ------------------------------------------------------------------------------------------
// Overrides

TEST(Overrides, Apply) {
  const auto j = cfg::parse_job(
      kBase, "t.yaml",
      {"train.steps=2000", "grid.depth=[6,12]", "train.lr.base=2.4e-3", "model.head=teacher",
       "grid.temperature={logspace: [-1, 0, 2]}", "train.student_temperature=true"});
  EXPECT_EQ(j.train.steps, 2000);
  EXPECT_EQ(j.grid.depth, (std::vector<int>{6, 12}));
  EXPECT_DOUBLE_EQ(j.train.lr.base, 2.4e-3);
  EXPECT_EQ(j.model.head, cfg::Head::Teacher);
  EXPECT_EQ(j.grid.temperature, (std::vector<double>{0.1, 1.0}));
  EXPECT_TRUE(j.train.student_temperature);
  EXPECT_EQ(j.yaml_text, kBase);  // the file text stays as it was
  EXPECT_TRUE(contains(j.effective, "  steps: 2000\n"));
}

TEST(Overrides, CreateAbsentKeys) {
  const auto j =
      cfg::parse_job(kMinimal, "m.yaml", {"run.unit_size=4", "model.width=16", "train.lr.base=1"});
  EXPECT_EQ(j.run.unit_size, 4);
  EXPECT_EQ(j.model.width, 16);
  EXPECT_EQ(j.train.lr.base, 1.0);
  // An override can also supply a required key the file lacks.
  const auto k =
      cfg::parse_job("name: n\nkind: toy\ngrid: {depth: [1]}\n", "n.yaml", {"grid.teacher=[0, 1]"});
  EXPECT_EQ(k.grid.teacher, (std::vector<int>{0, 1}));
  const auto e =
      cfg::parse_job("", "e.yaml", {"name=x", "kind=toy", "grid.depth=[2]", "grid.teacher=[0]"});
  EXPECT_EQ(e.name, "x");
}

TEST(Overrides, LastWins) {
  const auto j = cfg::parse_job(kMinimal, "m.yaml", {"train.steps=5", "train.steps=7"});
  EXPECT_EQ(j.train.steps, 7);
}

TEST(Overrides, UnknownKey) {
  const auto msg = error_of(kBase, {"train.stepz=5"});
  EXPECT_TRUE(contains(msg, "--set train.stepz=5: unknown key train.stepz")) << msg;
  EXPECT_TRUE(contains(msg, "did you mean train.steps?")) << msg;
  EXPECT_TRUE(
      contains(error_of(kBase, {"trian.steps=5"}), "unknown key trian (did you mean train?)"));
  // Below a leaf is unknown too.
  EXPECT_TRUE(contains(error_of(kBase, {"train.steps.x=5"}), "unknown key train.steps.x"));
}

TEST(Overrides, InvalidValueSaysSet) {
  EXPECT_EQ(error_of(kBase, {"train.steps=0"}),
            "t.yaml:(--set): train.steps: must be >= 1 (got 0)");
  EXPECT_EQ(error_of(kBase, {"grid.depth=[6,0]"}),
            "t.yaml:(--set): grid.depth[1]: depth must be >= 1 (got 0)");
  EXPECT_TRUE(
      contains(error_of(kBase, {"train.loss=ce"}), "t.yaml:(--set): train.loss: unknown value"));
  EXPECT_TRUE(contains(error_of(kMinimal, {"run.device=gpu"}), "t.yaml:(--set): run.device:"));
  EXPECT_TRUE(contains(error_of(kMinimal, {"grid.depth=[]"}), "t.yaml:(--set): grid.depth: empty"));
  EXPECT_TRUE(contains(error_of(kMinimal, {"train={steps: 0}"}), "t.yaml:(--set): train.steps:"));
  EXPECT_TRUE(contains(error_of(kMinimal, {"train.steps="}),
                       "t.yaml:(--set): train.steps: must be an integer (got null)"));
  // Errors elsewhere still carry the file's line.
  EXPECT_TRUE(
      contains(error_of(edit({{18, "  batch: 0"}}), {"train.steps=5"}), "t.yaml:18: train.batch:"));
}

TEST(Overrides, Malformed) {
  EXPECT_TRUE(contains(error_of(kBase, {"train.steps"}), "--set train.steps: expected key=value"));
  EXPECT_TRUE(contains(error_of(kBase, {"=5"}), "expected key=value"));
  EXPECT_TRUE(contains(error_of(kBase, {"train..steps=5"}), "expected key=value"));
  EXPECT_TRUE(contains(error_of(kBase, {"grid.depth=[6,"}),
                       "--set grid.depth=[6,: value is not valid YAML"));
  EXPECT_TRUE(contains(error_of("name: x\nkind: toy\ntrain: 5\n", {"train.steps=3"}),
                       "--set train.steps=3: cannot set train.steps: train is not a mapping"));
}

TEST(Overrides, ProbeMappingBySet) {
  const auto j = cfg::parse_job("name: p\nkind: probe\n", "p.yaml",
                                {"probe.models=[a, b]", "probe.shards=s.bin"});
  EXPECT_TRUE(contains(j.effective, "probe: {models: [a, b], shards: s.bin}")) << j.effective;
  EXPECT_EQ(j.probe.models.size(), 2u);
}

// ------------------------------------------------------------------------------------------
// The effective (canonical) form

TEST(Effective, ExactText) {
  const auto j = cfg::parse_job(kMinimal, "m.yaml");
  EXPECT_EQ(j.effective,
            "grid:\n"
            "  depth: [6, 12]\n"
            "  rho: [0]\n"
            "  teacher: [0]\n"
            "  temperature: [1]\n"
            "kind: toy\n"
            "model:\n"
            "  block: plain\n"
            "  head: trained\n"
            "  teacher_depth: 128\n"
            "  vocab: 128\n"
            "  width: 32\n"
            "name: m\n"
            "probe_hidden:\n"
            "  inputs: 2048\n"
            "run:\n"
            "  device: cpu\n"
            "  engine: fused\n"
            "  slice: 0/1\n"
            "  threads: 0\n"
            "  unit_size: 0\n"
            "seed: 0\n"
            "train:\n"
            "  batch: 1024\n"
            "  checkpoint_every: 2000\n"
            "  eval:\n"
            "    batches: 10\n"
            "    every: 0\n"
            "  inputs: shared\n"
            "  loss: kl\n"
            "  lr:\n"
            "    base: 0.0006\n"
            "    depth_scaling: none\n"
            "    schedule: constant\n"
            "  steps: 40000\n"
            "  student_temperature: false\n");
}

TEST(Effective, IndependentOfSpelling) {
  const auto a = cfg::parse_job(kMinimal, "a.yaml");
  const auto b = cfg::parse_job(
      "# same job, written differently\n"
      "grid: {teacher: [0], depth: [6, 12], rho: [0.0], temperature: [1.0]}\n"
      "train: {lr: {base: 6.0e-4}, steps: 40000}\n"
      "kind: toy\nname: m\nseed: 0\n",
      "b.yaml");
  EXPECT_EQ(a.effective, b.effective);
  EXPECT_EQ(cfg::incompatible_change(a, b), "");
}

TEST(Effective, RoundTrips) {
  const auto j = cfg::parse_job(kBase, "t.yaml", {"train.lr.base=0.0001234567891234567"});
  const auto again = cfg::parse_job(j.effective, "effective");
  EXPECT_EQ(again.effective, j.effective);
  EXPECT_EQ(again.grid.temperature, j.grid.temperature);  // bit-exact
  EXPECT_EQ(again.train.lr.base, j.train.lr.base);
  EXPECT_EQ(cfg::incompatible_change(j, again), "");
}

// ------------------------------------------------------------------------------------------
// Resume compatibility

TEST(Incompatible, Identical) {
  const auto a = cfg::parse_job(kBase, "t.yaml");
  EXPECT_EQ(cfg::incompatible_change(a, a), "");
}

TEST(Incompatible, AddedGridValuesAreFine) {
  const auto a = cfg::parse_job(kBase, "t.yaml");
  const auto b =
      cfg::parse_job(kBase, "t.yaml",
                     {"grid.depth=[2, 8, 4]", "grid.teacher=[0, 1, 2]",
                      "grid.temperature={logspace: [-2, 0, 7]}", "grid.rho=[1, 0.5, 0]"});
  EXPECT_EQ(cfg::incompatible_change(a, b), "");
  // logspace(-2, 0, 31) contains logspace(-2, 0, 16) exactly: growing a log grid is allowed.
  const auto c = cfg::parse_job(kBase, "t.yaml", {"grid.temperature={logspace: [-2, 0, 16]}"});
  const auto d = cfg::parse_job(kBase, "t.yaml", {"grid.temperature={logspace: [-2, 0, 31]}"});
  EXPECT_EQ(cfg::incompatible_change(c, d), "");
  EXPECT_NE(cfg::incompatible_change(d, c), "");
}

TEST(Incompatible, SettingChanged) {
  const auto a = cfg::parse_job(kMinimal, "m.yaml");
  const auto b = cfg::parse_job(kMinimal, "m.yaml", {"train.steps=2000"});
  EXPECT_EQ(cfg::incompatible_change(a, b), "train.steps changed from 40000 to 2000");
  const auto c = cfg::parse_job(kMinimal, "m.yaml", {"train.lr.base=1e-3"});
  EXPECT_EQ(cfg::incompatible_change(a, c), "train.lr.base changed from 0.0006 to 0.001");
  const auto d = cfg::parse_job(kMinimal, "m.yaml", {"run.device=cuda"});
  EXPECT_EQ(cfg::incompatible_change(a, d), "run.device changed from cpu to cuda");
  const auto e = cfg::parse_job(kMinimal, "m.yaml", {"seed=1"});
  EXPECT_EQ(cfg::incompatible_change(a, e), "seed changed from 0 to 1");
}

TEST(Incompatible, FirstKeyInCanonicalOrder) {
  const auto a = cfg::parse_job(kMinimal, "m.yaml");
  const auto b = cfg::parse_job(kMinimal, "m.yaml", {"train.steps=2000", "model.width=16"});
  EXPECT_EQ(cfg::incompatible_change(a, b), "model.width changed from 32 to 16");
}

TEST(Incompatible, RemovedGridValues) {
  const auto a = cfg::parse_job(kMinimal, "m.yaml");
  const auto b = cfg::parse_job(kMinimal, "m.yaml", {"grid.depth=[6]"});
  EXPECT_EQ(cfg::incompatible_change(a, b), "grid.depth changed from [6, 12] to [6] (removed 12)");
  const auto c = cfg::parse_job(kMinimal, "m.yaml", {"grid.rho=[0.5]"});
  EXPECT_EQ(cfg::incompatible_change(a, c), "grid.rho changed from [0] to [0.5] (removed 0)");
}

// What a resume does: the stored job_yaml parsed again (no overrides), with the stored effective.
TEST(Incompatible, UsesEffectiveText) {
  const auto run = cfg::parse_job(kMinimal, "m.yaml", {"grid.depth=[6]", "train.steps=20"});
  auto before = cfg::parse_job(run.yaml_text, "out.h5:/job_yaml");
  before.effective = run.effective;
  EXPECT_EQ(cfg::incompatible_change(before, run), "");
  EXPECT_EQ(
      cfg::incompatible_change(
          before, cfg::parse_job(kMinimal, "m.yaml", {"grid.depth=[6, 12]", "train.steps=20"})),
      "");
  EXPECT_EQ(
      cfg::incompatible_change(before, cfg::parse_job(kMinimal, "m.yaml", {"grid.depth=[6]"})),
      "train.steps changed from 20 to 40000");
  // Without a usable effective text the fields themselves are compared.
  before.effective = "not: [a job";
  EXPECT_EQ(cfg::incompatible_change(before, run),
            "grid.depth changed from [6, 12] to [6] (removed 12)");
}

TEST(Incompatible, OperationalSettingsMayChange) {
  const auto a = cfg::parse_job(kMinimal, "m.yaml");
  const auto b = cfg::parse_job(kMinimal, "m.yaml",
                                {"run.unit_size=3", "run.threads=2", "train.checkpoint_every=10"});
  EXPECT_EQ(cfg::incompatible_change(a, b), "");
}

// ------------------------------------------------------------------------------------------
// Expansion and keys

TEST(Expand, OrderAndKeys) {
  const auto j = cfg::parse_job(kBase, "t.yaml");
  const auto tasks = cfg::expand(j);
  ASSERT_EQ(tasks.size(), 2u * 2u * 4u * 2u);
  // rho outermost, then teacher, temperature, depth.
  EXPECT_EQ(tasks[0].key, "rho0_T0.01_t0_d2");
  EXPECT_EQ(tasks[1].key, "rho0_T0.01_t0_d4");
  EXPECT_EQ(tasks[2].key, "rho0_T0.046415888336127774_t0_d2");
  EXPECT_EQ(tasks[8].key, "rho0_T0.01_t1_d2");
  EXPECT_EQ(tasks[16].key, "rho1_T0.01_t0_d2");
  EXPECT_EQ(tasks.back().key, "rho1_T1_t1_d4");
  EXPECT_EQ(tasks[2].group(), "rho0_T0.046415888336127774_t0");
  EXPECT_EQ(tasks[2].teacher_key(), "rho0_t0");
  EXPECT_EQ(tasks[2].temperature, j.grid.temperature[1]);
  EXPECT_EQ(tasks[2].depth, 2);
  EXPECT_EQ(tasks[17].rho, 1.0);
  EXPECT_EQ(tasks[17].teacher, 0);
}

// Keys name files in the sidecar: a value whose plain decimal runs past 40 characters takes its
// exponent form instead (a 320-character key could not be written); every other key is as before.
TEST(Expand, LongNumbersKeepKeysShort) {
  auto key_of = [](const std::string& temperature, const std::string& rho) {
    std::string y = kBase;
    y.replace(y.find("{logspace: [-2, 0, 4]}"), 22, temperature);
    y.replace(y.find("rho: [0, 1]"), 11, "rho: " + rho);
    const auto tasks = cfg::expand(cfg::parse_job(y, "t.yaml"));
    return std::make_pair(tasks[0].key, tasks[0].teacher_key());
  };
  EXPECT_EQ(key_of("[1.0e-300]", "[0]").first, "rho0_T1e-300_t0_d2");
  EXPECT_EQ(key_of("[1.25e-300]", "[0]").first, "rho0_T1.25e-300_t0_d2");
  EXPECT_EQ(key_of("[1.0e+300]", "[0]").first, "rho0_T1e300_t0_d2");
  const auto tiny_rho = key_of("[1]", "[1.0e-300]");
  EXPECT_EQ(tiny_rho.first, "rho1e-300_T1_t0_d2");
  EXPECT_EQ(tiny_rho.second, "rho1e-300_t0");
  // 40 characters and fewer: the plain decimal, as every key before.
  EXPECT_EQ(key_of("[1.0e-38]", "[0]").first, "rho0_T0." + std::string(37, '0') + "1_t0_d2");
  EXPECT_EQ(key_of("[1.0e-39]", "[0]").first, "rho0_T1e-39_t0_d2");
  EXPECT_EQ(key_of("[1.0e+39]", "[0]").first, "rho0_T1" + std::string(39, '0') + "_t0_d2");
  EXPECT_EQ(key_of("[0.00012345678901234567]", "[0]").first, "rho0_T0.00012345678901234567_t0_d2");
  EXPECT_EQ(key_of("[1.0e+40]", "[0]").first, "rho0_T1e40_t0_d2");
}

// The axes beyond the study's: their key parts appear only when given; teacher groups K = 1 and
// K = ℓ* are the ρ = 1 and ρ = 0 teachers (their teacher keys, so their draws and inputs).
TEST(Expand, WidthTeacherDepthAndGroupsAxes) {
  const auto j = cfg::parse_job(
      "name: g\nkind: toy\ngrid: {teacher_groups: [1, 2, 8], teacher: [0], depth: [2, 4],\n"
      "       width: [4, 12]}\nmodel: {width: 8, teacher_depth: 8}\n",
      "g.yaml");
  const auto tasks = cfg::expand(j);
  ASSERT_EQ(tasks.size(), 3u * 2u * 2u);
  // groups outermost, then (teacher depth, replicate, temperature,) width, depth.
  EXPECT_EQ(tasks[0].key, "K1_T1_t0_m4_d2");
  EXPECT_EQ(tasks[1].key, "K1_T1_t0_m4_d4");
  EXPECT_EQ(tasks[2].key, "K1_T1_t0_m12_d2");
  EXPECT_EQ(tasks[4].key, "K2_T1_t0_m4_d2");
  EXPECT_EQ(tasks[0].teacher_key(), "rho1_t0");
  EXPECT_EQ(tasks[4].teacher_key(), "K2_t0");
  EXPECT_EQ(tasks[8].teacher_key(), "rho0_t0");
  EXPECT_EQ(tasks[0].rho, 1.0);
  EXPECT_EQ(tasks[4].rho, 1.0);
  EXPECT_EQ(tasks[8].rho, 0.0);
  EXPECT_EQ(tasks[8].teacher_groups, 8);
  EXPECT_EQ(tasks[2].width, 12);
  EXPECT_EQ(tasks[2].teacher_depth, 8);
  EXPECT_EQ(tasks[2].group(), "K1_T1_t0_m12");
  EXPECT_EQ(tasks[2].cell(), "K1_T1_m12");
  // The teacher's width stays model.width's (8) unless model.teacher_width says otherwise.
  EXPECT_EQ(j.model.teacher_width, 8);
  // Keys come back from the parameters a sweep file records.
  for (const auto& t : tasks) {
    const auto back = cfg::ToyTask::from_params(t.params(), j.model);
    EXPECT_EQ(back.key, t.key);
    EXPECT_EQ(back.teacher_key(), t.teacher_key());
  }

  const auto d = cfg::parse_job(kBase, "t.yaml", {"grid.teacher_depth=[4, 16]"});
  const auto dt = cfg::expand(d);
  ASSERT_EQ(dt.size(), 2u * 2u * 2u * 4u * 2u);
  EXPECT_EQ(dt[0].key, "rho0_L4_T0.01_t0_d2");
  EXPECT_EQ(dt[0].teacher_key(), "rho0_L4_t0");
  EXPECT_EQ(dt[16].teacher_depth, 16);
  EXPECT_EQ(cfg::ToyTask::from_params(dt[16].params(), d.model).key, dt[16].key);
  // A job without the new axes keeps its old keys, parameters and effective text.
  const auto plain = cfg::parse_job(kBase, "t.yaml");
  EXPECT_EQ(cfg::expand(plain)[0].params().size(), 4u);
  EXPECT_EQ(plain.effective.find("teacher_width"), std::string::npos);
  EXPECT_EQ(plain.effective.find("teacher_groups"), std::string::npos);
  // Adding a width axis to a finished job is a change (its keys differ), named as such.
  const auto wide = cfg::parse_job(kBase, "t.yaml", {"grid.width=[8]"});
  EXPECT_EQ(cfg::incompatible_change(plain, wide), "grid.width changed from (absent) to [8]");
}

TEST(Expand, KeysUniqueAndSafe) {
  const auto j = cfg::parse_job(
      kBase, "t.yaml",
      {"grid.temperature={logspace: [-3, 1, 200]}", "grid.rho={linspace: [0, 1, 11]}"});
  const auto tasks = cfg::expand(j);
  std::set<std::string> keys, groups;
  for (const auto& t : tasks) {
    keys.insert(t.key);
    groups.insert(t.group());
    EXPECT_EQ(t.key, t.group() + "_d" + std::to_string(t.depth));
    EXPECT_EQ(t.key.find('/'), std::string::npos);
    EXPECT_EQ(t.key.find('e'), std::string::npos) << t.key;
    EXPECT_NE(t.key, ".");
  }
  EXPECT_EQ(keys.size(), tasks.size());
  EXPECT_EQ(groups.size(), tasks.size() / j.grid.depth.size());
}

TEST(Expand, KeysStableAcrossParses) {
  const auto a = cfg::expand(cfg::parse_job(kBase, "t.yaml"));
  const auto b = cfg::expand(cfg::parse_job(cfg::parse_job(kBase, "t.yaml").effective, "e"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].key, b[i].key);
}

TEST(FormatNumber, Forms) {
  EXPECT_EQ(cfg::format_number(0.01), "0.01");
  EXPECT_EQ(cfg::format_number(1.0), "1");
  EXPECT_EQ(cfg::format_number(0.5), "0.5");
  EXPECT_EQ(cfg::format_number(0.0), "0");
  EXPECT_EQ(cfg::format_number(-0.0), "0");
  EXPECT_EQ(cfg::format_number(40000), "40000");
  EXPECT_EQ(cfg::format_number(6e-4), "0.0006");
  EXPECT_EQ(cfg::format_number(1e-5), "0.00001");
  EXPECT_EQ(cfg::format_number(-2.5), "-2.5");
  EXPECT_EQ(cfg::format_number(123.456), "123.456");
  EXPECT_EQ(cfg::format_number(1.5e20), "150000000000000000000");
  EXPECT_EQ(cfg::format_number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(cfg::format_number(std::pow(10.0, -5.0 / 3.0)), "0.021544346900318832");
}

TEST(FormatNumber, RoundTrips) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> expo(-12, 12);
  for (int i = 0; i < 2000; ++i) {
    const double v = std::pow(10.0, expo(rng)) * (i % 2 ? 1 : -1);
    const std::string s = cfg::format_number(v);
    double back = 0;
    std::from_chars(s.data(), s.data() + s.size(), back);
    ASSERT_EQ(back, v) << s;
    ASSERT_EQ(s.find('e'), std::string::npos) << s;
  }
}

// numpy 1.24: np.logspace / np.linspace, printed with repr().
TEST(Spaces, MatchNumpy) {
  const std::vector<double> log16 = {0.01,
                                     0.013593563908785255,
                                     0.018478497974222904,
                                     0.025118864315095794,
                                     0.034145488738336005,
                                     0.046415888336127774,
                                     0.06309573444801933,
                                     0.0857695898590894,
                                     0.11659144011798317,
                                     0.15848931924611132,
                                     0.21544346900318834,
                                     0.29286445646252357,
                                     0.3981071705534973,
                                     0.5411695265464637,
                                     0.7356422544596414,
                                     1.0};
  const std::vector<double> log9 = {0.001,
                                    0.0031622776601683794,
                                    0.01,
                                    0.03162277660168379,
                                    0.09999999999999999,
                                    0.31622776601683794,
                                    1.0,
                                    3.162277660168379,
                                    10.0};
  const std::vector<double> logdown = {3.162277660168379, 1.0, 0.31622776601683794,
                                       0.09999999999999999, 0.03162277660168379};
  auto check = [](const std::vector<double>& got, const std::vector<double>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_LE(std::abs(got[i] - want[i]), 1e-15 * std::abs(want[i])) << i;
  };
  check(cfg::logspace(-2, 0, 16), log16);
  check(cfg::logspace(-3, 1, 9), log9);
  check(cfg::logspace(0.5, -1.5, 5), logdown);
  check(cfg::logspace(-2, 0, 1), {0.01});
  check(cfg::linspace(0.1, 0.7, 7), {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7});
  check(cfg::linspace(0, 1, 3), {0, 0.5, 1});
  check(cfg::linspace(2, 3, 1), {2});
  // The endpoints are exact, as in numpy.
  EXPECT_EQ(cfg::logspace(-2, 0, 16).front(), 0.01);
  EXPECT_EQ(cfg::logspace(-2, 0, 16).back(), 1.0);
}

// ------------------------------------------------------------------------------------------
// The shipped job files

TEST(JobFiles, AllValidate) {
  const std::filesystem::path dir = std::filesystem::path(DEPTHSCALE_SOURCE_DIR) / "jobs";
  int n = 0;
  // Every job file of jobs/ and jobs/beyond/ (jobs/paper/ holds published values beside its job).
  std::vector<std::filesystem::directory_entry> entries;
  for (const auto& folder : {dir, dir / "beyond"})
    for (const auto& entry : std::filesystem::directory_iterator(folder)) entries.push_back(entry);
  for (const auto& entry : entries) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    ++n;
    cfg::Job j;
    ASSERT_NO_THROW(j = cfg::load_job(entry.path().string()));
    EXPECT_EQ(cfg::parse_job(j.effective, "effective").effective, j.effective);
    if (j.kind == cfg::JobKind::Toy) {
      const auto tasks = cfg::expand(j);
      EXPECT_FALSE(tasks.empty());
      std::set<std::string> keys;
      for (const auto& t : tasks) keys.insert(t.key);
      EXPECT_EQ(keys.size(), tasks.size());
    }
  }
  EXPECT_GE(n, 10);
}

TEST(JobFiles, PaperSettings) {
  const std::string dir = std::string(DEPTHSCALE_SOURCE_DIR) + "/jobs/";
  const std::vector<int> depths = {6, 12, 16, 24, 32, 48};
  const auto e9 = cfg::load_job(dir + "exp9.yaml");
  EXPECT_EQ(cfg::expand(e9).size(), 288u);
  EXPECT_EQ(e9.grid.rho, std::vector<double>{0});
  EXPECT_EQ(e9.grid.depth, depths);
  EXPECT_EQ(e9.grid.temperature, cfg::logspace(-2, 0, 16));
  EXPECT_EQ(e9.model.head, cfg::Head::Trained);
  EXPECT_EQ(e9.train.steps, 40000);
  EXPECT_EQ(e9.train.lr.base, 6e-4);
  EXPECT_EQ(e9.train.eval.every, 0);

  const auto e91 = cfg::load_job(dir + "exp9-1.yaml");
  EXPECT_EQ(e91.grid.rho, std::vector<double>{1});
  EXPECT_EQ(cfg::incompatible_change(e9, e91), "grid.rho changed from [0] to [1] (removed 0)");

  const auto e93 = cfg::load_job(dir + "exp9-3.yaml");
  EXPECT_EQ(e93.model.head, cfg::Head::Teacher);
  EXPECT_TRUE(e93.train.student_temperature);
  EXPECT_EQ(e93.train.lr.base, 2.4e-3);
  EXPECT_EQ(e93.train.lr.depth_scaling, cfg::DepthScaling::InvSqrt);
  EXPECT_EQ(e93.train.lr.schedule, cfg::Schedule::LinearTail);
  EXPECT_EQ(e93.train.steps, 80000);
  EXPECT_EQ(e93.train.eval.every, 500);
  EXPECT_EQ(cfg::expand(e93).size(), 288u);

  for (const char* name : {"exp9-2", "exp9-4", "exp9-5", "exp9-6"}) {
    SCOPED_TRACE(name);
    const auto j = cfg::load_job(dir + name + ".yaml");
    EXPECT_EQ(j.train.loss, cfg::Loss::Mse);
    EXPECT_EQ(j.model.head, cfg::Head::None);
    EXPECT_EQ(j.grid.rho, (std::vector<double>{0, 1}));
    EXPECT_EQ(j.grid.teacher, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(j.train.lr.base, 1.2e-3);
    EXPECT_EQ(j.train.lr.depth_scaling, cfg::DepthScaling::InvSqrt);
    EXPECT_EQ(j.train.lr.schedule, cfg::Schedule::LinearTail);
    EXPECT_EQ(j.train.eval.every, 500);
    EXPECT_EQ(cfg::expand(j).size(), 36u);
  }
  EXPECT_EQ(cfg::load_job(dir + "exp9-2.yaml").train.steps, 40000);
  EXPECT_EQ(cfg::load_job(dir + "exp9-6.yaml").train.steps, 80000);
  const auto e95 = cfg::load_job(dir + "exp9-5.yaml");
  EXPECT_EQ(e95.model.teacher_depth, 24);
  EXPECT_EQ(e95.train.steps, 40000);
  const auto e94 = cfg::load_job(dir + "exp9-4.yaml");
  EXPECT_EQ(e94.model.block, cfg::Block::Rk2);
  EXPECT_EQ(e94.grid.depth, (std::vector<int>{3, 6, 8, 12, 16, 24}));
  EXPECT_EQ(e94.train.steps, 80000);
}

// run.slice (job-array shape) and run.engine (fused / autograd / batched training step).
TEST(Run, SliceAndEngine) {
  const auto j = cfg::parse_job(kMinimal, "m.yaml", {"run.slice=2/8", "run.engine=autograd"});
  EXPECT_EQ(j.run.slice_index, 2);
  EXPECT_EQ(j.run.slice_count, 8);
  EXPECT_EQ(j.run.engine, cfg::Engine::Autograd);
  EXPECT_TRUE(contains(error_of(kMinimal, {"run.slice=8/8"}),
                       "t.yaml:(--set): run.slice: must be \"i/n\" with 0 <= i < n (got \"8/8\")"));
  EXPECT_TRUE(contains(error_of(kMinimal, {"run.slice=two"}), "run.slice: must be \"i/n\""));
  EXPECT_TRUE(contains(error_of(kMinimal, {"run.engine=jit"}), "t.yaml:(--set): run.engine:"));
  EXPECT_TRUE(contains(error_of(kMinimal, {"run.engine=jit"}), "fused, autograd, batched"));
  EXPECT_EQ(cfg::parse_job(kMinimal, "m.yaml", {"run.engine=batched"}).run.engine,
            cfg::Engine::Batched);
  // The engine may change on resume (same numbers to rounding); the slice may not.
  const auto a = cfg::parse_job(kMinimal, "m.yaml");
  EXPECT_EQ(
      cfg::incompatible_change(a, cfg::parse_job(kMinimal, "m.yaml", {"run.engine=autograd"})), "");
  EXPECT_NE(cfg::incompatible_change(a, cfg::parse_job(kMinimal, "m.yaml", {"run.slice=1/2"})), "");
}

// ------------------------------------------------------------------------------------------
// Identity: what determines the results, and nothing else

TEST(Identity, IgnoresOperationalKeysSliceAndGridLists) {
  const auto a = cfg::parse_job(kMinimal, "a.yaml");
  const std::string id = cfg::job_identity(a);
  EXPECT_EQ(id.size(), 16u);
  for (const char* same :
       {"run.threads=3", "run.unit_size=4", "run.engine=autograd", "train.checkpoint_every=7",
        "run.slice=1/2", "grid.depth=[6, 12, 24]", "grid.teacher=[0, 1]"}) {
    EXPECT_EQ(cfg::job_identity(cfg::parse_job(kMinimal, "b.yaml", {same})), id) << same;
  }
  for (const char* other : {"seed=1", "train.steps=300", "model.width=16", "name=n",
                            "train.lr.base=0.001", "run.device=cuda"}) {
    EXPECT_NE(cfg::job_identity(cfg::parse_job(kMinimal, "b.yaml", {other})), id) << other;
  }
  // The same job written differently has the same identity.
  const auto b = cfg::parse_job(
      "grid: {teacher: [0], depth: [6, 12], rho: [0.0], temperature: [1.0]}\n"
      "train: {lr: {base: 6.0e-4}, steps: 40000}\n"
      "kind: toy\nname: m\nseed: 0\n",
      "b.yaml");
  EXPECT_EQ(cfg::job_identity(b), id);
  // A task's identity combines the job's with its key.
  EXPECT_NE(cfg::task_identity(a, "rho0_T1_t0_d6"), cfg::task_identity(a, "rho0_T1_t0_d12"));
  EXPECT_EQ(cfg::task_identity(a, "rho0_T1_t0_d6"), cfg::task_identity(b, "rho0_T1_t0_d6"));
}
