// The `probe:` mapping of a `kind: probe` job (docs/experiments.md §2), validated by
// config::parse_job with the rest of the job (same reader, same "file:line: probe.key: message"
// errors). What the keys do at run time is described in probe/runner.hpp.
//
//   probe:
//     models:                     # HF model folders; a plain string is a path named by its folder
//       - {name: pythia-70m, path: /data/models/pythia-70m}
//       - /data/models/pythia-160m
//       - {path: /data/models/qwen2.5-0.5b, shards: /data/fineweb-qwen/fw_*.bin}   # own shards
//     shards: /data/fineweb/fw_*.bin   # glob or list of globs/paths (sorted per glob)
//     documents: 4800             # the first N documents of the stream (default: all of them)
//     max_tokens: 1024            # documents are truncated to this; batches are right-padded
//     batch: 48                   # documents per batch (the unit of work and of resume)
//     dtype: float32              # float32 | bfloat16 | float16 (default: bfloat16 on cuda, else
//                                 # float32)
//     device: cpu                 # cpu | cuda (default: run.device)
//     store_per_token: true       # false keeps only summary/ and pca/ (no (N, L) arrays)
//     check_tokenizer: true       # refuse shards whose tokenizer cannot be shown to be the
//                                 # model's (false: trust them, e.g. llm.c shards you made)
//     last_hidden: final_norm     # final_norm: hidden[L] after the final norm (Hugging Face's
//                                 # hidden_states, the study's); last_block: the last block's
//                                 # output before it (cross-entropy is the same under both)
//     metrics: [norms, theta, theta_dh, angle_to_end, cross_entropy, proj_s]   # which to
//                                 # compute (theta is required: the PCA is of θ); cross_entropy
//                                 # is ~75% of the FLOPs (the per-layer readouts)
//     angles: float64             # float64 | bfloat16: round every cosine and angle to bf16 as
//                                 # the authors' GPU run did (quantised θ), to compare with
//                                 # their arrays
//     early_stop_pc1: 0.5         # early stop = PC1 score of θ above this (the paper's rule)
//     separator: 50256            # llm.c shards only: the document separator token
//     keep_separator: false       # llm.c shards only: keep it as each document's first token
//   Model names become HDF5 group names: letters, digits, '-', '_', '.'.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace depthscale::config {

enum class Device { Cpu, Cuda };

// Which tensor hidden[L] is (lib/probe/model.hpp): after the model's final norm, as Hugging
// Face's output_hidden_states gives it and the study used, or the last block's raw output.
enum class LastHidden { FinalNorm, LastBlock };
const char* to_string(LastHidden v);  // "final_norm" | "last_block"

// Precision of the angles: float64 (exact for the stored float32), or cosines and angles rounded
// to bfloat16 as the authors' bf16 cosine_similarity produced them.
enum class AnglePrecision { Float64, BFloat16 };
const char* to_string(AnglePrecision v);  // "float64" | "bfloat16"

// The per-site metrics of docs/experiments.md §2, in the order the sweep file lists them.
extern const std::vector<std::string> kProbeMetrics;

struct ProbeModelSpec {
  std::string name;                 // HDF5 group name
  std::string path;                 // the model folder, as written
  std::vector<std::string> shards;  // empty: the job's probe.shards
  // "job.yaml:7: probe.models[0]" (and the same for .path and .shards): the prefix of messages
  // about missing files, which only the probe runner can check.
  std::string where, path_where, shards_where;
};

struct ProbeSpec {
  std::vector<ProbeModelSpec> models;
  std::vector<std::string> shards;  // globs or paths, as written
  std::string shards_where;
  int64_t documents = 0;  // 0: every document of the shards
  int max_tokens = 1024;
  int batch = 48;
  std::string dtype;  // float32 | bfloat16 | float16; "" = the device's default
  Device device = Device::Cpu;
  bool store_per_token = true;
  bool check_tokenizer = true;
  std::optional<uint32_t> separator;
  bool keep_separator = false;
  LastHidden last_hidden = LastHidden::FinalNorm;
  std::vector<std::string> metrics = kProbeMetrics;  // a subset, in kProbeMetrics' order
  AnglePrecision angles = AnglePrecision::Float64;
  double early_stop_pc1 = 0.5;

  bool computes(const std::string& metric) const;
  // The dtype this spec runs in (resolving the default from the device).
  std::string effective_dtype() const;
};

}  // namespace depthscale::config
