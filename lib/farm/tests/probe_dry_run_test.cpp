// `depthscale run --dry-run` of a probe job (farm/probe_sweep.cpp): the cost table from model
// folders holding only config.json, with and without the shards, against probe/cost.hpp's numbers;
// a folder without config.json is still an error naming it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/job.hpp"
#include "farm/kinds.hpp"
#include "log/log.hpp"
#include "probe/cost.hpp"
#include "probe/model.hpp"
#include "probe/shards.hpp"

namespace depthscale::farm {
namespace {

namespace fs = std::filesystem;

const char* kPythia70m = R"({"model_type": "gpt_neox", "hidden_size": 512, "num_hidden_layers": 6,
  "num_attention_heads": 8, "intermediate_size": 2048, "vocab_size": 50304, "rotary_pct": 0.25,
  "max_position_embeddings": 2048, "use_parallel_residual": true, "tie_word_embeddings": false})";

class ProbeDryRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ds-probe-dry-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "p70");
    std::ofstream(dir_ / "p70" / "config.json") << kPythia70m;  // no weights, no tokenizer
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string job_text(const std::string& model_dir) const {
    return "name: dry\nkind: probe\nseed: 1\nprobe:\n  models: [{name: p70, path: " + model_dir +
           "}]\n  shards: " + (dir_ / "shards_*.bin").string() +
           "\n  documents: 96\n  max_tokens: 256\n  batch: 48\n";
  }

  // The dry run's text, as `depthscale run JOB --dry-run` prints it on one rank.
  std::string dry_run(const std::string& text) const {
    const auto job = config::parse_job(text, "job.yaml");
    RunOptions opt;
    opt.dry_run = true;
    auto kind = make_probe_sweep(job, (dir_ / "out.h5").string(), opt);
    kind->check_inputs();
    kind->plan(nullptr, opt, 1);
    return kind->dry_run_report(1);
  }

  // The cost table's row of model p70, split on blanks.
  static std::vector<std::string> cost_row(const std::string& report) {
    std::vector<std::string> row;
    std::istringstream in(report.substr(report.find("cost of the batches")));
    for (std::string line; std::getline(in, line);)
      if (line.rfind("p70 ", 0) == 0) {
        std::istringstream fields(line);
        for (std::string f; fields >> f;) row.push_back(f);
        break;
      }
    return row;
  }

  fs::path dir_;
};

// Columns: model family layers d params weightGB documents tokens count fwd ro total peak GFLOP/s
// time.
void expect_numbers(const std::vector<std::string>& row, const probe::ProbeCost& cost,
                    const probe::ProbeCost& memory, const std::string& tokens,
                    const std::string& count) {
  ASSERT_GE(row.size(), 15u);
  EXPECT_EQ(row[1], "gpt_neox");
  EXPECT_EQ(row[2], "6");
  EXPECT_EQ(row[3], "512");
  EXPECT_EQ(row[4], "70.4M");
  EXPECT_EQ(row[5], "0.28");
  EXPECT_EQ(row[6], "96");
  EXPECT_EQ(row[7], tokens);
  EXPECT_EQ(row[8], count);
  EXPECT_EQ(row[9], log::sprintf("%.4g", cost.forward_flops / 1e12));
  EXPECT_EQ(row[10], log::sprintf("%.4g", cost.readout_flops / 1e12));
  EXPECT_EQ(row[11], log::sprintf("%.4g", cost.total_flops() / 1e12));
  EXPECT_EQ(row[12], log::sprintf("%.2f", memory.memory.peak / double(1 << 30)));
  EXPECT_GT(std::stod(row[13]), 0.0) << "a measured GFLOP/s";
}

TEST_F(ProbeDryRun, ConfigJsonAloneWithoutShards) {
  const std::string report = dry_run(job_text((dir_ / "p70").string()));
  std::cout << report;
  EXPECT_NE(report.find("no file matches"), std::string::npos) << "the absent shards are named";
  EXPECT_NE(report.find("time = FLOPs / the matmul rate measured here"), std::string::npos);
  const auto c = probe::read_config((dir_ / "p70").string());
  const auto w = probe::workload_upper_bound(96, 256, 48, c.vocab_size);
  const auto cost = probe::probe_cost(c, w);
  expect_numbers(cost_row(report), cost, cost, "24576", "bound");
}

TEST_F(ProbeDryRun, ExactTokensFromTheShards) {
  // 96 documents: lengths 3, 10, 17, ... (mod 300), truncated to max_tokens 256.
  std::vector<std::vector<uint32_t>> docs;
  std::vector<int64_t> lengths;
  for (int i = 0; i < 96; ++i) {
    const int n = 3 + (i * 7) % 300;
    docs.emplace_back(size_t(n), uint32_t(1 + i));
    lengths.push_back(std::min(n, 256));
  }
  probe::write_shard((dir_ / "shards_000000.bin").string(), 50304, 0, 0, docs);
  const std::string report = dry_run(job_text((dir_ / "p70").string()));
  const auto c = probe::read_config((dir_ / "p70").string());
  const auto w = probe::workload_of(lengths, 48, c.vocab_size);
  EXPECT_TRUE(w.exact);
  const auto cost = probe::probe_cost(c, w);
  int64_t tokens = 0;
  for (auto n : lengths) tokens += n;
  expect_numbers(cost_row(report), cost, cost, std::to_string(tokens), "exact");
  EXPECT_EQ(report.find("no file matches"), std::string::npos);
  // The shard records no tokenizer and the folder has none: the run would refuse the model, and
  // the dry run says so while still counting its documents.
  EXPECT_NE(report.find("p70: the run will refuse it: "), std::string::npos) << report;
  EXPECT_NE(report.find("depthscale tokenize"), std::string::npos) << report;
}

TEST_F(ProbeDryRun, MissingConfigJsonIsAnError) {
  fs::create_directories(dir_ / "empty");
  try {
    dry_run(job_text((dir_ / "empty").string()));
    FAIL() << "expected a JobError";
  } catch (const config::JobError& e) {
    EXPECT_NE(std::string(e.what()).find("has no config.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace depthscale::farm
