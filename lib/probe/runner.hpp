// The probe runner (SPEC.md §2): a `kind: probe` job names Hugging Face model folders and token
// shards; every model reads the same documents in stream order, batch by batch, and records the
// hidden-state metrics of every valid prediction site. lib/farm/probe_sweep.cpp spreads the
// batches over MPI ranks; this part holds one batch's computation and the HDF5 layout, none of
// which needs MPI. The `probe:` keys of the job file are config's (config/probe.hpp), validated
// with the rest of the job; relative paths there are relative to the current folder.
//
// HDF5 layout under /probe/<model>/ of the run's output file (a depthscale sweep file: root
// attributes format, job_yaml, job_effective, ... as DESIGN.md; /tasks stays empty):
//
//   while running
//     batches/<000012>/          batch 12 = documents [12·batch, 13·batch) of the stream
//       attrs: model, batch, first_doc, documents, tokens, sites, num_layers, store_per_token,
//              wall_seconds, host, rank, status (complete | failed, written last), error
//       norms, theta, ... token, doc, position   as below, for this batch's sites (when
//                                                store_per_token)
//       summary_state  int64     the batch's probe::Summary::state(), merged at the end
//   once every batch of the model is complete (batches/ is then unlinked)
//     attrs: model_path, family, num_layers, hidden_size, vocab_size, dtype, device,
//            hidden_convention, tokenizer_hash (hex, "0x0" when unknown), shards, documents,
//            tokens, sites, max_tokens, batch, batches, store_per_token, wall_seconds,
//            status = complete (written last)
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
//     pca/       components float64 [L, L] (row k = k-th principal axis of the θ vectors),
//                explained [L] (variance ratio), explained_variance [L], mean [L],
//                early_stop_reference [L], even_reference [L]; attrs early_stop_fraction,
//                early_stop_count, sites (probe/metrics.hpp: exact, merged over batches)
//   Both are written with or without store_per_token.
//   N counts the valid sites in stream order: document d (truncated to n_d ≤ max_tokens tokens)
//   gives sites p = 0..n_d−2 (a site needs a real token and a real next token). Angles are
//   arccos(clip(cos, −1, 1)) computed in float64 from the hidden states whatever the model dtype
//   and stored as float32 (probe/metrics.hpp).
//   Hidden-state convention (attribute hidden_convention; probe/model.hpp): hidden[0] is the
//   embedding output, hidden[l] the output of block l−1, and hidden[L] the last block's output
//   BEFORE the final norm (Hugging Face's last hidden_states entry is final_norm(hidden[L])).
//
// Crash safety: a finished batch is first written as its own file
// <out>.ckpt/probe/<model>/<000012>.h5 (write-aside, fsync, rename), then copied into the main
// file with status last. A batch is complete when either holds it with status=complete; resume
// skips complete batches and finalised models, and recopies sidecar batches the main file lacks.
// The sidecar files of a model are removed once its concatenated datasets are flushed. HDF5 does
// not give back the space of the unlinked batch groups, so a run that finishes every model
// rewrites the file without it (copy to a temporary, fsync, rename).
//
// Memory bound (streaming: nothing holds all sites). A worker rank holds one model, one batch's
// forward (the L+1 hidden states [batch, T, d] in the model dtype, T = the batch's longest
// document, e.g. 37·48·1024·5120·2 B = 18.6 GB for Pythia-12b in BF16), the bounded temporaries
// of probe/metrics.hpp (float64 gathers of at most 2^23 elements, logits of at most 2^27 elements
// or one document) and the batch's result, N_b·(6L+1)·4 + 3·N_b·8 bytes for its N_b sites.
// Rank 0 also holds the token ids of the unfinished models' documents (4 bytes per token) and,
// when finalising a model, one batch's per-site arrays at a time; summaries are O(L²). Lower
// probe.batch when the forward does not fit.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/job.hpp"
#include "store/store.hpp"

namespace depthscale::probe {

class CausalLM;

// The job's `probe:` settings, validated by config::parse_job.
using ProbeSpec = config::ProbeSpec;
using ProbeModelSpec = config::ProbeModelSpec;

// A model with its files checked: config.json read, shard globs expanded.
struct ResolvedModel {
  ProbeModelSpec spec;
  std::string family;
  int64_t num_layers = 0, hidden_size = 0, vocab_size = 0;
  uint64_t tokenizer_hash = 0;  // tokenizer_hash_of_model_dir(path); 0 when absent or unchecked
  std::vector<std::string> shard_paths;
};

// Checks that every model folder and shard exists (messages name the path and the job line);
// throws config::JobError for a missing or unreadable path.
std::vector<ResolvedModel> resolve_models(const ProbeSpec& spec);

// Expands one glob (or plain path): sorted matches; none is an error naming the pattern.
std::vector<std::string> expand_shards(const std::vector<std::string>& patterns,
                                       const std::string& where);

// The first `spec.documents` documents of the shards, truncated to max_tokens, checked against
// the model's vocabulary and tokenizer hash (only the shards those documents need are opened).
// `first_index` receives the stream index of the first one. Throws ShardError, or JobError when
// the shards hold fewer documents than asked.
std::vector<std::vector<uint32_t>> read_documents(const ProbeSpec& spec, const ResolvedModel& m,
                                                  uint64_t* first_index = nullptr);

// The per-site results of one batch, and its metrics state.
struct BatchResult {
  std::string model;
  int64_t batch = 0, first_doc = 0, documents = 0, tokens = 0, sites = 0;
  int64_t layers = 0;  // L
  bool complete = false;
  std::string error;
  double wall_seconds = 0;
  std::string host;
  int rank = 0;
  bool per_token = true;
  std::vector<float> norms, theta, theta_dh, angle_to_end, cross_entropy, proj_s;
  std::vector<int64_t> token, doc, position;
  std::vector<int64_t> state;  // Summary::state() of this batch's sites (probe/metrics.hpp)
};

// Runs one batch: documents[i] is stream document first_doc + i (already truncated). Returns
// std::nullopt when `stop()` says so between steps (the batch is abandoned).
std::optional<BatchResult> run_batch(const CausalLM& model, const ProbeSpec& spec,
                                     const std::string& model_name, int64_t batch,
                                     int64_t first_doc,
                                     const std::vector<std::vector<uint32_t>>& documents,
                                     const std::function<bool()>& stop = {});

// Result ↔ HDF5: the group layout of batches/<000012>/ (status written last).
std::string batch_key(int64_t batch);
void write_batch(store::Group& parent, const BatchResult& r);
BatchResult read_batch_group(const store::Group& g);
std::vector<char> to_image(const BatchResult& r);
BatchResult batch_from_image(const std::vector<char>& image);

// What the model group's attributes record besides the model itself.
struct ModelRun {
  int64_t documents = 0, first_doc = 0, batches = 0;
};

// Once batches/<000000..batches-1> of `model_group` are all complete: writes the concatenated
// per-site datasets (streamed one batch at a time), summary/ and pca/ from the merged summary
// states, the attributes, status=complete last; then unlinks batches/. Returns the sites.
int64_t finalize_model(store::Group& model_group, const ResolvedModel& model, const ProbeSpec& spec,
                       const ModelRun& run);

// Where the hidden states come from (attribute hidden_convention).
extern const char* const kHiddenConvention;

}  // namespace depthscale::probe
