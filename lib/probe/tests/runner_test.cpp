// The probe runner's checks of a job's files: a missing model folder or shard names the job file,
// the line and the key.
#include <gtest/gtest.h>

#include <filesystem>

#include "config/job.hpp"
#include "probe/runner.hpp"

namespace cfg = depthscale::config;
namespace probe = depthscale::probe;

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

}  // namespace

TEST(ProbeJob, MissingPathsAreNamed) {
  const auto s = cfg::parse_job(kJob, "job.yaml").probe;
  try {
    probe::resolve_models(s);
    FAIL() << "expected JobError";
  } catch (const cfg::JobError& e) {
    EXPECT_EQ(std::string(e.what()),
              "job.yaml:5: probe.models[0].path: /nowhere/tiny does not exist (point it at your "
              "copy of the model: a Hugging Face model folder with config.json and "
              "*.safetensors or pytorch_model*.bin)");
  }
  try {
    probe::expand_shards(s.shards, s.shards_where);
    FAIL() << "expected JobError";
  } catch (const cfg::JobError& e) {
    EXPECT_EQ(std::string(e.what()),
              "job.yaml:7: probe.shards: no file matches /nowhere/shards_*.bin");
  }
}

TEST(ProbeJob, ShippedJobFilesNameMissingModels) {
  const std::string dir = std::string(DEPTHSCALE_SOURCE_DIR) + "/jobs/";
  for (const char* file : {"pythia-scan.yaml", "qwen2.5.yaml", "opt.yaml"}) {
    SCOPED_TRACE(file);
    const std::string path = dir + file;
    const cfg::ProbeSpec s = cfg::load_job(path).probe;
    // The placeholders are not on this machine: resolving names the first missing one, honestly.
    if (!std::filesystem::exists(s.models.front().path)) {
      try {
        probe::resolve_models(s);
        ADD_FAILURE() << "expected JobError";
      } catch (const cfg::JobError& e) {
        EXPECT_NE(std::string(e.what()).find(path + ":"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(s.models.front().path + " does not exist"),
                  std::string::npos)
            << e.what();
      }
    }
  }
}
