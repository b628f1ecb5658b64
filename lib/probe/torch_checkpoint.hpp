// Reading PyTorch's checkpoint format (torch.save since PyTorch 1.6, the pytorch_model.bin of
// Hugging Face model folders), without Python and without executing anything.
//
// THE FORMAT
//
// A torch.save file is a ZIP archive. PyTorch writes every entry STORED (method 0, no
// compression), its data aligned to 64 bytes through padding in the local header's extra field,
// and switches to ZIP64 records (sizes and offsets of 0xFFFFFFFF in the 32-bit fields, the real
// values in extra field 0x0001; a ZIP64 end-of-central-directory record found through its
// locator) when an entry or the archive passes 4 GiB, as multi-GB shards do. All entries live in
// one folder whose name varies ("archive/", or the stem of the file it was first saved as):
//
//   <archive>/data.pkl     the object, pickled (protocol 2 by default; 2..5 accepted)
//   <archive>/data/<key>   the raw bytes of one storage (little-endian elements), one per key
//   <archive>/byteorder    "little" or "big" (written since PyTorch 2.x; absent means little)
//   <archive>/version      the archive format version, a decimal integer
//   <archive>/.data/..., <archive>/.format_version, ...   bookkeeping of newer PyTorch; ignored
//
// For a state dict, data.pkl unpickles to a dict (collections.OrderedDict, or a plain dict for
// Hugging Face's shards) of name → tensor. Each tensor is
//   torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
//                                   backward_hooks[, metadata])
// where `storage` comes from a persistent id (opcode BINPERSID) of the form
//   ('storage', torch.<X>Storage, key, location, numel)
// naming the blob data/<key>, its element type (FloatStorage = F32, HalfStorage = F16,
// BFloat16Storage = BF16, DoubleStorage = F64, LongStorage = I64, IntStorage = I32,
// ShortStorage = I16, CharStorage = I8, ByteStorage = U8, BoolStorage = BOOL; PyTorch 2.x still
// writes these names for its TypedStorage), the device it was saved from ("cpu", "cuda:0": all
// read to the CPU) and its element count. Offsets and strides count elements. Several tensors may
// share one storage (tied embeddings saved under two names, slices of one buffer); each tensor may
// be any strided view of it. torch.nn.Module.state_dict() also sets the attribute _metadata on its
// OrderedDict, pickled as a BUILD of {"_metadata": {...}}.
//
// THE RESTRICTED UNPICKLER
//
// Pickle is a program: GLOBAL names any Python callable and REDUCE calls it, so unpickling an
// untrusted file with Python's pickle runs whatever it says (os.system, builtins.eval, ...). This
// reader interprets only the opcodes a state dict uses (PROTO, FRAME, MARK, the EMPTY_* and
// TUPLE* builders, SETITEM(S), APPEND(S), the memo opcodes, the int, float, bool, None and
// unicode literals, GLOBAL / STACK_GLOBAL, REDUCE, BUILD, BINPERSID, STOP) and builds plain values
// of its own. GLOBAL and STACK_GLOBAL accept only collections.OrderedDict,
// torch._utils._rebuild_tensor_v2, torch._utils._rebuild_tensor, torch._utils._rebuild_parameter
// and the torch.<X>Storage names above; REDUCE applies only the first four, as recipes that make
// a value here (an empty ordered dict, a tensor description), never by calling anything. BUILD is
// accepted only on a dict, and its state is ignored. Anything else (an unknown or unsupported
// opcode, any other global) is refused when it is read, before anything after it, with an error
// naming the file, the byte offset in data.pkl and the opcode or global. Its values live in one
// arena and refer to each other by plain pointers: nothing is traversed recursively, so no crafted
// nesting or cycle can exhaust the stack.
//
// The top-level object must be a dict whose keys are strings and whose values are tensors;
// anything else is refused, naming the key. Every tensor is checked: dtype known, sizes and
// strides non-negative and of equal rank, offset plus extent inside its storage, and the storage
// blob's length equal to numel · itemsize of its type.
//
// WHAT IS NOT SUPPORTED: the legacy format of torch.save(_use_new_zipfile_serialization=False)
// (and of PyTorch < 1.6), a raw pickle stream, which is refused with a message saying to re-save
// it with a newer PyTorch or convert it to safetensors; TorchScript archives (torch.jit.save);
// compressed or encrypted entries; big-endian data. CRC-32 is checked for data.pkl only: the
// storages are read lazily, straight from the memory-mapped file.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "probe/mapped_file.hpp"
#include "probe/safetensors.hpp"

namespace depthscale::probe {

class TorchCheckpointError : public depthscale::Error {
 public:
  using depthscale::Error::Error;
};

// One tensor of data.pkl, as the unpickler describes it (no data yet).
struct PickledTensor {
  std::string dtype;           // safetensors name: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL
  std::string storage;         // the key: its bytes are <archive>/data/<storage>
  uint64_t storage_numel = 0;  // elements of the storage, as its persistent id says
  uint64_t offset = 0;         // storage offset, in elements
  std::vector<int64_t> shape;  // empty for a scalar
  std::vector<int64_t> strides;  // in elements, one per dimension
};

// Interprets `pickle` (the bytes of data.pkl) with the restricted unpickler described above and
// returns the state dict it holds. `where` names it in errors ("x.bin:archive/data.pkl").
std::map<std::string, PickledTensor> unpickle_state_dict(const uint8_t* pickle, size_t size,
                                                         const std::string& where);

// One memory-mapped torch.save file, read and validated on open (the pickle interpreted, every
// storage blob located and size-checked); tensors are copied out on load.
class TorchCheckpointFile {
 public:
  explicit TorchCheckpointFile(const std::string& path);
  ~TorchCheckpointFile();
  TorchCheckpointFile(const TorchCheckpointFile&) = delete;
  TorchCheckpointFile& operator=(const TorchCheckpointFile&) = delete;

  struct Tensor {
    // dtype, shape and file as for safetensors; [begin, end) is the byte range of the file that
    // the tensor's elements lie in (its first to its last element).
    TensorInfo info;
    std::vector<int64_t> strides;   // in elements
    const uint8_t* data = nullptr;  // the element at index 0 (storage + offset), in the mapping
    std::string storage;            // the storage key: tensors that share one name it alike
  };

  const std::string& path() const { return path_; }
  const std::string& archive() const { return archive_; }  // the folder name inside the ZIP
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  const Tensor& tensor(const std::string& name) const;  // throws naming tensor and file
  const TensorInfo& info(const std::string& name) const { return tensor(name).info; }

  // A contiguous copy (owned memory) of the tensor, as stored or converted to `dtype`.
  torch::Tensor load(const std::string& name) const;
  torch::Tensor load(const std::string& name, torch::Dtype dtype) const;

 private:
  std::string path_;
  std::string archive_;
  MappedFile file_;
  const uint8_t* map_ = nullptr;  // file_.data(), file_.size()
  size_t size_ = 0;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace depthscale::probe
