// Per-token hidden-state metrics of a causal LM (docs/experiments.md §2) and their streaming
// summaries. Pure computation: no MPI, no files. A runner feeds batches, writes SiteMetrics to
// /probe/<model>/ and keeps one Summary per model (merging per-rank Summaries, saving state() in
// checkpoints).
//
// Sites: position t = 0..T−2 of document b predicts the token at t+1; the site is valid when
// mask[b, t] and mask[b, t+1] are both 1. Only valid sites are kept, in (document, position) order.
//
// Hidden states: CausalLM::forward's (lib/probe/model.hpp): hidden[0] the embedding output,
// hidden[L] the LAST BLOCK's output. By default (MetricsOptions::last_hidden_after_final_norm) the
// metrics read hidden[L] AFTER the final norm, final_norm(hidden[L]), as Hugging Face's
// hidden_states and the study's scripts do; otherwise the raw block output. The convention
// changes theta[:, L−1], theta_dh[:, L−2], angle_to_end, proj_s and norms[:, L]; cross_entropy
// and the middle layers are the same under both.
//
// Per valid site (columns indexed by layer):
//   norms         [N, L+1]  ‖h_l‖
//   theta         [N, L]    angle(h_l, h_{l+1})
//   theta_dh      [N, L−1]  angle(Δh_l, Δh_{l+1}), Δh_l = h_{l+1} − h_l
//   angle_to_end  [N, L]    angle(h_l, h_L)
//   cross_entropy [N, L]    column L−1: the model's own next-token CE, −log softmax(head(
//                           final_norm(last block output)))[next]; column l < L−1: the same with
//                           the LAST block re-applied to h_l (same mask and positions) before the
//                           final norm
//   proj_s        [N, L+1]  ((h_l − h_0)·(h_L − h_0)) / (‖h_L − h_0‖² + 1e−10)
// angle(a, b) = arccos(clip(a·b / sqrt(‖a‖²‖b‖²), −1, 1)), computed in float64 from the hidden
// states whatever the model dtype (a BF16 cosine cannot resolve angles below ~0.09 rad). Identical
// vectors give exactly 0 (sqrt(x·x) = x in IEEE arithmetic). A zero vector (Δh_l = 0 when a block
// leaves the state unchanged) has no direction: its angle is defined as π/2, i.e. cos = 0, as
// torch.cosine_similarity's eps clamp gives; never NaN.
//
// bf16 angles (MetricsOptions::bf16_angles, off by default): the authors computed cosines with
// torch.cosine_similarity on bf16 hidden states, which returns the cosine rounded to bf16, and
// took its arccos in bf16. This mode rounds the float64 cosine to the nearest bf16, then the
// arccos to the nearest bf16, so θ takes only the quantised values their arrays hold (0 for
// cosines above 1 − 2^−9, i.e. θ below ~0.06 rad; then 0.0884, 0.125, 0.153, ...). It exists to
// reconcile with their arrays, not to measure.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "probe/model.hpp"

namespace depthscale::probe {

class MetricsError : public depthscale::Error {
 public:
  using depthscale::Error::Error;
};

// The per-site metrics of docs/experiments.md §2, in the order the sweep file lists them.
enum class Metric { norms, theta, theta_dh, angle_to_end, cross_entropy, proj_s };

// All tensors on the CPU. Metrics are float32 (what the sweep file stores; angles are computed in
// float64 and rounded once), index columns int64.
struct SiteMetrics {
  int64_t num_layers = 0;    // L
  torch::Tensor doc;         // [N] row of the batch (the caller adds its document offset)
  torch::Tensor position;    // [N] t
  torch::Tensor token;       // [N] ids[b, t]
  torch::Tensor next_token;  // [N] ids[b, t+1], the target
  torch::Tensor norms, theta, theta_dh, angle_to_end, cross_entropy, proj_s;
  int64_t size() const { return doc.defined() ? doc.size(0) : 0; }
  const torch::Tensor& of(Metric k) const;  // the per-site array of metric k
};

// Bounds on the temporaries, in elements. Peak memory of one call beyond the model weights:
//   forward (compute_site_metrics(model, ids, mask) only): the L+1 hidden states (L+1)·B·T·d in the
//     model dtype, plus one block's activations (model.hpp);
//   angles: at most 10 float64 blocks of max_gather elements ([sites, d] gathers of h_0, h_l,
//     h_{l+1}, h_L, h_L − h_0, Δh_{l−1}, Δh_l and products): 10·8·2^23 B = 640 MiB at the default;
//   cross-entropy (fused_cross_entropy, the default): one readout at a time: the last block
//     re-applied to a group of whole documents (its activations, as in forward), the sites' rows
//     of its output and their final norm [n, d], and one logits tile of CausalLM::kReadoutTile
//     elements (4 MiB in FP32); no [n, V] logits. Groups are formed as below (max_logits / V
//     positions, at least one document);
//   cross-entropy, former path (fused_cross_entropy = false): one readout at a time, never all L:
//     the last block re-applied to a group of whole documents (its activations, as in forward),
//     their logits [docs, T', V] in the model
//     dtype (T' = the group's last site + 1), the valid sites' rows of them (the group's logits are
//     freed here), a float32 copy and logsumexp's temporary. A group holds at most max_logits
//     logits but at least one document, so the peak is at most M·(s + 12) bytes with
//     M = max(max_logits, T·V) and s the dtype size: 2 GiB for FP32 at the default 2^27, 2 GiB
//     for a 1024-token document of Qwen2.5 (V = 151936) in BF16;
//   output: N·(6L + 1)·4 + 4·N·8 bytes.
struct MetricsOptions {
  int64_t max_logits = int64_t(1) << 27;
  int64_t max_gather = int64_t(1) << 23;
  // hidden[L] after the final norm (Hugging Face's convention, the study's) or before it. Needs
  // one more [B, T, d] tensor in the model dtype.
  bool last_hidden_after_final_norm = true;
  // false: cross_entropy is left undefined and the per-layer readouts (about 75% of a probe's
  // FLOPs) are skipped.
  bool cross_entropy = true;
  bool bf16_angles = false;  // the authors' quantised angles (header)
  // true: each readout keeps only the sites' rows of the last block's output and runs the head
  // and the FP32 logsumexp on them in cache-sized tiles (CausalLM::readout_cross_entropy), so the
  // logits are never held. false: the former path, kept as a reference for tests and
  // bench/probe_bench: the group's logits [docs, T', V] in the model dtype, their sites' rows, a
  // float32 copy and LibTorch's logsumexp (the memory bound above is this path's). Both give the
  // same CE to float round-off.
  bool fused_cross_entropy = true;
};

// Runs model.forward(ids, mask, /*with_logits=*/false) and computes the metrics. ids [B, T]
// int64, mask [B, T] right-padded 0/1 (as CausalLM::forward takes them).
SiteMetrics compute_site_metrics(const CausalLM& model, const torch::Tensor& ids,
                                 const torch::Tensor& mask, const MetricsOptions& options = {});

// The same from hidden states the caller already has (forward's output for ids and mask, hidden[L]
// before the final norm whatever the options say).
SiteMetrics compute_site_metrics(const CausalLM& model, const std::vector<torch::Tensor>& hidden,
                                 const torch::Tensor& ids, const torch::Tensor& mask,
                                 const MetricsOptions& options = {});

// Everything but cross_entropy (left undefined), from any L+1 hidden states [B, T, d] of one
// dtype and device, taken as they are (last_hidden_after_final_norm is not applied: there is no
// model); needs no model. The mask need not be right-padded here.
SiteMetrics compute_site_geometry(const std::vector<torch::Tensor>& hidden,
                                  const torch::Tensor& ids, const torch::Tensor& mask,
                                  const MetricsOptions& options = {});

// Reference θ trajectories (length L): the "nearest reference" classification below, and the sign
// of PC1 (Pca). docs/experiments.md §2 gives them for
// L = 24: early stop = [π/2] + [0.45]×6 + [0]×16 + [π/2], even = [π/2] + [0.45]×22 + [π/2].
// For L layers the L−2 middle entries are split in the same proportion: the first
// k = round(6·(L−2)/22) of them are 0.45 and the rest 0 for early stop (k = 6 at L = 24); all are
// 0.45 for even. First and last entries are π/2 (L = 1: [π/2]). Examples: L = 12 → k = 3,
// L = 16 → 4, L = 32 → 8, L = 36 → 9, L = 3 → 0. For L ≤ 2 the two coincide and no site is
// early-stop (ties go to even).
std::vector<double> early_stop_reference(int num_layers);
std::vector<double> even_reference(int num_layers);
// True when θ (length L) is strictly closer in Euclidean distance to the early-stop trajectory.
// This is depthscale's older statistic ("reference_early_stop_*" in the file), not the paper's:
// it reduces to "mean θ over the late middle layers below 0.225 rad", so deeper models, whose θ
// shrinks like 1/L, get more sites labelled early stop. The paper's is EarlyStopCluster.
bool is_nearer_early_reference(const float* theta, int num_layers);

const char* metric_name(Metric m);             // the dataset name, e.g. "theta_dh"
int64_t metric_columns(Metric m, int layers);  // L+1, L or L−1

// PCA of the per-site θ vectors: eigen-decomposition of their sample covariance (N − 1).
struct Pca {
  std::vector<double> mean;  // [L]
  // [L][L]: row k = k-th principal axis, unit norm. Fixed signs: PC1 points from the even
  // trajectory towards the early-stop one (PC1·(early − even) > 0), so early-stop sites score
  // high as in the paper's figures; the others (and PC1 when that product is 0) have their
  // largest |entry| positive.
  std::vector<std::vector<double>> components;
  std::vector<double> explained_variance;  // [L], descending (negative round-off clamped to 0)
  std::vector<double> explained_ratio;     // [L], variance / total variance
};

// The paper's early-stop statistic (its PCA figures for OPT-13b): a site belongs to the early-stop
// cluster when the PC1 score of its θ vector, (θ − mean)·PC1 with the Pca's sign convention,
// exceeds `threshold` (the paper's rule: 0.5). The paper reports the cluster is mostly
// document-first tokens, so the counts are cross-tabulated with position 0. Needs the final PCA,
// so it is a second pass over the per-site θ; counting is exact and order-independent.
struct EarlyStopCounts {
  int64_t sites = 0, members = 0;                 // all sites; those in the cluster
  int64_t first_position = 0, members_first = 0;  // sites at position 0; of those, in the cluster
  double fraction() const;                        // members / sites (NaN with no sites)
};
class EarlyStopCluster {
 public:
  EarlyStopCluster(const Pca& pca, double threshold);
  // theta [n, L] row-major, position [n].
  void add(const float* theta, const int64_t* position, int64_t n);
  const EarlyStopCounts& counts() const { return counts_; }
  double threshold() const { return threshold_; }

 private:
  std::vector<double> mean_, axis_;
  double threshold_;
  EarlyStopCounts counts_;
};

// Bounded streaming summary of SiteMetrics: per-layer sums of every metric, first and second
// moments of θ, the nearest-reference count. O(L²) state whatever the number of tokens. Metrics
// a run does not compute (left undefined) are not summed; theta is required.
//
// Exact and order-independent: each add() sums its batch in float64 in a fixed loop order, then
// rounds each batch sum once to a fixed-point integer (quantum 2^−64, 128 bits: |sums| < 2^63) and
// adds integers. So merging per-rank or per-shard summaries gives bit-for-bit the summary of
// adding all their batches to one, in any grouping or order, and a run resumed from state()
// continues bit-for-bit. Batches themselves are the unit: the same sites split into other batches
// can differ in the last bits.
class Summary {
 public:
  explicit Summary(int num_layers);

  // Adds a batch. theta must be defined; every defined metric must have num_layers layers.
  // Throws MetricsError on non-finite values or sums out of the fixed-point range.
  void add(const SiteMetrics& m);
  // Adds another summary's sums (same num_layers, else MetricsError).
  void merge(const Summary& other);

  int num_layers() const { return layers_; }
  int64_t count() const { return count_; }  // sites
  // Sites nearer the early-stop reference (is_nearer_early_reference); fraction NaN with no sites.
  int64_t reference_early_stop_count() const { return early_; }
  double reference_early_stop_fraction() const;

  // Mean over sites per column (metric_columns entries); NaN with no sites.
  std::vector<double> mean(Metric m) const;
  // ⟨θ⟩_{D,l}: mean of θ over sites and the middle layers 1..L−2 (first and last excluded); NaN
  // with no sites or L < 3.
  double theta_middle_mean() const;
  // Needs at least 2 sites (MetricsError otherwise).
  Pca pca() const;

  // Serialisable state: [version, L, count, early_count, n, then n 128-bit sums as (high, low)
  // 64-bit words]. from_state(state()) == *this; MetricsError on a malformed vector.
  std::vector<int64_t> state() const;
  static Summary from_state(const std::vector<int64_t>& state);
  bool operator==(const Summary& o) const;
  bool operator!=(const Summary& o) const { return !(*this == o); }

 private:
  size_t offset(Metric m) const;  // first sum of metric m in sums_
  size_t moments_offset() const;  // θ_i·θ_j, i ≤ j, row by row

  int layers_;
  int64_t count_ = 0, early_ = 0;
  std::vector<__int128> sums_;
};

}  // namespace depthscale::probe
