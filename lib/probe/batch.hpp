// What the probe computes, as plain values: one batch's per-site results, and what finalising a
// model records (its attributes, the merged summary and PCA). lib/probe fills them; lib/store
// persists them under /probe/<model>/ (store/probe_file.hpp). No torch and no HDF5 here.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace depthscale::probe {

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
  bool per_token = true;  // the finalised model keeps per-site arrays (probe.store_per_token)
  // The per-site arrays this batch carries, by name, in the file's order: the computed metrics
  // with token/doc/position when per_token; otherwise only theta and position, which the paper's
  // early-stop statistic needs in a second pass (the finalised group drops them).
  std::vector<std::string> arrays;
  // [sites, L + extra] row-major, extra = 1, 0, -1, 0, 0, 1 in this order (norms has L+1 columns);
  // empty unless named in `arrays`.
  std::vector<float> norms, theta, theta_dh, angle_to_end, cross_entropy, proj_s;
  std::vector<int64_t> token, doc, position;  // [sites]
  std::vector<int64_t> state;                 // Summary::state() of this batch's sites
};

// The attributes of a finalised /probe/<model>/ group that describe the model and the plan (the
// counts of documents, tokens, sites and the wall time come from the batches themselves).
struct ModelAttrs {
  std::string model_path, family;
  int64_t num_layers = 0, hidden_size = 0, vocab_size = 0;
  std::string dtype, device, hidden_convention;
  std::string last_hidden;           // final_norm | last_block (probe.last_hidden)
  std::vector<std::string> metrics;  // the metrics computed (probe.metrics), in the file's order
  std::string angles;                // float64 | bfloat16 (probe.angles)
  std::string tokenizer_hash;        // hex, "0x0" when unknown
  std::string shards;                // the shard paths, one a line
  int64_t first_doc = 0;
  int64_t documents = 0;  // the plan's; the batches must hold exactly these
  int64_t max_tokens = 0, batch = 0, batches = 0;
  bool store_per_token = true;
};

// summary/ and pca/ of a finalised model, merged exactly over its batches (probe/metrics.hpp).
struct ModelSummary {
  int64_t sites = 0;
  std::vector<std::pair<std::string, std::vector<double>>> means;  // summary/<metric>, in order
  double theta_middle_mean = 0;
  // The older nearest-reference statistic (probe/metrics.hpp is_nearer_early_reference).
  double reference_early_stop_fraction = 0;
  int64_t reference_early_stop_count = 0;
  std::vector<double> early_stop_reference, even_reference;  // [L]
  // The paper's statistic (probe/metrics.hpp EarlyStopCluster): set by a second pass over θ once
  // the PCA is known; NaN fraction and zero counts without a PCA.
  double early_stop_threshold = 0.5;
  double early_stop_fraction = 0;
  int64_t early_stop_count = 0;
  int64_t first_position_sites = 0, early_stop_first_position = 0;
  bool has_pca = false;                                     // needs at least 2 sites
  std::vector<double> components;                           // [L, L] row-major
  std::vector<double> explained, explained_variance, mean;  // [L]
};

}  // namespace depthscale::probe
