// What a probe costs, from config.json alone (no weights): parameters, FLOPs and the peak memory of
// one worker, for a job's batches. `depthscale run JOB --dry-run` prints these per model
// (lib/farm/probe_sweep.cpp), with the time at a matmul rate measured on the spot.
//
// Notation: L layers, d = hidden_size, I = intermediate_size, V = vocab_size, q = heads·head_dim,
// kv = kv_heads·head_dim, s = bytes per element of the model dtype, B = documents per batch,
// T = the longest document (≤ max_tokens), E = CausalLM::block_elements().
//
// Parameters: the sum of the element counts of expected_weights(config) (embeddings, OPT's
// learned positions, norms, biases, an untied head; a tied head counts once); weight bytes = that
// times s (what CausalLM::load holds).
//
// FLOPs (multiply-add = 2; matmuls only: norms, activations, softmax and bias adds are left out,
// together well under 1%):
//   one layer per position: 2·W, W = the layer's matmul weights: GPT-NeoX and OPT 4·d² + 2·d·I
//     (q, k, v, output, up, down), Qwen2 2·d·q + 2·d·kv + 3·d·I (q, k, v, o, gate, up, down);
//   attention per layer per document row of length T: 2·2·(T²/2)·q (q·kᵀ and p·v, causal half);
//   head per position: 2·d·V.
//   forward = L·(2·W·P + 4·A·q) + 2·d·V·S, where P = the positions computed (every batch runs
//     B × its longest document, so padding counts), A = Σ over batch rows of T_batch²/2, and S =
//     the valid sites (the model's own readout, cross_entropy column L−1, runs on the sites only);
//   readouts (cross_entropy columns l < L−1, with_cross_entropy_readouts) = (L−1)·(2·W·P_r +
//     4·A_r·q + 2·d·V·S): the last block re-applied to every hidden state of groups of whole
//     documents cut at their last site (probe/metrics.hpp), P_r their positions and A_r their
//     causal pairs, then the final norm and head on the S sites' rows (with
//     metrics.fused_cross_entropy = false, the former path: on all P_r rows): 75% of all FLOPs
//     for Pythia-70m (its head dominates), 63% for Pythia-12b.
//
// Peak memory of one worker (a rank probing a batch), in bytes; the run's phases follow one
// another, so the peak is the weights plus the largest phase:
//   weights             params·s
//   hidden states       (L+1)·B·T·d·s                            (model.hpp, forward's output)
//                       (+1 B·T·d·s with metrics.last_hidden_after_final_norm: final_norm(h_L))
//   forward block       the larger of its attention and MLP phases (model.hpp's memory comment):
//                         attention: B·T·s·(4·d + 2·q + 4·kv) (normed input, q, k, v, the rotated
//                         and contiguous copies, output and projection) + 8·B·heads·r·T, the two
//                         FP32 copies of one score block of r = clamp(⌊E/(B·heads·T)⌋, 1, T) rows;
//                         MLP: 3·B·T·d·s + m·R·I·s with R = min(B·T, max(1, ⌊E/I⌋)) rows per
//                         block and m = 4 (Qwen2's SwiGLU) or 2 (GPT-NeoX, OPT);
//   metrics (after the forward, probe/metrics.hpp's MetricsOptions):
//                         angles: 10 float64 gathers of min(max_gather, n·d) elements, n = the
//                           batch's sites: 80·min(max_gather, n·d);
//                         cross-entropy, one readout of one group at a time: a group of whole
//                           documents spans P = M/V positions, M = min(B·T·V, max(max_logits,
//                           T·V)). Its phases follow one another (c = 4 bytes for the float32
//                           copy of BF16/F16 logits, 0 when they are FP32 already):
//                           the last block on the group: P·d·s (the hidden-state copy) + the
//                           forward-block formula for ⌊P/T⌋ documents;
//                           the head (metrics.fused_cross_entropy, the default): 3·P·d·s (block
//                           output, its sites' rows, their final norm) + one logits tile,
//                           CausalLM::kReadoutTile·(s + c);
//                           the model's own column: 2·n·d·s + the tile;
//                         with fused_cross_entropy = false (the former path, logits held):
//                           the logits: 3·P·d·s (copy, block output, final norm) + 2·M·s (the
//                           logits and their sites' rows);
//                           the sites' CE: M·(s + c + 4) (rows, float32 copy, logsumexp's
//                           temporary);
//                           the model's own column: min(n, max(1, ⌊max_logits/V⌋))·V·(s + c + 4);
//                         the metrics phase is the larger of the two;
//   batch results       n·((6L+1)·4 + 4·8) for the SiteMetrics (float32 metrics, int64 indices)
//                         while the hidden states are alive; when per-token arrays are kept, a
//                         BatchResult copy and then the HDF5 image the worker sends each hold
//                         about as much again (after the hidden states are freed);
//   process             kProcessBytes: LibTorch, BLAS, MPI and the code (docs/performance.md);
//   loading             while CausalLM::load copies the weights out of the memory-mapped
//                         checkpoint, the mapped file's pages count in the resident set too
//                         (clean page-cache pages, reclaimable, but in RSS and VmHWM): weights +
//                         checkpoint_bytes (the *.safetensors sizes; params·s when unknown) —
//                         on CPU this phase is the peak when the forward's terms are small.
// peak = process + max(weights + checkpoint, weights + max(hidden + max(forward block, metrics)
//        + results, 2·results)).
// On a GPU the weights, hidden states and temporaries are device memory: pass checkpoint_bytes = 0
// (the file's pages are then host memory) and read the peak as the device's, process aside.
// Rank 0 also holds the token ids of the unfinished models' documents, 4 bytes per token
// (rank0_extra_bytes).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "probe/metrics.hpp"
#include "probe/model.hpp"

namespace depthscale::probe {

// What a job's documents make a model compute (counts of positions, not FLOPs).
struct ProbeWorkload {
  int64_t documents = 0;
  int64_t tokens = 0;                  // real tokens
  int64_t positions = 0;               // Σ over batches of B_b·T_b (padding included)
  double attention_pairs = 0;          // Σ over batches of B_b·T_b²/2
  int64_t sites = 0;                   // valid prediction sites, Σ max(n − 1, 0)
  int64_t readout_positions = 0;       // positions of the per-layer readout groups
  double readout_attention_pairs = 0;  // Σ over groups of g·width²/2
  int64_t batch = 0;                   // documents per batch (the largest batch)
  int64_t longest = 0;                 // T of the longest batch
  int64_t max_batch_sites = 0;         // the most sites of one batch
  bool exact = false;  // from the documents' lengths; false: every document max_tokens long
};

// From the documents' token counts (already truncated to max_tokens), in stream order, batched
// by `batch`; readout groups follow compute_site_metrics' rule for `vocab_size` and max_logits.
ProbeWorkload workload_of(const std::vector<int64_t>& lengths, int64_t batch, int64_t vocab_size,
                          const MetricsOptions& metrics = {});
// Upper bound when the shards are not at hand: `documents` documents of max_tokens tokens.
ProbeWorkload workload_upper_bound(int64_t documents, int64_t max_tokens, int64_t batch,
                                   int64_t vocab_size, const MetricsOptions& metrics = {});

struct ProbeCostOptions {
  int64_t dtype_bytes = 4;                  // s: 4 FP32, 2 BF16/F16
  bool with_cross_entropy_readouts = true;  // cross_entropy columns l < L−1
  bool store_per_token = true;              // per-site arrays kept (probe.store_per_token)
  int64_t block_elements = CausalLM::kDefaultBlockElements;
  MetricsOptions metrics;
  double checkpoint_bytes = -1;  // the mapped checkpoint while loading; < 0: params·dtype_bytes
};

// LibTorch, BLAS, MPI and the program itself: a worker's resident set beside the terms below
// (measured by bench/probe_memory.py, docs/performance.md: 0.18 GB before the first matmul, about
// 0.3 GB with the BLAS threads' buffers and the allocator's retained small blocks).
constexpr double kProcessBytes = 0.3e9;

struct ProbeMemory {
  double weights = 0, hidden = 0, forward_block = 0, metrics = 0, results = 0, process = 0;
  double checkpoint = 0;  // mapped while loading
  double peak = 0;        // the formula above
};

struct ProbeCost {
  int64_t params = 0;               // every weight (a tied head once)
  int64_t layer_matmul_params = 0;  // W: one layer's matmul weights
  int64_t head_params = 0;          // d·V
  double weight_bytes = 0;
  double forward_flops = 0, readout_flops = 0;
  double total_flops() const { return forward_flops + readout_flops; }
  ProbeMemory memory;
};

int64_t parameter_count(const ModelConfig& config);      // Σ expected_weights element counts
int64_t layer_matmul_params(const ModelConfig& config);  // W above

ProbeCost probe_cost(const ModelConfig& config, const ProbeWorkload& work,
                     const ProbeCostOptions& options = {});

// Token ids rank 0 keeps for the unfinished models: 4 bytes per token.
inline double rank0_extra_bytes(int64_t tokens) {
  return 4.0 * double(tokens);
}

// FLOP/s of a dense [rows, d] × [d, d] at::mm on `device` in `dtype` (a block of tokens through
// a d × d weight) on the current intra-op threads, measured for about `seconds` in all: untimed
// warm-up, 64-row calls for a first rate, then the rows doubled (up to 1024) while one call
// takes under a tenth of the budget, then that call repeated for half the budget. `rows_used`
// receives the rows of the measured calls. Throws ModelError when the device cannot be used (cuda
// without a GPU).
double measure_matmul_rate(torch::Device device, torch::Dtype dtype, int64_t d,
                           double seconds = 0.3, int64_t* rows_used = nullptr);

}  // namespace depthscale::probe
