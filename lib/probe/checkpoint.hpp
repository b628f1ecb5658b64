// The weights of a Hugging Face model directory, whatever form they were published in.
//
// A model directory is read in the first of these forms that it has:
//   1. model.safetensors                   one safetensors file (probe/safetensors.hpp)
//   2. model.safetensors.index.json        safetensors shards listed by the index
//   3. pytorch_model.bin                   one torch.save file (probe/torch_checkpoint.hpp)
//   4. pytorch_model.bin.index.json        torch.save shards (pytorch_model-0000k-of-0000n.bin)
//                                          listed by the index
// so safetensors win when a folder holds both (after `depthscale convert` into the same folder,
// say). An index is {"metadata": {...}, "weight_map": {tensor: shard file}}; every shard is opened
// and validated up front, must lie beside the index and must hold every tensor the index lists
// for it (tensors a shard holds beyond those are ignored). Every file is memory-mapped; load()
// copies one tensor out. Errors name the file and the tensor.
#pragma once

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "probe/safetensors.hpp"
#include "probe/torch_checkpoint.hpp"

namespace depthscale::probe {

class CheckpointError : public depthscale::Error {
 public:
  using depthscale::Error::Error;
};

class Checkpoint {
 public:
  explicit Checkpoint(const std::string& model_dir);

  const std::string& dir() const { return dir_; }
  // The file the weights came from, relative to dir(): model.safetensors,
  // model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json.
  const std::string& source() const { return source_; }
  bool sharded() const { return index_; }           // weights came through an index
  bool pytorch() const { return !torch_.empty(); }  // torch.save files, not safetensors
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  // dtype (safetensors name), shape and file of a tensor; throws naming tensor and directory.
  const TensorInfo& info(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  // A copy of the tensor (contiguous, owned memory) converted to `dtype`.
  torch::Tensor load(const std::string& name, torch::Dtype dtype) const;
  // As stored.
  torch::Tensor load(const std::string& name) const;

 private:
  void read_index(const std::string& index_name, bool torch_shards);
  void add_safetensors(const std::string& path);
  void add_torch(const std::string& path);

  struct Where {
    const SafetensorsFile* safetensors = nullptr;
    const TorchCheckpointFile* torch = nullptr;
  };
  std::string dir_;
  std::string source_;
  bool index_ = false;
  std::vector<std::unique_ptr<SafetensorsFile>> safetensors_;
  std::vector<std::unique_ptr<TorchCheckpointFile>> torch_;
  std::map<std::string, Where> where_;
};

}  // namespace depthscale::probe
