// `depthscale convert MODEL_DIR OUT_DIR [--shard-size 5GB] [--overwrite]`: a model folder's
// weights, in any form probe::Checkpoint reads (safetensors or pytorch_model.bin, single or
// sharded), rewritten as safetensors, with config.json and the tokenizer files copied beside them,
// so that a PyTorch checkpoint is read through the restricted unpickler once and never again.
//
// Output: model.safetensors, or, past the shard size, model-0000k-of-0000n.safetensors plus
// model.safetensors.index.json ({"metadata": {"total_size"}, "weight_map"}), as Hugging Face
// names them. Every tensor keeps its name, dtype and shape (tensors that shared a storage, as tied
// embeddings, are written once per name). Every file is written beside its final name, synced and
// renamed into place (the index last), so a crash never leaves a half-written file under a name
// that Checkpoint reads.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "error/error.hpp"
#include "probe/checkpoint.hpp"
#include "store/files.hpp"

namespace depthscale::app {

namespace {

namespace fs = std::filesystem;

struct ConvertOptions {
  std::string model_dir, out_dir;
  uint64_t shard_size = 5'000'000'000;  // Hugging Face's default "5GB"
  bool overwrite = false;
};

// Copied when present: what the probes, the tokenize command and Hugging Face read besides the
// weights.
const char* const kSideFiles[] = {"config.json",
                                  "generation_config.json",
                                  "tokenizer.json",
                                  "tokenizer_config.json",
                                  "special_tokens_map.json",
                                  "added_tokens.json",
                                  "vocab.json",
                                  "merges.txt",
                                  "vocab.txt",
                                  "tokenizer.model"};

std::string gb(uint64_t bytes) {
  char s[32];
  std::snprintf(s, sizeof s, "%.3g GB", bytes / 1e9);
  return s;
}

// Writes through a temporary name beside `path`, synced and renamed into place.
void write_atomically(const std::string& path,
                      const std::function<void(const std::string&)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
    store::fsync_path(tmp);
    store::rename_durably(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

// The safetensors weights a previous conversion left in `dir`: model.safetensors, the index and
// the shards it lists.
std::vector<fs::path> existing_outputs(const fs::path& dir) {
  std::vector<fs::path> out;
  if (fs::exists(dir / "model.safetensors")) out.push_back(dir / "model.safetensors");
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index)) {
    out.push_back(index);
    try {
      const auto j = nlohmann::json::parse(store::read_bytes(index.string()));
      for (const auto& [_, shard] : j.at("weight_map").items())
        if (shard.is_string() && shard.get<std::string>().find('/') == std::string::npos &&
            fs::exists(dir / shard.get<std::string>()))
          out.push_back(dir / shard.get<std::string>());
    } catch (const std::exception&) {
      // An unreadable index lists nothing more to remove.
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

int convert(const ConvertOptions& o) {
  const probe::Checkpoint ckpt(o.model_dir);
  const fs::path out(o.out_dir);
  fs::create_directories(out);
  const bool same_dir = fs::equivalent(fs::path(o.model_dir), out);
  if (same_dir && !ckpt.pytorch())
    throw InputError(o.out_dir +
                     ": is the model folder itself, whose weights are safetensors "
                     "already (" +
                     ckpt.source() + "); choose another output folder");
  const auto old = existing_outputs(out);
  if (!old.empty()) {
    if (!o.overwrite)
      throw InputError(o.out_dir + ": holds safetensors weights already (" +
                       old.front().filename().string() + "); pass --overwrite to replace them");
    for (const auto& p : old) fs::remove(p);
  }

  // Shards in name order, each up to the shard size (a larger tensor goes alone).
  std::vector<std::vector<probe::SafetensorsEntry>> shards(1);
  std::vector<uint64_t> shard_bytes(1, 0);
  uint64_t total = 0;
  for (const auto& name : ckpt.names()) {
    const auto& info = ckpt.info(name);
    uint64_t bytes = probe::dtype_size(info.dtype);
    for (int64_t d : info.shape) bytes *= uint64_t(d);
    if (!shards.back().empty() && shard_bytes.back() + bytes > o.shard_size) {
      shards.emplace_back();
      shard_bytes.push_back(0);
    }
    shards.back().push_back({name, info.dtype, info.shape});
    shard_bytes.back() += bytes;
    total += bytes;
  }
  spdlog::info("convert: {} tensors ({}) from {}/{} into {} safetensors file(s) in {}",
               ckpt.names().size(), gb(total), o.model_dir, ckpt.source(), shards.size(),
               o.out_dir);

  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  auto fetch = [&](const std::string& name) { return ckpt.load(name); };
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    const std::string file = shards.size() == 1 ? "model.safetensors" : name;
    write_atomically((out / file).string(), [&](const std::string& tmp) {
      probe::write_safetensors(tmp, shards[s], fetch, metadata);
    });
    for (const auto& e : shards[s]) weight_map[e.name] = file;
    spdlog::info("convert: wrote {} ({} tensors, {})", file, shards[s].size(), gb(shard_bytes[s]));
  }
  if (shards.size() > 1) {
    const nlohmann::json index = {{"metadata", {{"total_size", total}}},
                                  {"weight_map", weight_map}};
    const std::string text = index.dump(2) + "\n";
    store::write_file_atomically((out / "model.safetensors.index.json").string(),
                                 std::vector<char>(text.begin(), text.end()));
  }

  std::string copied;
  for (const char* side : kSideFiles) {
    const fs::path from = fs::path(o.model_dir) / side;
    if (!fs::exists(from) || same_dir) continue;
    store::write_file_atomically((out / side).string(), store::read_bytes(from.string()));
    copied += (copied.empty() ? "" : ", ") + std::string(side);
  }
  if (!same_dir && !fs::exists(fs::path(o.model_dir) / "config.json"))
    spdlog::warn("convert: {} has no config.json; the probes need one beside the weights",
                 o.model_dir);

  // Read back: every name, dtype and shape as in the source.
  const probe::Checkpoint back(o.out_dir);
  if (back.pytorch() || back.names() != ckpt.names())
    throw Error(o.out_dir + ": the written safetensors do not list the source's tensors");
  for (const auto& n : ckpt.names())
    if (back.info(n).dtype != ckpt.info(n).dtype || back.info(n).shape != ckpt.info(n).shape)
      throw Error(back.info(n).file + ": tensor '" + n + "' was written with another dtype/shape");
  std::printf(
      "convert: %zu tensors (%s) from %s into %s (%s)%s%s\n", ckpt.names().size(),
      gb(total).c_str(), ckpt.source().c_str(), o.out_dir.c_str(),
      shards.size() == 1
          ? "model.safetensors"
          : (std::to_string(shards.size()) + " shards + model.safetensors.index.json").c_str(),
      copied.empty() ? "" : "; copied ", copied.c_str());
  return kDone;
}

}  // namespace

Command add_convert(CLI::App& app) {
  auto o = std::make_shared<ConvertOptions>();
  auto* cmd = app.add_subcommand(
      "convert",
      "a model folder's weights (model.safetensors[.index.json] or pytorch_model.bin[.index.json]) "
      "as safetensors, with config.json and the tokenizer files");
  cmd->add_option("model_dir", o->model_dir, "the model folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("out_dir", o->out_dir,
                  "where to write (created if missing; may be model_dir "
                  "itself when its weights are pytorch_model.bin)")
      ->required();
  cmd->add_option("--shard-size", o->shard_size,
                  "largest shard: one model.safetensors up to this size, else "
                  "model-0000k-of-0000n.safetensors and an index (5GB = 5e9 bytes; KiB, MiB, GiB "
                  "are powers of 2)")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(true))
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--overwrite", o->overwrite,
                "replace the safetensors weights (and their shards) already in out_dir");
  return {cmd, [o]() -> int { return convert(*o); }, "convert: "};
}

}  // namespace depthscale::app
