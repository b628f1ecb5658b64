#include "probe/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

namespace depthscale::probe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The reference implementation refuses headers above 100 MB; a larger length is corruption.
constexpr uint64_t kMaxHeader = 100'000'000;

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw SafetensorsError(file + ": " + what);
}
[[noreturn]] void fail_tensor(const std::string& file, const std::string& tensor,
                              const std::string& what) {
  throw SafetensorsError(file + ": tensor '" + tensor + "': " + what);
}

bool little_endian_host() {
  const uint16_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

struct DtypeRow {
  const char* name;
  size_t size;
  bool torch_ok;
  torch::Dtype torch;
};
const DtypeRow kDtypes[] = {
    {"F64", 8, true, torch::kFloat64},
    {"F32", 4, true, torch::kFloat32},
    {"F16", 2, true, torch::kFloat16},
    {"BF16", 2, true, torch::kBFloat16},
    {"I64", 8, true, torch::kInt64},
    {"I32", 4, true, torch::kInt32},
    {"I16", 2, true, torch::kInt16},
    {"I8", 1, true, torch::kInt8},
    {"U8", 1, true, torch::kUInt8},
    {"BOOL", 1, true, torch::kBool},
    // Valid in the format, but LibTorch 1.13 has no such dtype: listed so validation accepts the
    // file and only loading them fails.
    {"U16", 2, false, torch::kFloat32},
    {"U32", 4, false, torch::kFloat32},
    {"U64", 8, false, torch::kFloat32},
    {"F8_E4M3", 1, false, torch::kFloat32},
    {"F8_E5M2", 1, false, torch::kFloat32},
};

const DtypeRow* find_dtype(const std::string& name) {
  for (const auto& row : kDtypes)
    if (name == row.name) return &row;
  return nullptr;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

}  // namespace

size_t dtype_size(const std::string& dtype) {
  const auto* row = find_dtype(dtype);
  return row ? row->size : 0;
}

std::string dtype_name(torch::Dtype dtype) {
  for (const auto& row : kDtypes)
    if (row.torch_ok && row.torch == dtype) return row.name;
  throw SafetensorsError(std::string("no safetensors dtype for ") + c10::toString(dtype));
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  if (!little_endian_host()) fail(path, "safetensors data is little-endian; this host is not");
  file_ = MappedFile::open<SafetensorsError>(path);
  map_ = file_.data();
  size_ = file_.size();
  {
    if (size_ < 8)
      fail(path, "file of " + std::to_string(size_) + " bytes has no 8-byte header length");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | map_[i];
    if (n > kMaxHeader || n > size_ - 8)
      fail(path, "header length " + std::to_string(n) + " exceeds the file (" +
                     std::to_string(size_) + " bytes) or the 100 MB limit");
    data_start_ = 8 + n;
    const uint64_t data_size = size_ - data_start_;

    json header;
    try {
      header = json::parse(reinterpret_cast<const char*>(map_ + 8),
                           reinterpret_cast<const char*>(map_ + 8 + n));
    } catch (const json::exception& e) {
      fail(path, std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object()) fail(path, "header is not a JSON object");

    std::vector<std::pair<uint64_t, std::string>> order;
    for (auto it = header.begin(); it != header.end(); ++it) {
      const std::string& name = it.key();
      const json& v = it.value();
      if (name == "__metadata__") {
        if (!v.is_object()) fail(path, "__metadata__ is not an object");
        for (auto m = v.begin(); m != v.end(); ++m) {
          if (!m.value().is_string())
            fail(path, "__metadata__ entry '" + m.key() + "' is not a string");
          metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      if (!v.is_object()) fail_tensor(path, name, "entry is not an object");
      TensorInfo t;
      t.file = path;
      if (!v.contains("dtype") || !v["dtype"].is_string())
        fail_tensor(path, name, "missing or non-string 'dtype'");
      t.dtype = v["dtype"].get<std::string>();
      const auto* row = find_dtype(t.dtype);
      if (!row) fail_tensor(path, name, "unknown dtype '" + t.dtype + "'");
      if (!v.contains("shape") || !v["shape"].is_array())
        fail_tensor(path, name, "missing or non-array 'shape'");
      uint64_t count = 1;
      for (const auto& d : v["shape"]) {
        if (!d.is_number_integer() || d.get<int64_t>() < 0)
          fail_tensor(path, name, "shape has an entry that is not a non-negative integer");
        const auto dim = d.get<uint64_t>();
        if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / 8 / dim)
          fail_tensor(path, name, "shape overflows");
        count *= dim;
        t.shape.push_back(int64_t(dim));
      }
      const auto& off = v.contains("data_offsets") ? v["data_offsets"] : json();
      if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
          !off[1].is_number_unsigned())
        fail_tensor(path, name, "'data_offsets' is not a pair of non-negative integers");
      t.begin = off[0].get<uint64_t>();
      t.end = off[1].get<uint64_t>();
      if (t.begin > t.end || t.end > data_size)
        fail_tensor(path, name,
                    "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                        "] out of range of the " + std::to_string(data_size) + "-byte data buffer");
      if (t.end - t.begin != count * row->size)
        fail_tensor(path, name,
                    "data_offsets span " + std::to_string(t.end - t.begin) + " bytes but " +
                        t.dtype + " " + shape_str(t.shape) + " needs " +
                        std::to_string(count * row->size));
      order.emplace_back(t.begin, name);
      tensors_.emplace(name, std::move(t));
    }
    // Sorted by start (ties: the empty tensor first), every tensor must begin where the previous
    // ended and the last must end at the end of the buffer.
    std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return tensors_[a.second].end < tensors_[b.second].end;
    });
    uint64_t at = 0;
    for (const auto& [begin, name] : order) {
      const auto& t = tensors_[name];
      if (begin < at)
        fail_tensor(path, name,
                    "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                        "] overlap the previous tensor (which ends at " + std::to_string(at) + ")");
      if (begin > at)
        fail_tensor(path, name,
                    "data_offsets start at " + std::to_string(begin) + ", leaving a gap after " +
                        std::to_string(at));
      at = t.end;
    }
    if (at != data_size) {
      const std::string what = "the tensors end at byte " + std::to_string(at) + " of the " +
                               std::to_string(data_size) + "-byte data buffer (trailing bytes)";
      if (order.empty()) fail(path, what);
      fail_tensor(path, order.back().second, "is the last tensor, but " + what);
    }
  }
}

SafetensorsFile::~SafetensorsFile() = default;

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail_tensor(path_, name, "not in this file");
  return it->second;
}

torch::Tensor SafetensorsFile::load(const std::string& name) const {
  const auto& t = info(name);
  const auto* row = find_dtype(t.dtype);
  if (!row->torch_ok)
    fail_tensor(path_, name, "dtype " + t.dtype + " is not supported by LibTorch");
  // Copy out of the mapping: the data need not be aligned for the element type, and the tensor
  // must outlive this file.
  auto out = torch::empty(t.shape, torch::TensorOptions().dtype(row->torch));
  if (t.end > t.begin) std::memcpy(out.data_ptr(), map_ + data_start_ + t.begin, t.end - t.begin);
  return out;
}

torch::Tensor SafetensorsFile::load(const std::string& name, torch::Dtype dtype) const {
  auto t = load(name);
  return t.scalar_type() == dtype ? t : t.to(dtype);
}

// --- writer -------------------------------------------------------------------------------------

void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                       const std::function<torch::Tensor(const std::string&)>& fetch,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t at = 0;
  std::vector<uint64_t> sizes;
  for (const auto& e : entries) {
    const size_t item = dtype_size(e.dtype);
    if (!item) fail(path, "tensor '" + e.name + "': unknown dtype '" + e.dtype + "'");
    if (header.contains(e.name)) fail(path, "tensor '" + e.name + "' listed twice");
    uint64_t bytes = item;
    for (int64_t d : e.shape) bytes *= uint64_t(d);
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {at, at + bytes}}};
    at += bytes;
    sizes.push_back(bytes);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path, "cannot open for writing");
  uint8_t len[8];
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(n >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), std::streamsize(text.size()));
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    auto c = fetch(e.name).detach().to(torch::kCPU).contiguous();
    if (dtype_name(c.scalar_type()) != e.dtype || c.sizes().vec() != e.shape)
      fail_tensor(path, e.name,
                  "the data given is " + dtype_name(c.scalar_type()) + " " +
                      shape_str(c.sizes().vec()) + " but its header entry says " + e.dtype + " " +
                      shape_str(e.shape));
    out.write(static_cast<const char*>(c.data_ptr()), std::streamsize(sizes[i]));
  }
  if (!out.flush()) fail(path, "write failed");
}

void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, t] : tensors)
    entries.push_back({name, dtype_name(t.scalar_type()), t.sizes().vec()});
  write_safetensors(
      path, entries, [&](const std::string& name) { return tensors.at(name); }, metadata);
}

}  // namespace depthscale::probe
