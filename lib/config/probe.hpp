// The `probe:` mapping of a `kind: probe` job (SPEC.md §2), validated by config::parse_job with
// the rest of the job (same reader, same "file:line: probe.key: message" errors). What the keys
// do at run time is described in probe/runner.hpp.
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
//     check_tokenizer: true       # the shards' tokenizer hash must be the model folder's
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

  // The dtype this spec runs in (resolving the default from the device).
  std::string effective_dtype() const;
};

}  // namespace depthscale::config
