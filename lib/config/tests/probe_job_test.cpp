// The `probe:` schema of kind-probe job files: errors name file, line and dotted key; --set
// overrides; the shipped jobs/ files validate; resume compatibility.
#include <gtest/gtest.h>

#include "config/job.hpp"

namespace cfg = depthscale::config;

namespace {

const char* kJob = R"(name: p
kind: probe
probe:
  models:
    - {name: tiny, path: /nowhere/tiny}
    - /nowhere/other-model
  shards: /nowhere/shards_*.bin
  documents: 96
  batch: 8
)";

cfg::ProbeSpec spec_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return cfg::parse_job(text, "job.yaml", overrides).probe;
}

// The JobError message, or "" when accepted.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    spec_of(text, overrides);
  } catch (const cfg::JobError& e) {
    return e.what();
  }
  return "";
}

std::string with(const std::string& extra) {
  return std::string(kJob) + extra;
}

}  // namespace

TEST(ProbeJob, Accepted) {
  const auto s = spec_of(kJob);
  ASSERT_EQ(s.models.size(), 2u);
  EXPECT_EQ(s.models[0].name, "tiny");
  EXPECT_EQ(s.models[0].path, "/nowhere/tiny");
  EXPECT_EQ(s.models[1].name, "other-model");  // a plain path is named by its folder
  EXPECT_EQ(s.shards, std::vector<std::string>{"/nowhere/shards_*.bin"});
  EXPECT_EQ(s.documents, 96);
  EXPECT_EQ(s.batch, 8);
  EXPECT_EQ(s.max_tokens, 1024);
  EXPECT_EQ(s.effective_dtype(), "float32");
  EXPECT_TRUE(s.store_per_token);
  EXPECT_EQ(spec_of(with("  device: cuda\n")).effective_dtype(), "bfloat16");
}

TEST(ProbeJob, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of(with("  bach: 8\n")),
            "job.yaml:10: probe.bach: unknown key (did you mean probe.batch?)");
  EXPECT_EQ(error_of(with("  max_tokens: 1\n")),
            "job.yaml:10: probe.max_tokens: must be >= 2 (got 1)");
  EXPECT_EQ(error_of(with("  dtype: fp8\n")),
            "job.yaml:10: probe.dtype: unknown value 'fp8' (allowed: float32, bfloat16, float16)");
  EXPECT_EQ(error_of(with("  store_per_token: maybe\n")),
            "job.yaml:10: probe.store_per_token: must be true or false (got 'maybe')");
  EXPECT_EQ(error_of(with("  batch: 4\n")),
            "job.yaml:10: probe.batch: duplicate key (first at line 9)");
  // Inside a model entry: the entry's own key.
  EXPECT_EQ(error_of(R"(name: p
kind: probe
probe:
  shards: s.bin
  models:
    - {name: a, path: /x}
    - {name: b, pth: /y}
)"),
            "job.yaml:7: probe.models[1].pth: unknown key (did you mean probe.models[1].path?)");
  EXPECT_EQ(error_of(R"(name: p
kind: probe
probe:
  shards: s.bin
  models:
    - {name: a, path: /x}
    - {name: a, path: /y}
)"),
            "job.yaml:7: probe.models[1]: duplicate model name 'a' (names must be unique)");
  EXPECT_EQ(error_of("name: p\nkind: probe\nprobe:\n  shards: s.bin\n"),
            "job.yaml:3: probe.models: missing required key (a list of model folders)");
  EXPECT_EQ(error_of("name: p\nkind: probe\nprobe:\n  models: [/x/m]\n"),
            "job.yaml:3: probe.shards: missing required key (token shards for m)");
  EXPECT_EQ(error_of("name: p\nkind: probe\n"),
            "job.yaml: probe: missing required key (kind probe needs probe.models and "
            "probe.shards)");
  EXPECT_EQ(error_of("name: p\nkind: probe\nprobe:\n  shards: s.bin\n  models:\n    - {name: "
                     "'a/b', path: /x}\n"),
            "job.yaml:6: probe.models[0].name: must be letters, digits, '-', '_' or '.' (got "
            "'a/b')");
}

TEST(ProbeJob, Overrides) {
  const auto s = spec_of(kJob, {"probe.batch=4", "probe.store_per_token=false"});
  EXPECT_EQ(s.batch, 4);
  EXPECT_FALSE(s.store_per_token);
  EXPECT_EQ(error_of(kJob, {"probe.batch=0"}),
            "job.yaml:(--set): probe.batch: must be >= 1 (got 0)");
  EXPECT_EQ(error_of(kJob, {"probe.colour=red"}),
            "job.yaml:(--set): probe.colour: unknown key (known: models, shards, documents, "
            "max_tokens, batch, dtype, device, store_per_token, check_tokenizer, separator, "
            "keep_separator, last_hidden, metrics, angles, early_stop_pc1)");
  // Keys the override did not touch keep their lines.
  EXPECT_EQ(error_of(with("  dtype: fp8\n"), {"probe.batch=2"}),
            "job.yaml:10: probe.dtype: unknown value 'fp8' (allowed: float32, bfloat16, float16)");
}

TEST(ProbeJob, ShippedJobFilesValidate) {
  const std::string dir = std::string(DEPTHSCALE_SOURCE_DIR) + "/jobs/";
  struct Expect {
    const char* file;
    size_t models;
    int batch;
    const char* first;
  };
  for (const Expect& x :
       {Expect{"pythia-scan.yaml", 8, 48, "pythia-70m"},
        Expect{"qwen2.5.yaml", 5, 24, "qwen2.5-0.5b"}, Expect{"opt.yaml", 5, 48, "opt-125m"}}) {
    SCOPED_TRACE(x.file);
    cfg::Job job;
    ASSERT_NO_THROW(job = cfg::load_job(dir + x.file));
    const cfg::ProbeSpec& s = job.probe;
    EXPECT_EQ(s.models.size(), x.models);
    EXPECT_EQ(s.models.front().name, x.first);
    EXPECT_EQ(s.batch, x.batch);
    EXPECT_EQ(s.documents, 4800);
    EXPECT_EQ(s.max_tokens, 1024);
    EXPECT_EQ(s.effective_dtype(), "bfloat16");
    // Where a missing model folder will be reported: the job file and the entry's line.
    EXPECT_EQ(s.models.front().path_where.rfind(dir + x.file + ":", 0), 0u)
        << s.models.front().path_where;
  }
}

// The study's conventions by default; every choice validated with the file, line and key.
TEST(ProbeJob, AnalysisKeys) {
  const auto d = spec_of(kJob);
  EXPECT_EQ(d.last_hidden, cfg::LastHidden::FinalNorm);
  EXPECT_EQ(d.metrics, cfg::kProbeMetrics);
  EXPECT_EQ(d.angles, cfg::AnglePrecision::Float64);
  EXPECT_EQ(d.early_stop_pc1, 0.5);
  EXPECT_TRUE(d.computes("cross_entropy"));
  const auto s =
      spec_of(with("  last_hidden: last_block\n  metrics: [proj_s, theta, norms]\n"
                   "  angles: bfloat16\n  early_stop_pc1: 0.25\n"));
  EXPECT_EQ(s.last_hidden, cfg::LastHidden::LastBlock);
  EXPECT_EQ(s.metrics, (std::vector<std::string>{"norms", "theta", "proj_s"}));  // file order
  EXPECT_FALSE(s.computes("cross_entropy"));
  EXPECT_EQ(s.angles, cfg::AnglePrecision::BFloat16);
  EXPECT_EQ(s.early_stop_pc1, 0.25);
  EXPECT_EQ(error_of(with("  last_hidden: after\n")),
            "job.yaml:10: probe.last_hidden: unknown value 'after' (allowed: final_norm, "
            "last_block)");
  EXPECT_EQ(error_of(with("  metrics: [theta, loss]\n")),
            "job.yaml:10: probe.metrics: unknown metric 'loss' (allowed: norms, theta, theta_dh, "
            "angle_to_end, cross_entropy, proj_s)");
  EXPECT_EQ(error_of(with("  metrics: [norms]\n")),
            "job.yaml:10: probe.metrics: must include theta (the θ PCA and the early-stop "
            "statistic need it)");
  EXPECT_EQ(error_of(with("  angles: fp8\n")),
            "job.yaml:10: probe.angles: unknown value 'fp8' (allowed: float64, bfloat16)");
}

TEST(ProbeJob, ResumeCompatibility) {
  const auto a = cfg::parse_job(kJob, "job.yaml");
  EXPECT_EQ(cfg::incompatible_change(a, a), "");
  EXPECT_EQ(cfg::incompatible_change(a, cfg::parse_job(kJob, "job.yaml", {"probe.batch=16"})),
            "probe.batch changed from 8 to 16");
  EXPECT_EQ(cfg::incompatible_change(a, cfg::parse_job(kJob, "job.yaml", {"probe.dtype=bfloat16"})),
            "the dtype changed from float32 to bfloat16");
  EXPECT_EQ(cfg::incompatible_change(
                a, cfg::parse_job(kJob, "job.yaml", {"probe.last_hidden=last_block"})),
            "probe.last_hidden changed from final_norm to last_block");
  EXPECT_EQ(cfg::incompatible_change(
                a, cfg::parse_job(kJob, "job.yaml", {"probe.metrics=[theta, norms]"})),
            "probe.metrics changed from [norms, theta, theta_dh, angle_to_end, cross_entropy, "
            "proj_s] to [norms, theta]");
  EXPECT_EQ(
      cfg::incompatible_change(a, cfg::parse_job(kJob, "job.yaml", {"probe.angles=bfloat16"})),
      "probe.angles changed from float64 to bfloat16");
  // A model added to the scan, or the device changed with the dtype pinned, is fine.
  EXPECT_EQ(cfg::incompatible_change(
                a, cfg::parse_job(with("  dtype: float32\n  device: cuda\n"), "job.yaml")),
            "");
  const std::string more = R"(name: p
kind: probe
probe:
  models:
    - {name: tiny, path: /nowhere/tiny}
    - /nowhere/other-model
    - /nowhere/third
  shards: /nowhere/shards_*.bin
  documents: 96
  batch: 8
)";
  EXPECT_EQ(cfg::incompatible_change(a, cfg::parse_job(more, "job.yaml")), "");
}
