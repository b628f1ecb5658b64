// The /probe part of a sweep file (a `kind: probe` run) and its sidecar folder: the layout below
// lives here and nowhere else. lib/probe computes plain values (probe/batch.hpp); this persists
// them. The coordinator (farm/probe_sweep.cpp) decides when.
//
// Layout under /probe/<model>/ of the run's output file (a depthscale sweep file: root
// attributes format, job_yaml, job_effective, ... as docs/sweep-file.md; /tasks stays empty):
//
//   while running
//     batches/<000012>/          batch 12 = documents [12·batch, 13·batch) of the stream
//       attrs: model, batch, first_doc, documents, tokens, sites, num_layers, store_per_token,
//              arrays (the per-site arrays present, comma-separated), wall_seconds, host, rank,
//              status (complete | failed, written last), error
//       norms, theta, ... token, doc, position   as below, for this batch's sites: the computed
//                                                metrics when store_per_token, else only theta
//                                                and position (the early-stop pass needs them)
//       summary_state  int64     the batch's probe::Summary::state(), merged at the end
//   once every batch of the model is complete (batches/ is then unlinked)
//     attrs: model_path, family, num_layers, hidden_size, vocab_size, dtype, device,
//            hidden_convention, last_hidden (final_norm | last_block), metrics (the computed
//            ones, comma-separated), angles (float64 | bfloat16), tokenizer_hash (hex, "0x0" when
//            unknown), shards, documents, tokens, sites, max_tokens, batch, batches,
//            store_per_token, wall_seconds, status = complete (written last)
//     (each metric only when computed: probe.metrics)
//     norms          float32 [N, L+1]   ‖h_l‖
//     theta          float32 [N, L]     angle(h_l, h_{l+1})
//     theta_dh       float32 [N, L-1]   angle(Δh_l, Δh_{l+1}), Δh_l = h_{l+1} − h_l
//     angle_to_end   float32 [N, L]     angle(h_l, h_L)
//     cross_entropy  float32 [N, L]     column L−1: the model's own next-token CE; l < L−1: CE of
//                                       head(final_norm(last_block(h_l)))
//     proj_s         float32 [N, L+1]   ((h_l − h_0)·(h_L − h_0)) / (‖h_L − h_0‖² + 1e−10)
//     token          int64   [N]        the site's token (its target is the next site's token)
//     doc            int64   [N]        the document's index in the stream
//     position       int64   [N]        the site's position in the document (0-based)
//     summary/   norms, theta, theta_dh, angle_to_end, cross_entropy, proj_s: float64 per-layer
//                means over the sites (one per column); attrs theta_middle_mean (⟨θ⟩_{D,l}, layers
//                1..L−2), sites
//     pca/       components float64 [L, L] (row k = k-th principal axis of the θ vectors; PC1
//                points towards the early-stop trajectory), explained [L] (variance ratio),
//                explained_variance [L], mean [L], early_stop_reference [L], even_reference [L];
//                attrs sites (probe/metrics.hpp: exact, merged over batches) and
//                the paper's early-stop statistic: early_stop_rule, early_stop_pc1 (threshold),
//                early_stop_fraction, early_stop_count (sites whose PC1 score exceeds it; NaN and
//                0 without a PCA), first_position_sites, early_stop_first_position;
//                early_stop_by_position int64 [2, 2] (rows: outside / inside the cluster;
//                columns: position > 0 / position 0);
//                reference_early_stop_fraction, reference_early_stop_count: the older statistic,
//                sites nearer the early-stop reference trajectory than the even one
//   Both are written with or without store_per_token.
//   Every dataset above carries the string attributes units and description (store/schema.hpp).
//
// Crash safety: a finished batch is first written as its own file
// <out>.ckpt/probe/<model>/<000012>.h5 (write-aside, fsync, rename), then copied into the main
// file with status last. A batch is complete when either holds it with status=complete; resume
// skips complete batches and finalised models, and recopies sidecar batches the main file lacks.
// The sidecar files of a model are removed once its concatenated datasets are flushed. HDF5 does
// not give back the space of the unlinked batch groups, so a run that finishes every model
// rewrites the file without it (copy to a temporary, fsync, rename: compact()).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "probe/batch.hpp"
#include "store/store.hpp"

namespace depthscale::store {

// "000012": the name of batch 12's group and (with .h5) of its sidecar file.
std::string probe_batch_key(int64_t batch);

// A batch as a self-describing in-memory HDF5 file (workers send these to rank 0).
std::vector<char> to_image(const probe::BatchResult& r);
probe::BatchResult probe_batch_from_image(const std::vector<char>& image);

// What the file says of one stored batch (read before resuming).
struct ProbeBatchStatus {
  int64_t batch = 0, first_doc = 0, documents = 0;
  std::string status;  // complete | failed
  std::string where;   // "out.h5:/probe/m/batches/000012" for messages
};

// What the file says of one model.
struct ProbeModelStatus {
  bool finalized = false;
  int64_t documents = 0, tokens = 0, batches = 0;  // when finalized
  std::vector<ProbeBatchStatus> stored;            // when not: batches with a status, in key order
};

// /probe/<model>/ of a file open for writing (see ProbeFile::with_model).
class ProbeModelGroup {
 public:
  explicit ProbeModelGroup(Group g) : g_(std::move(g)) {}

  // batches/<key>/ (replacing any), status last. Inconsistent sizes are refused before anything
  // is written.
  void write_batch(const probe::BatchResult& r);
  void remove_batch(int64_t batch);  // if present

  // The summary states of batches 0..batches-1, each checked complete and of `layers` layers.
  std::vector<std::vector<int64_t>> summary_states(int64_t batches, int64_t layers) const;

  // The θ [sites, layers] and position [sites] arrays of batches 0..batches-1, one batch at a time,
  // in order (the second pass of the paper's early-stop statistic).
  void visit_theta(
      int64_t batches, int64_t layers,
      const std::function<void(const std::vector<float>&, const std::vector<int64_t>&)>& fn) const;

  // Once batches 0..attrs.batches-1 are all complete: writes the concatenated per-site datasets
  // (streamed one batch at a time, when attrs.store_per_token), summary/ and pca/, the attributes,
  // status=complete last; then unlinks batches/. Checks that the batches hold the plan's
  // documents and that their sites are the summary's. Returns the sites.
  int64_t finalize(const probe::ModelAttrs& attrs, const probe::ModelSummary& summary);

 private:
  Group g_;
};

// The probe side of the sweep file at `path` (which exists) and of its sidecar <path>.ckpt/probe/.
class ProbeFile {
 public:
  explicit ProbeFile(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  ProbeModelStatus model_status(const std::string& model) const;

  // Opens the file, runs `body` on /probe/<model>, flushes, closes, syncs: between writes the file
  // is closed, so readers can open it and a kill finds nothing half-open.
  void with_model(const std::string& model, const std::function<void(ProbeModelGroup&)>& body);

  // The sidecar: one file per recorded batch.
  std::string sidecar_dir(const std::string& model) const;
  std::string sidecar_file(const std::string& model, int64_t batch) const;
  // Batch files present (by batch); temporaries of a writer that is gone are removed.
  std::map<int64_t, std::string> sidecar_batches(const std::string& model) const;
  // The same batches, touching nothing (for readers such as `status`, which may run on another
  // host than the writer, where a process id says nothing).
  std::vector<int64_t> sidecar_batch_numbers(const std::string& model) const;
  // The models under /probe (opened with open_sweep: format checked), sorted.
  std::vector<std::string> models() const;
  // Writes the batch's sidecar file atomically (`image`: its to_image(r) when already at hand).
  void save_sidecar(const probe::BatchResult& r, const std::vector<char>* image = nullptr) const;
  void remove_sidecar(const std::string& model, int64_t batch) const;  // if present
  void remove_sidecar(const std::string& model) const;                 // the model's folder

  // Rewrites the file without the space of its unlinked batch groups, which HDF5 does not give
  // back: the root's attributes and children are copied into a temporary file, synced, and
  // renamed over the original, so a kill leaves one whole file or the other (store's recovery
  // removes a stale temporary). Returns the sizes before and after.
  std::pair<uintmax_t, uintmax_t> compact() const;

 private:
  std::map<int64_t, std::string> list_sidecar(const std::string& model, bool remove_stale) const;
  std::string path_;
};

}  // namespace depthscale::store
