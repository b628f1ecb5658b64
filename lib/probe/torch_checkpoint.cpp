#include "probe/torch_checkpoint.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <unordered_map>

namespace depthscale::probe {
namespace {

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw TorchCheckpointError(where + ": " + what);
}

uint64_t le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The storage types of the allowlist and their elements.
struct StorageType {
  const char* name;   // torch.<name>
  const char* dtype;  // safetensors name
  size_t size;
};
const StorageType kStorageTypes[] = {
    {"FloatStorage", "F32", 4},  {"HalfStorage", "F16", 2}, {"BFloat16Storage", "BF16", 2},
    {"DoubleStorage", "F64", 8}, {"LongStorage", "I64", 8}, {"IntStorage", "I32", 4},
    {"ShortStorage", "I16", 2},  {"CharStorage", "I8", 1},  {"ByteStorage", "U8", 1},
    {"BoolStorage", "BOOL", 1},
};

// --- ZIP ----------------------------------------------------------------------------------------

struct ZipEntry {
  std::string name;
  uint16_t flags = 0, method = 0;
  uint32_t crc = 0;
  uint64_t data = 0;  // offset of the first data byte in the file
  uint64_t size = 0;  // compressed size (= uncompressed size when stored)
  uint64_t uncompressed = 0;
};

std::string method_name(uint16_t m) {
  switch (m) {
    case 8:
      return "deflate";
    case 9:
      return "deflate64";
    case 12:
      return "bzip2";
    case 14:
      return "lzma";
    case 93:
      return "zstd";
    case 99:
      return "AES";
  }
  return "unknown";
}

// The central directory of the ZIP archive in [map, map + size): every entry located, its data
// range inside the file. ZIP64 records are honoured; multi-disk archives are refused.
std::map<std::string, ZipEntry> read_zip(const std::string& path, const uint8_t* map, size_t size) {
  auto bad = [&](const std::string& what) { fail(path, "not a valid ZIP archive: " + what); };
  if (size < 22) bad("shorter than an end-of-central-directory record");
  // The end-of-central-directory record: 22 bytes plus a comment of up to 65535 bytes at the end.
  uint64_t eocd = 0;
  bool found = false;
  const uint64_t lowest = size >= 22 + 65535 ? size - 22 - 65535 : 0;
  for (uint64_t at = size - 22 + 1; at-- > lowest;) {
    if (le(map + at, 4) == 0x06054b50 && at + 22 + le(map + at + 20, 2) == size) {
      eocd = at;
      found = true;
      break;
    }
  }
  if (!found) bad("no end-of-central-directory record (truncated or not a ZIP file)");
  uint64_t disk = le(map + eocd + 4, 2), cd_disk = le(map + eocd + 6, 2);
  uint64_t count = le(map + eocd + 10, 2);
  uint64_t cd_size = le(map + eocd + 12, 4), cd_offset = le(map + eocd + 16, 4);
  // ZIP64: a locator right before the record points at the ZIP64 end-of-central-directory.
  if (eocd >= 20 && le(map + eocd - 20, 4) == 0x07064b50) {
    const uint64_t z = le(map + eocd - 20 + 8, 8);
    if (z > size || size - z < 56 || le(map + z, 4) != 0x06064b50)
      bad("the ZIP64 locator points at no ZIP64 end-of-central-directory record");
    disk = le(map + z + 16, 4);
    cd_disk = le(map + z + 20, 4);
    count = le(map + z + 32, 8);
    cd_size = le(map + z + 40, 8);
    cd_offset = le(map + z + 48, 8);
  } else if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    bad("ZIP64 fields but no ZIP64 end-of-central-directory locator");
  }
  if (disk != 0 || cd_disk != 0) bad("multi-disk archives are not supported");
  if (cd_offset > size || cd_size > size - cd_offset) bad("central directory outside the file");

  std::map<std::string, ZipEntry> entries;
  uint64_t at = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (cd_end - at < 46 || le(map + at, 4) != 0x02014b50)
      bad("central directory entry " + std::to_string(i) + " of " + std::to_string(count) +
          " is damaged");
    const uint8_t* h = map + at;
    ZipEntry e;
    e.flags = uint16_t(le(h + 8, 2));
    e.method = uint16_t(le(h + 10, 2));
    e.crc = uint32_t(le(h + 16, 4));
    e.size = le(h + 20, 4);
    e.uncompressed = le(h + 24, 4);
    const uint64_t nlen = le(h + 28, 2), elen = le(h + 30, 2), clen = le(h + 32, 2);
    uint64_t local = le(h + 42, 4);
    if (cd_end - at < 46 + nlen + elen + clen)
      bad("central directory entry " + std::to_string(i) + " runs past the directory");
    e.name.assign(reinterpret_cast<const char*>(h + 46), nlen);
    // ZIP64 extended information: the 64-bit values of the fields that read 0xFFFFFFFF, in order.
    const bool need_u = e.uncompressed == 0xFFFFFFFF, need_c = e.size == 0xFFFFFFFF,
               need_o = local == 0xFFFFFFFF;
    if (need_u || need_c || need_o) {
      bool got = false;
      for (uint64_t x = 0; x + 4 <= elen;) {
        const uint8_t* f = h + 46 + nlen + x;
        const uint64_t id = le(f, 2), len = le(f + 2, 2);
        if (x + 4 + len > elen) break;
        if (id == 0x0001) {
          const uint64_t want = 8 * (need_u + need_c + need_o);
          if (len < want) bad("entry '" + e.name + "': ZIP64 extra field too short");
          const uint8_t* v = f + 4;
          if (need_u) e.uncompressed = le(v, 8), v += 8;
          if (need_c) e.size = le(v, 8), v += 8;
          if (need_o) local = le(v, 8);
          got = true;
          break;
        }
        x += 4 + len;
      }
      if (!got) bad("entry '" + e.name + "': 32-bit fields say ZIP64 but it has no ZIP64 field");
    }
    if (local > size || size - local < 30 || le(map + local, 4) != 0x04034b50)
      bad("entry '" + e.name + "': no local header at offset " + std::to_string(local));
    const uint64_t lnlen = le(map + local + 26, 2), lelen = le(map + local + 28, 2);
    if (lnlen != nlen || std::memcmp(map + local + 30, e.name.data(), nlen) != 0)
      bad("entry '" + e.name + "': its local header names another file");
    e.data = local + 30 + lnlen + lelen;
    if (e.data > size || e.size > size - e.data)
      bad("entry '" + e.name + "' (" + std::to_string(e.size) + " bytes at offset " +
          std::to_string(e.data) + ") runs past the end of the file (" + std::to_string(size) +
          " bytes): truncated?");
    if (!entries.emplace(e.name, e).second) bad("entry '" + e.name + "' appears twice");
    at += 46 + nlen + elen + clen;
  }
  return entries;
}

uint32_t crc32(const uint8_t* p, size_t n) {
  static const auto table = [] {
    std::vector<uint32_t> t(256);
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// --- the restricted unpickler -------------------------------------------------------------------

// The callables of the allowlist, and the storage types (which may only appear in a persistent
// id).
enum class Callable { ordered_dict, rebuild_tensor_v2, rebuild_tensor, rebuild_parameter, storage };

struct Obj {
  enum Kind { none, boolean, integer, real, str, tuple, list, dict, global, storage, tensor };
  Kind kind = none;
  int64_t i = 0;  // boolean, integer
  double f = 0;
  std::string s;            // str; global: "module.name"
  std::vector<Obj*> items;  // tuple, list; dict: key, value, key, value, ...
  Callable callable = Callable::ordered_dict;
  const StorageType* storage_type = nullptr;  // global storage, storage
  uint64_t numel = 0;                         // storage
  PickledTensor t;                            // tensor
};

const char* kind_name(Obj::Kind k) {
  switch (k) {
    case Obj::none:
      return "None";
    case Obj::boolean:
      return "bool";
    case Obj::integer:
      return "int";
    case Obj::real:
      return "float";
    case Obj::str:
      return "str";
    case Obj::tuple:
      return "tuple";
    case Obj::list:
      return "list";
    case Obj::dict:
      return "dict";
    case Obj::global:
      return "global";
    case Obj::storage:
      return "storage";
    case Obj::tensor:
      return "tensor";
  }
  return "?";
}

std::string opcode_name(uint8_t op) {
  // Every opcode of protocols 0..5, for the error message.
  // clang-format off
  static const std::map<uint8_t, const char*> names = {
      {'(', "MARK"},                {'.', "STOP"},                {'0', "POP"},
      {'1', "POP_MARK"},            {'2', "DUP"},                 {'F', "FLOAT"},
      {'I', "INT"},                 {'J', "BININT"},              {'K', "BININT1"},
      {'L', "LONG"},                {'M', "BININT2"},             {'N', "NONE"},
      {'P', "PERSID"},              {'Q', "BINPERSID"},           {'R', "REDUCE"},
      {'S', "STRING"},              {'T', "BINSTRING"},           {'U', "SHORT_BINSTRING"},
      {'V', "UNICODE"},             {'X', "BINUNICODE"},          {'a', "APPEND"},
      {'b', "BUILD"},               {'c', "GLOBAL"},              {'d', "DICT"},
      {'}', "EMPTY_DICT"},          {'e', "APPENDS"},             {'g', "GET"},
      {'h', "BINGET"},              {'i', "INST"},                {'j', "LONG_BINGET"},
      {'l', "LIST"},                {']', "EMPTY_LIST"},          {'o', "OBJ"},
      {'p', "PUT"},                 {'q', "BINPUT"},              {'r', "LONG_BINPUT"},
      {'s', "SETITEM"},             {'t', "TUPLE"},               {')', "EMPTY_TUPLE"},
      {'u', "SETITEMS"},            {'G', "BINFLOAT"},            {0x80, "PROTO"},
      {0x81, "NEWOBJ"},             {0x82, "EXT1"},               {0x83, "EXT2"},
      {0x84, "EXT4"},               {0x85, "TUPLE1"},             {0x86, "TUPLE2"},
      {0x87, "TUPLE3"},             {0x88, "NEWTRUE"},            {0x89, "NEWFALSE"},
      {0x8a, "LONG1"},              {0x8b, "LONG4"},              {'B', "BINBYTES"},
      {'C', "SHORT_BINBYTES"},      {0x8c, "SHORT_BINUNICODE"},   {0x8d, "BINUNICODE8"},
      {0x8e, "BINBYTES8"},          {0x8f, "EMPTY_SET"},          {0x90, "ADDITEMS"},
      {0x91, "FROZENSET"},          {0x92, "NEWOBJ_EX"},          {0x93, "STACK_GLOBAL"},
      {0x94, "MEMOIZE"},            {0x95, "FRAME"},              {0x96, "BYTEARRAY8"},
      {0x97, "NEXT_BUFFER"},        {0x98, "READONLY_BUFFER"},
  };
  // clang-format on
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", op);
  auto it = names.find(op);
  return std::string(hex) + " (" + (it != names.end() ? it->second : "not a pickle opcode") + ")";
}

class Unpickler {
 public:
  Unpickler(const uint8_t* p, size_t n, std::string where)
      : p_(p), n_(n), where_(std::move(where)) {}

  std::map<std::string, PickledTensor> run() {
    for (;;) {
      if (at_ >= n_) fail(where_, "ends at byte " + std::to_string(n_) + " without STOP");
      op_at_ = at_;
      const uint8_t op = p_[at_++];
      if (step(op)) break;
    }
    return state_dict(pop());
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail(where_, "byte " + std::to_string(op_at_) + ": " + what);
  }

  const uint8_t* take(uint64_t k) {
    if (k > n_ - at_) error("truncated: the opcode needs " + std::to_string(k) + " more bytes");
    const uint8_t* r = p_ + at_;
    at_ += k;
    return r;
  }
  uint64_t take_le(int k) { return le(take(k), k); }

  Obj* make(Obj::Kind k) {
    arena_.push_back(std::make_unique<Obj>());
    arena_.back()->kind = k;
    return arena_.back().get();
  }
  Obj* make_int(int64_t v) {
    Obj* o = make(Obj::integer);
    o->i = v;
    return o;
  }
  void push(Obj* o) { stack_.push_back(o); }
  Obj* pop() {
    if (stack_.size() <= floor()) error("stack underflow");
    Obj* o = stack_.back();
    stack_.pop_back();
    return o;
  }
  Obj* top() {
    if (stack_.size() <= floor()) error("stack underflow");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<Obj*> pop_mark() {
    if (marks_.empty()) error("no MARK to pop to");
    std::vector<Obj*> items(stack_.begin() + long(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  Obj* tuple(std::vector<Obj*> items) {
    Obj* o = make(Obj::tuple);
    o->items = std::move(items);
    return o;
  }
  void memo_put(uint64_t index) { memo_[index] = top(); }
  Obj* memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) error("memo entry " + std::to_string(index) + " was never stored");
    return it->second;
  }
  Obj* string(uint64_t len) {
    Obj* o = make(Obj::str);
    const uint8_t* b = take(len);
    o->s.assign(reinterpret_cast<const char*>(b), len);
    return o;
  }
  std::string line() {
    const uint64_t start = at_;
    while (at_ < n_ && p_[at_] != '\n') ++at_;
    if (at_ >= n_) error("truncated: GLOBAL's name has no end of line");
    return std::string(reinterpret_cast<const char*>(p_ + start), at_++ - start);
  }

  // The allowlist: anything else is refused here, before any later opcode is read.
  Obj* global(const std::string& module, const std::string& name) {
    Obj* o = make(Obj::global);
    o->s = module + "." + name;
    if (module == "collections" && name == "OrderedDict") {
      o->callable = Callable::ordered_dict;
    } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
      o->callable = Callable::rebuild_tensor_v2;
    } else if (module == "torch._utils" && name == "_rebuild_tensor") {
      o->callable = Callable::rebuild_tensor;
    } else if (module == "torch._utils" && name == "_rebuild_parameter") {
      o->callable = Callable::rebuild_parameter;
    } else {
      if (module == "torch")
        for (const auto& t : kStorageTypes)
          if (name == t.name) {
            o->callable = Callable::storage;
            o->storage_type = &t;
            return o;
          }
      error("global '" + o->s +
            "' is not allowed: a state dict of tensors needs only collections.OrderedDict, "
            "torch._utils._rebuild_tensor_v2 (and _rebuild_tensor, _rebuild_parameter) and "
            "torch.<type>Storage; this file may run code when loaded with Python's pickle, so it "
            "is refused");
    }
    return o;
  }

  int64_t as_int(const Obj* o, const std::string& what) {
    if (o->kind != Obj::integer) error(what + " is a " + kind_name(o->kind) + ", not an int");
    return o->i;
  }
  std::vector<int64_t> int_tuple(const Obj* o, const std::string& what) {
    if (o->kind != Obj::tuple) error(what + " is a " + kind_name(o->kind) + ", not a tuple");
    std::vector<int64_t> v;
    for (const Obj* x : o->items) {
      const int64_t i = as_int(x, what + " entry");
      if (i < 0) error(what + " has a negative entry " + std::to_string(i));
      v.push_back(i);
    }
    return v;
  }

  // torch._utils._rebuild_tensor[_v2](storage, offset, size, stride, ...) as a description.
  Obj* rebuild_tensor(const std::vector<Obj*>& args, bool v2) {
    const char* fn = v2 ? "_rebuild_tensor_v2" : "_rebuild_tensor";
    if (v2 ? (args.size() != 6 && args.size() != 7) : args.size() != 4)
      error(std::string(fn) + " with " + std::to_string(args.size()) + " arguments");
    if (args[0]->kind != Obj::storage)
      error(std::string(fn) + ": its storage is a " + kind_name(args[0]->kind) +
            " (expected a persistent id)");
    if (v2) {
      if (args[4]->kind != Obj::boolean) error(std::string(fn) + ": requires_grad is not a bool");
      if (args[5]->kind != Obj::dict || !args[5]->items.empty())
        error(std::string(fn) + ": backward hooks are not an empty dict");
      if (args.size() == 7 && args[6]->kind != Obj::none && args[6]->kind != Obj::dict)
        error(std::string(fn) + ": metadata is a " + kind_name(args[6]->kind));
    }
    Obj* o = make(Obj::tensor);
    PickledTensor& t = o->t;
    const Obj* s = args[0];
    t.dtype = s->storage_type->dtype;
    t.storage = s->s;
    t.storage_numel = s->numel;
    const int64_t offset = as_int(args[1], "storage offset");
    if (offset < 0) error("negative storage offset " + std::to_string(offset));
    t.offset = uint64_t(offset);
    t.shape = int_tuple(args[2], "size");
    t.strides = int_tuple(args[3], "stride");
    if (t.shape.size() != t.strides.size())
      error("size has " + std::to_string(t.shape.size()) + " dimensions but stride " +
            std::to_string(t.strides.size()));
    // The extent: the last element's index, offset + Σ (size_i − 1) · stride_i, inside the
    // storage. 128-bit arithmetic: 63-bit factors cannot overflow it.
    unsigned __int128 last = t.offset, numel = 1;
    for (size_t d = 0; d < t.shape.size(); ++d) {
      numel *= uint64_t(t.shape[d]);
      if (numel > std::numeric_limits<uint64_t>::max()) error("size overflows");
      if (t.shape[d] > 0)
        last += (unsigned __int128)(uint64_t(t.shape[d]) - 1) * uint64_t(t.strides[d]);
      if (last > std::numeric_limits<uint64_t>::max()) error("size and stride overflow");
    }
    if (numel == 0 ? t.offset > t.storage_numel : last >= t.storage_numel)
      error("tensor of size " + shape_string(t.shape) + ", stride " + shape_string(t.strides) +
            " at offset " + std::to_string(t.offset) + " reaches past its storage '" + t.storage +
            "' of " + std::to_string(t.storage_numel) + " elements");
    return o;
  }
  static std::string shape_string(const std::vector<int64_t>& v) {
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + ")";
  }

  Obj* reduce(Obj* callable, Obj* args) {
    if (callable->kind != Obj::global)
      error(std::string("REDUCE of a ") + kind_name(callable->kind) +
            " (only allowlisted globals)");
    if (args->kind != Obj::tuple) error("REDUCE arguments are not a tuple");
    switch (callable->callable) {
      case Callable::ordered_dict:
        if (!args->items.empty()) error("collections.OrderedDict with arguments");
        return make(Obj::dict);
      case Callable::rebuild_tensor_v2:
        return rebuild_tensor(args->items, true);
      case Callable::rebuild_tensor:
        return rebuild_tensor(args->items, false);
      case Callable::rebuild_parameter:
        if (args->items.size() != 3 || args->items[0]->kind != Obj::tensor)
          error("_rebuild_parameter without a tensor (data, requires_grad, hooks)");
        return args->items[0];
      case Callable::storage:
        break;
    }
    error("global '" + callable->s + "' may only appear in a persistent id, not be called");
  }

  // ('storage', torch.<X>Storage, key, location, numel)
  Obj* persistent_load(Obj* pid) {
    if (pid->kind != Obj::tuple || pid->items.size() != 5 || pid->items[0]->kind != Obj::str ||
        pid->items[0]->s != "storage")
      error("persistent id is not ('storage', type, key, location, numel)");
    const Obj *type = pid->items[1], *key = pid->items[2], *loc = pid->items[3];
    if (type->kind != Obj::global || type->callable != Callable::storage)
      error("persistent id's storage type is not a torch.<type>Storage");
    if (key->kind != Obj::str || key->s.empty() || key->s.find('/') != std::string::npos ||
        key->s == "." || key->s == "..")
      error("persistent id's storage key is not a file name");
    if (loc->kind != Obj::str) error("persistent id's location is not a string");
    const int64_t numel = as_int(pid->items[4], "persistent id's element count");
    if (numel < 0) error("negative storage element count");
    Obj* o = make(Obj::storage);
    o->storage_type = type->storage_type;
    o->s = key->s;
    o->numel = uint64_t(numel);
    auto [it, fresh] = storages_.emplace(key->s, o);
    if (!fresh && (it->second->storage_type != o->storage_type || it->second->numel != o->numel))
      error("storage '" + key->s + "' appears as " + it->second->storage_type->name + " of " +
            std::to_string(it->second->numel) + " elements and as " + o->storage_type->name +
            " of " + std::to_string(o->numel));
    return o;
  }

  // One opcode; true at STOP.
  bool step(uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        const uint64_t v = take_le(1);
        if (v > 5) error("pickle protocol " + std::to_string(v) + " (known: up to 5)");
        return false;
      }
      case 0x95:  // FRAME: a length prefix for buffering; the opcodes follow inline
        take(8);
        return false;
      case '(':
        marks_.push_back(stack_.size());
        return false;
      case '}':
        push(make(Obj::dict));
        return false;
      case ']':
        push(make(Obj::list));
        return false;
      case ')':
        push(tuple({}));
        return false;
      case 't':
        push(tuple(pop_mark()));
        return false;
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const size_t k = op - 0x84;
        if (stack_.size() < floor() + k) error("stack underflow");
        std::vector<Obj*> items(stack_.end() - long(k), stack_.end());
        stack_.resize(stack_.size() - k);
        push(tuple(std::move(items)));
        return false;
      }
      case 'q':
        memo_put(take_le(1));
        return false;
      case 'r':
        memo_put(take_le(4));
        return false;
      case 0x94:
        memo_put(memo_.size());
        return false;
      case 'h':
        push(memo_get(take_le(1)));
        return false;
      case 'j':
        push(memo_get(take_le(4)));
        return false;
      case 'X':
        push(string(take_le(4)));
        return false;
      case 0x8c:
        push(string(take_le(1)));
        return false;
      case 0x8d:
        push(string(take_le(8)));
        return false;
      case 'J':
        push(make_int(int32_t(uint32_t(take_le(4)))));
        return false;
      case 'K':
        push(make_int(int64_t(take_le(1))));
        return false;
      case 'M':
        push(make_int(int64_t(take_le(2))));
        return false;
      case 0x8a: {  // LONG1: n little-endian two's-complement bytes
        const uint64_t k = take_le(1);
        if (k > 8) error("integer of " + std::to_string(k) + " bytes (more than 64 bits)");
        uint64_t v = k ? take_le(int(k)) : 0;
        if (k > 0 && k < 8 && (v >> (8 * k - 1)) & 1) v |= ~uint64_t(0) << (8 * k);  // sign
        push(make_int(int64_t(v)));
        return false;
      }
      case 0x88:
      case 0x89: {
        Obj* o = make(Obj::boolean);
        o->i = op == 0x88;
        push(o);
        return false;
      }
      case 'N':
        push(make(Obj::none));
        return false;
      case 'G': {  // big-endian IEEE double
        const uint8_t* b = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | b[i];
        Obj* o = make(Obj::real);
        std::memcpy(&o->f, &bits, 8);
        push(o);
        return false;
      }
      case 's': {
        Obj* v = pop();
        Obj* k = pop();
        Obj* d = top();
        if (d->kind != Obj::dict) error(std::string("SETITEM on a ") + kind_name(d->kind));
        d->items.push_back(k);
        d->items.push_back(v);
        return false;
      }
      case 'u': {
        auto items = pop_mark();
        Obj* d = top();
        if (d->kind != Obj::dict) error(std::string("SETITEMS on a ") + kind_name(d->kind));
        if (items.size() % 2) error("SETITEMS with an odd number of items");
        d->items.insert(d->items.end(), items.begin(), items.end());
        return false;
      }
      case 'a': {
        Obj* v = pop();
        Obj* l = top();
        if (l->kind != Obj::list) error(std::string("APPEND on a ") + kind_name(l->kind));
        l->items.push_back(v);
        return false;
      }
      case 'e': {
        auto items = pop_mark();
        Obj* l = top();
        if (l->kind != Obj::list) error(std::string("APPENDS on a ") + kind_name(l->kind));
        l->items.insert(l->items.end(), items.begin(), items.end());
        return false;
      }
      case 'c': {
        const std::string module = line();
        const std::string name = line();
        push(global(module, name));
        return false;
      }
      case 0x93: {  // STACK_GLOBAL
        Obj* name = pop();
        Obj* module = pop();
        if (name->kind != Obj::str || module->kind != Obj::str)
          error("STACK_GLOBAL of non-strings");
        push(global(module->s, name->s));
        return false;
      }
      case 'R': {
        Obj* args = pop();
        Obj* callable = pop();
        push(reduce(callable, args));
        return false;
      }
      case 'b': {  // BUILD: only the _metadata attribute of a state dict's OrderedDict
        Obj* state = pop();
        Obj* target = top();
        if (target->kind != Obj::dict)
          error(std::string("BUILD on a ") + kind_name(target->kind) + " (only on a dict)");
        if (state->kind != Obj::dict && state->kind != Obj::none && state->kind != Obj::tuple)
          error(std::string("BUILD with a ") + kind_name(state->kind) + " state");
        return false;  // ignored: attributes of the dict are not part of the state dict
      }
      case 'Q':
        push(persistent_load(pop()));
        return false;
      case '.':
        return true;
      default:
        error("pickle opcode " + opcode_name(op) +
              " is not supported (a state dict of tensors does not need it)");
    }
  }

  std::map<std::string, PickledTensor> state_dict(const Obj* root) {
    op_at_ = at_ - 1;
    if (root->kind != Obj::dict)
      error(std::string("the pickled object is a ") + kind_name(root->kind) +
            ", not a state dict (a dict of name -> tensor)");
    std::map<std::string, PickledTensor> out;
    for (size_t i = 0; i < root->items.size(); i += 2) {
      const Obj *k = root->items[i], *v = root->items[i + 1];
      if (k->kind != Obj::str)
        error(std::string("the state dict has a ") + kind_name(k->kind) + " key");
      if (v->kind != Obj::tensor)
        error("the state dict's value for '" + k->s + "' is a " + kind_name(v->kind) +
              ", not a tensor (is this a training checkpoint holding the state dict under a "
              "key? save the state dict alone)");
      if (!out.emplace(k->s, v->t).second) error("the state dict has '" + k->s + "' twice");
    }
    return out;
  }

  const uint8_t* p_;
  uint64_t n_;
  std::string where_;
  uint64_t at_ = 0, op_at_ = 0;
  std::vector<std::unique_ptr<Obj>> arena_;
  std::vector<Obj*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Obj*> memo_;
  std::map<std::string, Obj*> storages_;
};

}  // namespace

std::map<std::string, PickledTensor> unpickle_state_dict(const uint8_t* pickle, size_t size,
                                                         const std::string& where) {
  return Unpickler(pickle, size, where).run();
}

// --- the file -----------------------------------------------------------------------------------

TorchCheckpointFile::TorchCheckpointFile(const std::string& path) : path_(path) {
  {
    const uint16_t one = 1;
    uint8_t first;
    std::memcpy(&first, &one, 1);
    if (first != 1) fail(path, "PyTorch checkpoints are read on little-endian hosts only");
  }
  file_ = MappedFile::open<TorchCheckpointError>(path);
  map_ = file_.data();
  size_ = file_.size();
  {
    // The legacy format is a raw pickle stream that starts with a pickled magic number.
    if (size_ >= 2 && map_[0] == 0x80 && map_[1] <= 5)
      fail(path,
           "a torch.save file in the legacy format (PyTorch < 1.6, or "
           "_use_new_zipfile_serialization=False), a bare pickle stream, which depthscale does "
           "not read: re-save it with a newer PyTorch (torch.save(torch.load(f, "
           "weights_only=True), f)) or convert it to safetensors");
    if (size_ < 4 || le(map_, 4) != 0x04034b50)
      fail(path, "not a ZIP archive, so not a torch.save checkpoint (PyTorch >= 1.6)");
    const auto entries = read_zip(path, map_, size_);

    // The archive folder: the one that holds data.pkl.
    std::string pkl;
    for (const auto& [name, _] : entries) {
      const auto slash = name.find('/');
      if (slash == std::string::npos || name.substr(slash + 1) != "data.pkl") continue;
      if (!pkl.empty()) fail(path, "two data.pkl entries: " + pkl + " and " + name);
      pkl = name;
      archive_ = name.substr(0, slash);
    }
    if (pkl.empty()) fail(path, "no <archive>/data.pkl entry: not a torch.save checkpoint");
    const std::string dir = archive_ + "/";
    if (entries.count(dir + "constants.pkl"))
      fail(path, "a TorchScript archive (torch.jit.save), not a state dict saved by torch.save");
    auto stored = [&](const std::string& name) -> const ZipEntry& {
      const ZipEntry& e = entries.at(name);
      if (e.flags & 1) fail(path, "entry '" + name + "' is encrypted");
      if (e.method != 0)
        fail(path, "entry '" + name + "' is compressed (ZIP method " + std::to_string(e.method) +
                       ", " + method_name(e.method) +
                       "); PyTorch stores entries uncompressed, and so must this file be "
                       "(re-zipped? re-save it with torch.save)");
      if (e.size != e.uncompressed)
        fail(path, "entry '" + name + "' is stored but its sizes differ");
      return e;
    };
    auto text = [&](const std::string& name) {
      const ZipEntry& e = stored(name);
      std::string s(reinterpret_cast<const char*>(map_ + e.data), e.size);
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
      return s;
    };
    if (entries.count(dir + "byteorder")) {
      const std::string order = text(dir + "byteorder");
      if (order == "big")
        fail(path,
             "saved on a big-endian machine (byteorder \"big\"); only little-endian data "
             "is read: re-save it on a little-endian machine");
      if (order != "little") fail(path, "byteorder entry reads '" + order + "'");
    }
    if (entries.count(dir + "version")) {
      const std::string v = text(dir + "version");
      if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos)
        fail(path, "version entry reads '" + v + "', not a format version number");
    }

    const ZipEntry& p = stored(pkl);
    if (crc32(map_ + p.data, p.size) != p.crc)
      fail(path, "entry '" + pkl + "' fails its CRC-32 check (damaged file)");
    const auto dict = unpickle_state_dict(map_ + p.data, p.size, path + ":" + pkl);

    for (const auto& [name, pt] : dict) {
      auto bad = [&, name = name](const std::string& what) {
        fail(path, "tensor '" + name + "': " + what);
      };
      const std::string blob = dir + "data/" + pt.storage;
      if (!entries.count(blob)) bad("its storage " + blob + " is not in the archive");
      const ZipEntry& e = stored(blob);
      const size_t item = dtype_size(pt.dtype);
      if (e.size != pt.storage_numel * item || (item && e.size / item != pt.storage_numel))
        bad("its storage " + blob + " holds " + std::to_string(e.size) + " bytes but " +
            std::to_string(pt.storage_numel) + " elements of " + pt.dtype + " need " +
            std::to_string(pt.storage_numel * item));
      Tensor t;
      t.info.dtype = pt.dtype;
      t.info.shape = pt.shape;
      t.info.file = path;
      t.strides = pt.strides;
      t.storage = pt.storage;
      t.data = map_ + e.data + pt.offset * item;
      uint64_t span = 1;  // elements from the first to the last (the unpickler checked the range)
      for (size_t d = 0; d < pt.shape.size(); ++d) {
        if (pt.shape[d] == 0) span = 0;
        if (span) span += uint64_t(pt.shape[d] - 1) * uint64_t(pt.strides[d]);
      }
      t.info.begin = e.data + pt.offset * item;
      t.info.end = t.info.begin + span * item;
      tensors_.emplace(name, std::move(t));
    }
  }
}

TorchCheckpointFile::~TorchCheckpointFile() = default;

const TorchCheckpointFile::Tensor& TorchCheckpointFile::tensor(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail(path_, "tensor '" + name + "': not in this file");
  return it->second;
}

torch::Tensor TorchCheckpointFile::load(const std::string& name) const {
  const Tensor& t = tensor(name);
  const torch::Dtype dtype = [&] {
    for (const auto d :
         {torch::kFloat32, torch::kFloat16, torch::kBFloat16, torch::kFloat64, torch::kInt64,
          torch::kInt32, torch::kInt16, torch::kInt8, torch::kUInt8, torch::kBool})
      if (dtype_name(d) == t.info.dtype) return d;
    fail(path_, "tensor '" + name + "': dtype " + t.info.dtype + " has no LibTorch type");
  }();
  const uint64_t bytes = t.info.end - t.info.begin;
  if (bytes == 0) return torch::empty(t.info.shape, torch::TensorOptions().dtype(dtype));
  // Copy the bytes the view spans out of the mapping (owned and aligned), then lay the view out
  // contiguously.
  const int64_t item = int64_t(dtype_size(t.info.dtype));
  auto span = torch::empty({int64_t(bytes) / item}, torch::TensorOptions().dtype(dtype));
  std::memcpy(span.data_ptr(), t.data, bytes);
  return span.as_strided(t.info.shape, t.strides, 0).contiguous();
}

torch::Tensor TorchCheckpointFile::load(const std::string& name, torch::Dtype dtype) const {
  auto t = load(name);
  return t.scalar_type() == dtype ? t : t.to(dtype);
}

}  // namespace depthscale::probe
