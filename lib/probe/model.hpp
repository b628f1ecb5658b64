// Pretrained causal language models for the hidden-state probes (docs/experiments.md §2): GPT-NeoX
// (Pythia), Qwen2 (Qwen2.5) and OPT, loaded from a Hugging Face model directory (config.json plus
// model.safetensors, or shards with model.safetensors.index.json, or PyTorch's pytorch_model.bin,
// single or sharded: probe/checkpoint.hpp) and run in LibTorch.
//
// Hidden-state convention (docs/experiments.md §2 asks to record it):
//   hidden[0]    = the embedding output (OPT: token + learned position embedding), the input of
//                  block 0;
//   hidden[l]    = the output of block l−1 (the residual stream), l = 1..L;
//   hidden[L]    = the output of the LAST BLOCK, BEFORE the final norm.
// Hugging Face's output_hidden_states gives the same tensors for 0..L−1, but its last entry is
// final_norm(hidden[L]) (GPT-NeoX final_layer_norm, Qwen2 model.norm, OPT
// decoder.final_layer_norm). `final_norm(hidden[L])` reproduces HF's last entry; logits are
// head(final_norm(hidden[L])) in both conventions.
//
// Batches are right-padded: attention_mask[b, t] is 1 for the first n_b tokens and 0 after.
// Attention is causal and never attends to padding keys; rotary positions are 0..T−1 (HF's default
// position_ids, equal to the real positions under right padding); OPT's learned positions are
// cumsum(mask)·mask − 1 + 2, as HF computes them. Outputs at padded positions are finite but
// meaningless; valid positions do not depend on the padding or on the other rows of the batch.
//
// Precision: weights are converted to the requested dtype (FP32 on CPU by default; BF16 on GPU as
// the original study ran). Rotary angles (inv_freq, cos, sin) are computed in FP32 and the softmax
// of attention runs in FP32 whatever the dtype, as HF's eager path upcasts it. Outputs are in the
// model dtype on the model device.
//
// Memory per forward, beyond the weights (s = bytes of the model dtype, N = B·T, E = the block
// budget block_elements(), 2^26 by default; lib/probe/cost.hpp adds these terms up):
//   - the L+1 hidden states [B, T, d]: (L+1)·N·d·s, kept for the caller;
//   - one block's activations at a time, freed before the next block:
//     · attention runs query rows in blocks of r = max(1, ⌊E / (B·heads·T)⌋) rows against the
//       keys up to the block's last row (causal): one block's scores [B, heads, r, keys ≤ T] exist
//       as the matmul's output (scaled in place), its FP32 copy (masked in place; the same tensor
//       in FP32), the softmax, and its cast back (BF16/F16), each dropped as soon as the next
//       exists: at most two FP32 copies, 8·E bytes (512 MiB at the default). Unblocked, the one
//       expression held about 16 bytes per score of [B, heads, T, T]: 32 GB for Pythia-12b (40
//       heads) or OPT-13b at batch 48 × 1024 tokens;
//     · the projections around it, each [B, T, ·] in the model dtype: the normed input (d),
//       q, k, v (3d for GPT-NeoX's fused qkv plus the rotated q and k; Qwen2 d + 2·kv, where
//       kv = num_kv_heads·head_dim, grouped-query attention runs each kv head against its group
//       of query heads without HF's repeat_kv copy, which would be 2·B·T·d more), the contiguous
//       kᵀ and v (2·kv), the attention output and its projection (2d): about 10·N·d·s;
//     · the MLP in row blocks of max(1, ⌊E / I⌋) rows (I = intermediate_size): its intermediate
//       [rows, I] exists twice (pre-activation and activation: GPT-NeoX, OPT) or four times
//       (gate, act(gate), up, their product: Qwen2's SwiGLU); unblocked that would be 2–4·N·I·s,
//       e.g. 4·48·1024·13824·2 B = 5.4 GB for Qwen2.5-14B in BF16, 2·48·1024·20480·2 B = 4.0 GB
//       for Pythia-12b; blocked, at most 2–4·E·s (0.5 GB in BF16 at the default);
//   - the key mask [B, 1, T, T] bool (B·T² bytes, 48 MiB at 48 × 1024) and the rotary tables;
//   - the logits [B, T, V] when asked (skip them with with_logits = false, or call readout() on
//     slices: for V = 151936 they dominate).
// Blocking changes no result beyond float round-off (each query row's softmax and each token's
// MLP are independent of the others); set_block_elements() trades memory for fewer, larger
// matmuls.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "probe/checkpoint.hpp"

namespace depthscale::probe {

class ModelError : public depthscale::Error {
 public:
  using depthscale::Error::Error;
};

enum class Family { gpt_neox, qwen2, opt };
std::string family_name(Family f);  // the config.json model_type: gpt_neox | qwen2 | opt

enum class Activation { gelu, gelu_tanh, relu, silu };

// What the forward needs from config.json, validated: missing or unsupported keys are errors
// naming config.json and the key.
struct ModelConfig {
  Family family = Family::gpt_neox;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // = num_heads except Qwen2 grouped-query attention
  int64_t head_dim = 0;
  int64_t intermediate_size = 0;  // OPT: ffn_dim
  int64_t vocab_size = 0;
  int64_t max_positions = 0;  // OPT: rows of embed_positions minus the offset 2
  double norm_eps = 1e-5;
  Activation activation = Activation::gelu;
  bool tie_word_embeddings = false;
  // Rotary (GPT-NeoX, Qwen2): applied to the first rotary_dims of each head.
  int64_t rotary_dims = 0;
  double rope_theta = 10000.0;
  bool parallel_residual = true;  // GPT-NeoX use_parallel_residual
  bool attention_bias = true;     // GPT-NeoX attention_bias (q/k/v and dense)
};
// Reads and validates <model_dir>/config.json.
ModelConfig read_config(const std::string& model_dir);

// Name and shape of every weight the family needs under `config`, with Hugging Face's names.
struct WeightSpec {
  std::string name;
  std::vector<int64_t> shape;
};
std::vector<WeightSpec> expected_weights(const ModelConfig& config);

// The dtype a run uses unless told otherwise: BF16 on a GPU (as the original study ran), FP32 on
// CPU.
inline torch::Dtype default_dtype(torch::Device device) {
  return device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
}

struct ModelOutput {
  std::vector<torch::Tensor> hidden;  // L+1 tensors [B, T, d], convention above
  torch::Tensor logits;  // [B, T, V]: head(final_norm(hidden[L])); undefined if not asked
};

class CausalLM {
 public:
  // Loads config.json and the weights, checks every tensor's presence, dtype (F32/F16/BF16/F64)
  // and shape against the config, then converts to `dtype` on `device`. Tensors the family does
  // not use (e.g. rotary inv_freq buffers) are ignored.
  static std::unique_ptr<CausalLM> load(const std::string& model_dir,
                                        torch::Dtype dtype = torch::kFloat32,
                                        torch::Device device = torch::kCPU);
  virtual ~CausalLM() = default;

  // input_ids [B, T] int64, attention_mask [B, T] (0/1, any integer or bool dtype; right padding).
  // Runs without autograd.
  virtual ModelOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                              bool with_logits = true) const;

  // docs/experiments.md §2 cross_entropy columns l < L−1: the logits [B, T, V] of re-applying the
  // LAST block to h = hidden[l] ([B, T, d]) with the same mask and positions, then the final norm
  // and the head. So readout_via_last_block(hidden[L−1]) is forward's own logits.
  virtual torch::Tensor readout_via_last_block(const torch::Tensor& h,
                                               const torch::Tensor& attention_mask) const;

  // The last block alone re-applied to h [B, T, d] (same mask and positions):
  // readout_via_last_block before the final norm and head. Rows are independent after it, so a
  // caller may keep only the rows it needs before readout_cross_entropy.
  torch::Tensor last_block(const torch::Tensor& h, const torch::Tensor& attention_mask) const;

  // head(final_norm(h)) for h [.., d]: the model's own readout of a final hidden state.
  torch::Tensor readout(const torch::Tensor& h) const;

  // −log softmax(readout(h))[target] per row of h [n, d] (target [n] int64), float32 [n] on the
  // CPU, as the logits' FP32 logsumexp minus the target's logit, without holding the [n, V]
  // logits: on the CPU the head runs on tiles of at most kReadoutTile logits (1024 rows × 1024
  // vocabulary columns, 4 MiB in FP32: they stay in the last-level cache) and a running logsumexp
  // (probe/logsumexp.hpp) reads each tile once while it is there; BF16/F16 logits are rounded to
  // the model dtype as readout() gives them, then widened. Off the CPU: readout() on the rows and
  // the same reduction by LibTorch's logsumexp. Equals the reduction over readout(h) to float
  // round-off (the tile's matmul and the summation order differ; probe_metrics_tests bound it).
  // Off the CPU the rows go in blocks of 2^27 logits, which exist at once with their float32
  // copy (the cost model, probe/cost.hpp, counts the CPU path's tile only).
  torch::Tensor readout_cross_entropy(const torch::Tensor& h, const torch::Tensor& target) const;
  static constexpr int64_t kReadoutTileRows = 1024;
  static constexpr int64_t kReadoutTile = int64_t(1) << 20;
  torch::Tensor final_norm(const torch::Tensor& h) const;

  // The budget of one block's temporaries, in elements (memory comment above): one attention
  // block holds at most this many scores [B, heads, rows, keys] (but always one query row), one
  // MLP block at most this many intermediate values [rows, I] (but always one row).
  static constexpr int64_t kDefaultBlockElements = int64_t(1) << 26;
  int64_t block_elements() const { return block_elements_; }
  void set_block_elements(int64_t elements);  // >= 1, else ModelError

  const ModelConfig& config() const { return config_; }
  int num_layers() const { return int(config_.num_layers); }
  int64_t vocab_size() const { return config_.vocab_size; }
  int64_t hidden_size() const { return config_.hidden_size; }
  std::string family() const { return family_name(config_.family); }
  torch::Dtype dtype() const { return dtype_; }
  torch::Device device() const { return device_; }

 protected:
  // Per-forward state shared by all blocks: the key mask and the rotary tables.
  struct Context {
    torch::Tensor blocked;  // [B, 1, T, T] bool: key is in the future or padding
    // True when some document has no token: its rows allow no key and average all T values, so
    // attention blocks cannot stop at the causal frontier (keys after the block's last query).
    bool all_keys = false;
    torch::Tensor cos, sin;  // [T, rotary_dims] in the model dtype (undefined without rotary)
  };
  CausalLM(ModelConfig config, torch::Dtype dtype, torch::Device device)
      : config_(std::move(config)), dtype_(dtype), device_(device) {}
  Context make_context(const torch::Tensor& attention_mask) const;
  torch::Tensor check_mask(const torch::Tensor& input_ids, const torch::Tensor& mask) const;

  virtual torch::Tensor embed(const torch::Tensor& input_ids, const torch::Tensor& mask) const = 0;
  virtual torch::Tensor block(int layer, const torch::Tensor& h, const Context& ctx) const = 0;
  virtual torch::Tensor apply_final_norm(const torch::Tensor& h) const = 0;
  virtual const torch::Tensor& head_weight() const = 0;

  ModelConfig config_;
  torch::Dtype dtype_;
  torch::Device device_;
  int64_t block_elements_ = kDefaultBlockElements;
};

}  // namespace depthscale::probe
