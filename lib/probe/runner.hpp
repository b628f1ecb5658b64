// The probe runner (docs/experiments.md §2): a `kind: probe` job names Hugging Face model folders
// and token shards; every model reads the same documents in stream order, batch by batch, and
// records the hidden-state metrics of every valid prediction site. lib/farm/probe_sweep.cpp spreads
// the batches over MPI ranks; this part holds one batch's computation, which needs neither MPI nor
// HDF5. The `probe:` keys of the job file are config's (config/probe.hpp), validated with the
// rest of the job; relative paths there are relative to the current folder.
//
// The results are plain values (probe/batch.hpp); lib/store persists them under /probe/<model>/
// of the run's sweep file, with the layout and crash-safety rules in store/probe_file.hpp.
//
// Memory bound (streaming: nothing holds all sites). A worker rank holds one model, one batch's
// forward (the L+1 hidden states [batch, T, d] in the model dtype, T = the batch's longest
// document, e.g. 37·48·1024·5120·2 B = 18.6 GB for Pythia-12b in BF16, and one block's
// activations, attention and MLP in blocks bounded by CausalLM::block_elements(): model.hpp), the
// bounded temporaries of probe/metrics.hpp (float64 gathers of at most 2^23 elements, logits of at
// most 2^27 elements or one document) and the batch's result, N_b·(6L+1)·4 + 3·N_b·8 bytes for its
// N_b sites. probe/cost.hpp adds these up (`depthscale run JOB --dry-run` prints them per model).
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
#include "probe/batch.hpp"
#include "probe/metrics.hpp"

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
  std::string shards_missing;  // with shards_optional: why there are none (else empty)
  // With shards_optional: why the run would refuse the model (no tokenizer files), else empty.
  std::string tokenizer_missing;
};

// Checks that every model folder and shard exists (messages name the path and the job line);
// throws config::JobError for a missing or unreadable path. With shards_optional (a dry run),
// missing shards are recorded in shards_missing instead; a model folder or its config.json still
// must exist (read_config reads only config.json, never the weights).
std::vector<ResolvedModel> resolve_models(const ProbeSpec& spec, bool shards_optional = false);

// Expands one glob (or plain path): sorted matches; none is an error naming the pattern.
std::vector<std::string> expand_shards(const std::vector<std::string>& patterns,
                                       const std::string& where);

// The first `spec.documents` documents of the shards, truncated to max_tokens, checked against
// the model's vocabulary and tokenizer hash (only the shards those documents need are opened).
// `first_index` receives the stream index of the first one. Throws ShardError, or JobError when
// the shards hold fewer documents than asked.
std::vector<std::vector<uint32_t>> read_documents(const ProbeSpec& spec, const ResolvedModel& m,
                                                  uint64_t* first_index = nullptr);

// Runs one batch: documents[i] is stream document first_doc + i (already truncated). Returns
// std::nullopt when `stop()` says so between steps (the batch is abandoned).
std::optional<BatchResult> run_batch(const CausalLM& model, const ProbeSpec& spec,
                                     const std::string& model_name, int64_t batch,
                                     int64_t first_doc,
                                     const std::vector<std::vector<uint32_t>>& documents,
                                     const std::function<bool()>& stop = {});

// What the model group's attributes record besides the model itself.
struct ModelRun {
  int64_t documents = 0, first_doc = 0, batches = 0;
};

// The attributes a finalised model records (store::ProbeModelGroup::finalize writes them).
ModelAttrs model_attrs(const ResolvedModel& model, const ProbeSpec& spec, const ModelRun& run);

// summary/ and pca/ of a model from its batches' summary states (in batch order), merged exactly
// (probe/metrics.hpp), with the means of `metrics` (the run's probe.metrics). The paper's
// early-stop statistic is left NaN: it needs the second pass below. Throws MetricsError on a
// malformed state or a layer count other than L.
ModelSummary summarize(const std::vector<std::vector<int64_t>>& states, int num_layers,
                       const std::vector<std::string>& metrics = config::kProbeMetrics);

// The second pass of the paper's early-stop statistic: a counter over the summary's PCA (none
// without one), to be fed every batch's θ and positions, then recorded into the summary (which
// checks that it saw every site).
std::optional<EarlyStopCluster> early_stop_cluster(const ModelSummary& s, double threshold);
void record_early_stop(ModelSummary& s, const EarlyStopCluster& cluster);

// The metrics options a probe job asks for (last_hidden, metrics, angles).
MetricsOptions metrics_options(const ProbeSpec& spec);

// Where the hidden states come from (attribute hidden_convention).
std::string hidden_convention(config::LastHidden last);

}  // namespace depthscale::probe
