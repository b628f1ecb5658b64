#include "probe/checkpoint.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace depthscale::probe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw CheckpointError(file + ": " + what);
}
[[noreturn]] void fail_tensor(const std::string& file, const std::string& tensor,
                              const std::string& what) {
  throw CheckpointError(file + ": tensor '" + tensor + "': " + what);
}

}  // namespace

Checkpoint::Checkpoint(const std::string& model_dir) : dir_(model_dir) {
  const fs::path dir(model_dir);
  for (const char* name : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                           "pytorch_model.bin.index.json"}) {
    if (!fs::exists(dir / name)) continue;
    source_ = name;
    const std::string path = (dir / name).string();
    if (source_ == "model.safetensors")
      add_safetensors(path);
    else if (source_ == "pytorch_model.bin")
      add_torch(path);
    else
      read_index(path, source_ == "pytorch_model.bin.index.json");
    return;
  }
  fail(model_dir,
       "no weights: none of model.safetensors, model.safetensors.index.json, pytorch_model.bin, "
       "pytorch_model.bin.index.json");
}

void Checkpoint::add_safetensors(const std::string& path) {
  safetensors_.push_back(std::make_unique<SafetensorsFile>(path));
  for (const auto& [name, _] : safetensors_.back()->tensors())
    where_[name].safetensors = safetensors_.back().get();
}

void Checkpoint::add_torch(const std::string& path) {
  torch_.push_back(std::make_unique<TorchCheckpointFile>(path));
  for (const auto& [name, _] : torch_.back()->tensors()) where_[name].torch = torch_.back().get();
}

void Checkpoint::read_index(const std::string& ipath, bool torch_shards) {
  index_ = true;
  json j;
  try {
    std::ifstream in(ipath);
    j = json::parse(in);
  } catch (const json::exception& e) {
    fail(ipath, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail(ipath, "no 'weight_map' object");
  const fs::path dir(dir_);
  std::map<std::string, Where> by_file;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string()) fail_tensor(ipath, it.key(), "weight_map entry is not a string");
    const std::string shard = it.value().get<std::string>();
    // Shards live beside the index; a path elsewhere is not a Hugging Face layout.
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
      fail_tensor(ipath, it.key(), "shard name '" + shard + "' is not a file name");
    auto f = by_file.find(shard);
    if (f == by_file.end()) {
      const fs::path p = dir / shard;
      if (!fs::exists(p)) fail_tensor(ipath, it.key(), "shard file " + p.string() + " is missing");
      Where w;
      if (torch_shards) {
        torch_.push_back(std::make_unique<TorchCheckpointFile>(p.string()));
        w.torch = torch_.back().get();
      } else {
        safetensors_.push_back(std::make_unique<SafetensorsFile>(p.string()));
        w.safetensors = safetensors_.back().get();
      }
      f = by_file.emplace(shard, w).first;
    }
    const Where& w = f->second;
    if (w.torch ? !w.torch->contains(it.key()) : !w.safetensors->contains(it.key()))
      fail_tensor(w.torch ? w.torch->path() : w.safetensors->path(), it.key(),
                  "listed in " + ipath + " but not in this shard");
    where_[it.key()] = w;
  }
}

const TensorInfo& Checkpoint::info(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) fail(dir_, "tensor '" + name + "' is missing from " + source_);
  return it->second.torch ? it->second.torch->info(name) : it->second.safetensors->info(name);
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : where_) out.push_back(name);
  return out;
}

torch::Tensor Checkpoint::load(const std::string& name) const {
  info(name);  // throws the missing-tensor message
  const Where& w = where_.at(name);
  return w.torch ? w.torch->load(name) : w.safetensors->load(name);
}

torch::Tensor Checkpoint::load(const std::string& name, torch::Dtype dtype) const {
  auto t = load(name);
  return t.scalar_type() == dtype ? t : t.to(dtype);
}

}  // namespace depthscale::probe
