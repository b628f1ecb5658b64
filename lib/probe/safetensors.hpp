// Reading (and, for tests and fixtures, writing) the safetensors format, as Hugging Face model
// directories hold it on disk.
//
// File layout: an 8-byte little-endian header length N, N bytes of JSON, then the data buffer.
// The JSON maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
// relative to the data buffer) and may hold a "__metadata__" object of strings. A file is accepted
// only when every entry is well formed, its byte count equals prod(shape) · sizeof(dtype), and the
// entries, sorted by offset, tile the whole buffer (contiguous, non-overlapping, nothing left
// over), as the reference implementation requires. Every error names the file and, where there is
// one, the tensor.
//
// A model directory's weights (safetensors or PyTorch's pytorch_model.bin, single or sharded) are
// read through Checkpoint (probe/checkpoint.hpp).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "probe/mapped_file.hpp"

namespace depthscale::probe {

class SafetensorsError : public depthscale::Error {
 public:
  using depthscale::Error::Error;
};

struct TensorInfo {
  std::string dtype;            // safetensors name: F32, F16, BF16, F64, I64, ...
  std::vector<int64_t> shape;   // empty for a scalar
  uint64_t begin = 0, end = 0;  // byte range in the data buffer
  std::string file;             // path of the file that holds it
};

// One memory-mapped safetensors file, validated on open.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  const TensorInfo& info(const std::string& name) const;  // throws naming tensor and file

  // A copy of the tensor (owned memory, not the mapping), converted to `dtype`. Throws for a
  // dtype LibTorch cannot represent (e.g. U16, F8_*) naming tensor and file.
  torch::Tensor load(const std::string& name, torch::Dtype dtype) const;
  // As stored (no conversion).
  torch::Tensor load(const std::string& name) const;

 private:
  std::string path_;
  MappedFile file_;
  const uint8_t* map_ = nullptr;  // file_.data(), file_.size()
  size_t size_ = 0;
  uint64_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Bytes per element of a safetensors dtype name; 0 for an unknown name.
size_t dtype_size(const std::string& dtype);
// The safetensors name of a LibTorch dtype (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL).
std::string dtype_name(torch::Dtype dtype);

// Writes `tensors` (CPU or not; copied to contiguous CPU memory) in sorted-name order, the header
// padded with spaces to a multiple of 8 bytes as Hugging Face writes it.
void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// One tensor of a file that write_safetensors streams: its header entry.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // safetensors name
  std::vector<int64_t> shape;
};
// Streams a file: the header of `entries` (data in their order), then each tensor's bytes from
// `fetch(name)`, called once per entry in order, so that only one tensor is in memory at a time.
// What `fetch` returns must have the entry's dtype and shape (else an error names the tensor).
void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                       const std::function<torch::Tensor(const std::string&)>& fetch,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace depthscale::probe
