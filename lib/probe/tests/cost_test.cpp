// The probe cost model (probe/cost.hpp): parameter counts against published ones and against the
// tensors of real checkpoint files, workload counts and FLOPs against counts by hand, memory terms,
// the matmul timing. Folders hold only config.json unless a test writes weights.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cmath>
#include <iostream>
#include <tuple>

#include "probe/cost.hpp"
#include "probe/model.hpp"
#include "probe/safetensors.hpp"
#include "probe/tests/tiny_models.hpp"

namespace depthscale::probe {
namespace {

using testing::TempDir;

ModelConfig config_of(const std::string& json) {
  TempDir dir("cost-config");
  testing::write_config(dir.path(), json);
  return read_config(dir.str());  // config.json alone: no weights in the folder
}

const char* kPythia70m = R"({"model_type": "gpt_neox", "hidden_size": 512, "num_hidden_layers": 6,
  "num_attention_heads": 8, "intermediate_size": 2048, "vocab_size": 50304, "rotary_pct": 0.25,
  "max_position_embeddings": 2048, "use_parallel_residual": true, "tie_word_embeddings": false})";
const char* kPythia12b = R"({"model_type": "gpt_neox", "hidden_size": 5120,
  "num_hidden_layers": 36, "num_attention_heads": 40, "intermediate_size": 20480,
  "vocab_size": 50688, "rotary_pct": 0.25, "max_position_embeddings": 2048,
  "use_parallel_residual": true, "tie_word_embeddings": false})";
const char* kQwen25_05b = R"({"model_type": "qwen2", "hidden_size": 896, "num_hidden_layers": 24,
  "num_attention_heads": 14, "num_key_value_heads": 2, "intermediate_size": 4864,
  "vocab_size": 151936, "max_position_embeddings": 32768, "rope_theta": 1000000.0,
  "tie_word_embeddings": true, "use_sliding_window": false})";
const char* kOpt125m = R"({"model_type": "opt", "hidden_size": 768, "num_hidden_layers": 12,
  "num_attention_heads": 12, "ffn_dim": 3072, "vocab_size": 50272,
  "max_position_embeddings": 2048, "do_layer_norm_before": true, "word_embed_proj_dim": 768})";

// The totals the model cards and the Pythia paper publish.
TEST(Cost, PublishedParameterCounts) {
  EXPECT_EQ(parameter_count(config_of(kPythia70m)), 70426624);
  EXPECT_EQ(parameter_count(config_of(kPythia12b)), 11846072320);
  EXPECT_EQ(parameter_count(config_of(kQwen25_05b)), 494032768);
  EXPECT_EQ(parameter_count(config_of(kOpt125m)), 125239296);
  const auto c = config_of(kPythia12b);
  ProbeCostOptions bf16;
  bf16.dtype_bytes = 2;
  EXPECT_DOUBLE_EQ(probe_cost(c, ProbeWorkload{}, bf16).weight_bytes, 2.0 * 11846072320);
}

// Every element of a written checkpoint counts once, and CausalLM::load accepts it.
TEST(Cost, TinyModelsCountEveryCheckpointElement) {
  for (auto f : {Family::gpt_neox, Family::qwen2, Family::opt}) {
    TempDir dir("cost-tiny");
    testing::write_random_model(dir.path(), testing::tiny_config(f));
    Checkpoint ckpt(dir.str());
    int64_t n = 0;
    for (const auto& name : ckpt.names()) {
      int64_t e = 1;
      for (auto s : ckpt.info(name).shape) e *= s;
      n += e;
    }
    const auto c = read_config(dir.str());
    EXPECT_EQ(parameter_count(c), n) << family_name(f);
    EXPECT_NO_THROW(CausalLM::load(dir.str()));
  }
}

// Lengths 5, 1, 9, 3 in batches of 2, V = 10, groups of at most 100 logits:
//   batch 0: [5, 1] padded to 5 → 10 positions, 2·25/2 pairs, sites 4 + 0; readout group {doc 0}
//            of width 4 (doc 1 has no site);
//   batch 1: [9, 3] padded to 9 → 18 positions, 2·81/2 pairs, sites 8 + 2; doc 2 alone (width 8:
//            2·8·10 > 100 with doc 3), then doc 3 (width 2).
TEST(Cost, WorkloadCountedByHand) {
  MetricsOptions m;
  m.max_logits = 100;
  const auto w = workload_of({5, 1, 9, 3}, 2, 10, m);
  EXPECT_TRUE(w.exact);
  EXPECT_EQ(w.documents, 4);
  EXPECT_EQ(w.tokens, 18);
  EXPECT_EQ(w.positions, 28);
  EXPECT_DOUBLE_EQ(w.attention_pairs, 25 + 81);
  EXPECT_EQ(w.sites, 14);
  EXPECT_EQ(w.readout_positions, 4 + 8 + 2);
  EXPECT_DOUBLE_EQ(w.readout_attention_pairs, 8 + 32 + 2);
  EXPECT_EQ(w.batch, 2);
  EXPECT_EQ(w.longest, 9);
  EXPECT_EQ(w.max_batch_sites, 10);

  const auto u = workload_upper_bound(5, 8, 2, 10, m);  // 3 batches of 8-token documents
  EXPECT_FALSE(u.exact);
  EXPECT_EQ(u.tokens, 40);
  EXPECT_EQ(u.positions, 40);
  EXPECT_EQ(u.sites, 35);
  EXPECT_EQ(u.readout_positions, 35);  // one document per group: 2·7·10 > 100
}

// forward and readout FLOPs against a count from the checkpoint's own weight list: every 2-D
// weight inside the layers is one matmul per position.
TEST(Cost, FlopsMatchACountOfTheMatmuls) {
  MetricsOptions m;
  m.max_logits = 100;
  const auto w = workload_of({5, 1, 9, 3}, 2, 50, m);
  for (auto f : {Family::gpt_neox, Family::qwen2, Family::opt}) {
    const auto c = config_of(testing::tiny_config(f));
    double layer_weights = 0;
    for (const auto& s : expected_weights(c))
      if (s.shape.size() == 2 && s.name.find(".layers.") != std::string::npos)
        layer_weights += double(s.shape[0] * s.shape[1]);
    const double W = layer_weights / double(c.num_layers);
    EXPECT_EQ(double(layer_matmul_params(c)), W) << family_name(f);
    const double q = double(c.num_heads * c.head_dim), L = double(c.num_layers);
    const double head = double(c.hidden_size * c.vocab_size);
    const double forward = L * (2 * W * 28 + 2 * 2 * 106 * q) + 2 * head * 14;
    const double readout = (L - 1) * (2 * (W + head) * 14 + 2 * 2 * 42 * q);
    ProbeCostOptions o;
    o.metrics = m;
    const auto cost = probe_cost(c, w, o);
    EXPECT_DOUBLE_EQ(cost.forward_flops, forward) << family_name(f);
    EXPECT_DOUBLE_EQ(cost.readout_flops, readout) << family_name(f);
    o.with_cross_entropy_readouts = false;
    EXPECT_EQ(probe_cost(c, w, o).readout_flops, 0) << family_name(f);
    EXPECT_DOUBLE_EQ(probe_cost(c, w, o).forward_flops, forward) << family_name(f);
  }
}

// The readouts' share of the FLOPs: (L−1)·(W + head) against L·W + head for the forward (per
// position, attention aside): 75% for Pythia-70m (the head dominates; docs/probes.md), 63%
// for Pythia-12b.
TEST(Cost, ReadoutShareForPythia) {
  for (auto [json, lo, hi] :
       {std::tuple{kPythia70m, 0.72, 0.78}, std::tuple{kPythia12b, 0.6, 0.66}}) {
    const auto c = config_of(json);
    const auto w = workload_upper_bound(480, 1024, 48, c.vocab_size);
    const auto cost = probe_cost(c, w);
    const double share = cost.readout_flops / cost.total_flops();
    std::cout << "[ L = " << c.num_layers << ", d = " << c.hidden_size << " ] forward "
              << cost.forward_flops / 1e12 << " TFLOP, readouts " << cost.readout_flops / 1e12
              << " TFLOP, share " << share << "\n";
    EXPECT_GT(share, lo);
    EXPECT_LT(share, hi);
  }
}

// Pythia-12b in BF16 at 48 × 1024: the hidden states are runner.hpp's 18.6 GB; the blocked block
// stays a few GB (the unblocked attention alone held ~32 GB); a smaller budget lowers it.
TEST(Cost, MemoryTermsForPythia12b) {
  const auto c = config_of(kPythia12b);
  const auto w = workload_upper_bound(96, 1024, 48, c.vocab_size);
  ProbeCostOptions o;
  o.dtype_bytes = 2;
  const auto m = probe_cost(c, w, o).memory;
  // L+1 = 37 states, and final_norm(h_L) beside them (the default last_hidden: final_norm).
  EXPECT_DOUBLE_EQ(m.hidden, 38.0 * 48 * 1024 * 5120 * 2);
  ProbeCostOptions raw = o;
  raw.metrics.last_hidden_after_final_norm = false;
  EXPECT_DOUBLE_EQ(probe_cost(c, w, raw).memory.hidden, 37.0 * 48 * 1024 * 5120 * 2);
  EXPECT_DOUBLE_EQ(m.weights, 2.0 * 11846072320);
  EXPECT_LT(m.forward_block, 6e9);
  EXPECT_GT(m.forward_block, 10.0 * 48 * 1024 * 5120 * 2);  // the projections around attention
  EXPECT_DOUBLE_EQ(m.results, 48.0 * 1023 * ((6 * 36 + 1) * 4 + 32));
  EXPECT_DOUBLE_EQ(
      m.peak, m.weights + m.process + m.hidden + std::max(m.forward_block, m.metrics) + m.results);
  // Loading from a checkpoint larger than the forward's terms (an FP32 file read as BF16).
  o.checkpoint_bytes = 4.0 * 11846072320;
  EXPECT_DOUBLE_EQ(probe_cost(c, w, o).memory.peak, m.process + m.weights + o.checkpoint_bytes);
  o.checkpoint_bytes = -1;
  std::cout << "[ pythia-12b bf16 48x1024 ] weights " << m.weights / 1e9 << " GB, hidden "
            << m.hidden / 1e9 << " GB, block " << m.forward_block / 1e9 << " GB, metrics "
            << m.metrics / 1e9 << " GB, peak " << m.peak / double(1 << 30) << " GiB\n";
  o.block_elements = 1 << 20;
  EXPECT_LT(probe_cost(c, w, o).memory.forward_block, m.forward_block);
}

TEST(Cost, MeasuredMatmulRate) {
  const double r = measure_matmul_rate(torch::kCPU, torch::kFloat32, 64, 0.02);
  EXPECT_TRUE(std::isfinite(r));
  EXPECT_GT(r, 1e6);
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(measure_matmul_rate(torch::Device(torch::kCUDA, 0), torch::kFloat32, 64),
                 ModelError);
  } else {
    // On a GPU: the rate the probes' --dry-run uses there (BF16, a hidden size of Pythia's).
    int64_t rows = 0;
    const double g =
        measure_matmul_rate(torch::Device(torch::kCUDA, 0), torch::kBFloat16, 2048, 0.2, &rows);
    EXPECT_TRUE(std::isfinite(g));
    EXPECT_GT(g, 1e11) << rows << " rows";
  }
}

}  // namespace
}  // namespace depthscale::probe
