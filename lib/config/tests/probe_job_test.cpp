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
            "keep_separator)");
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

TEST(ProbeJob, ResumeCompatibility) {
  const auto a = cfg::parse_job(kJob, "job.yaml");
  EXPECT_EQ(cfg::incompatible_change(a, a), "");
  EXPECT_EQ(cfg::incompatible_change(a, cfg::parse_job(kJob, "job.yaml", {"probe.batch=16"})),
            "probe.batch changed from 8 to 16");
  EXPECT_EQ(cfg::incompatible_change(a, cfg::parse_job(kJob, "job.yaml", {"probe.dtype=bfloat16"})),
            "the dtype changed from float32 to bfloat16");
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
