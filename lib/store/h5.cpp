// RAII handles, groups, datasets and attributes over the HDF5 C API.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <thread>

#include "store/detail.hpp"
#include "store/store.hpp"

namespace depthscale::store {

namespace fs = std::filesystem;

// HDF5 closes whatever is still open from an atexit handler. After a write that failed (a full
// disk), HDF5 1.10 can leave a file half-closed, and that handler then crashes the process with
// SIGSEGV at exit, after the error was reported and the exit code chosen. Every file here is
// closed by its RAII handle, so the handler is not needed; it must be turned off before the
// library initialises, hence at static initialisation.
namespace {
const bool hdf5_without_atexit = [] {
  H5dont_atexit();
  return true;
}();
}  // namespace

// ---- errors, property lists ----------------------------------------------------------------
namespace detail {

void quiet() {
  thread_local bool done = false;
  if (done) return;
  H5open();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  done = true;
}

namespace {
herr_t collect(unsigned, const H5E_error2_t* e, void* data) {
  auto* descs = static_cast<std::vector<std::string>*>(data);
  if (e->desc && *e->desc) descs->emplace_back(e->desc);
  return 0;
}
}  // namespace

std::string hdf5_error() {
  std::vector<std::string> descs;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, &descs);
  H5Eclear2(H5E_DEFAULT);
  if (descs.empty()) return "no detail";
  if (descs.size() == 1) return descs.front();
  return descs.front() + ": " + descs.back();
}

void fail(const std::string& what) {
  throw StoreError(what + " (HDF5: " + hdf5_error() + ")");
}

Handle file_access(bool in_memory) {
  quiet();
  Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), "cannot create a file access property list"));
  if (in_memory) {
    check_status(H5Pset_fapl_core(fapl.id(), 1 << 16, /*backing_store=*/0),
                 "cannot select the in-memory (core) driver");
  }
  check_status(H5Pset_file_locking(fapl.id(), /*use_file_locking=*/0, /*ignore_when_disabled=*/1),
               "cannot disable file locking");
  return fapl;
}

std::string join(const std::string& path, const std::string& name) {
  if (!path.empty() && path.back() == '/') return path + name;
  return path + "/" + name;
}

void check_key(const std::string& key) {
  if (key.empty() || key == "." || key == ".." || key.find('/') != std::string::npos ||
      key.find('\0') != std::string::npos) {
    throw StoreError("invalid task key '" + key +
                     "': keys name files and HDF5 groups, so they cannot be empty, '.', '..' "
                     "or contain '/'");
  }
}

}  // namespace detail

using detail::check;
using detail::check_status;
using detail::fail;
using detail::join;

// ---- handles ---------------------------------------------------------------------------------
namespace {
void close_id(hid_t id) {
  if (id < 0) return;
  switch (H5Iget_type(id)) {
    case H5I_FILE:
      H5Fclose(id);
      break;
    case H5I_GROUP:
      H5Gclose(id);
      break;
    case H5I_DATASET:
      H5Dclose(id);
      break;
    case H5I_ATTR:
      H5Aclose(id);
      break;
    case H5I_DATATYPE:
      H5Tclose(id);
      break;
    case H5I_DATASPACE:
      H5Sclose(id);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id);
      break;
    default:
      H5Idec_ref(id);
      break;
  }
  // A failed close in a destructor has nowhere to go; keep it off the next error report.
  H5Eclear2(H5E_DEFAULT);
}
}  // namespace

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    close_id(id_);
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

Handle::~Handle() {
  close_id(id_);
}

// ---- groups ----------------------------------------------------------------------------------
namespace {

Handle intermediate_lcpl() {
  Handle lcpl(check(H5Pcreate(H5P_LINK_CREATE), "cannot create a link property list"));
  check_status(H5Pset_create_intermediate_group(lcpl.id(), 1), "cannot set intermediate groups");
  return lcpl;
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

herr_t collect_attr(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

hsize_t count_of(const std::vector<hsize_t>& dims) {
  hsize_t n = 1;
  for (hsize_t d : dims) n *= d;
  return n;
}

std::string dims_text(const std::vector<hsize_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

}  // namespace

bool Group::has(const std::string& name) const {
  // H5Lexists fails rather than answering "no" when an intermediate link is missing, so walk the
  // path one component at a time.
  std::string prefix;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    if (end > start) {
      prefix += (prefix.empty() ? "" : "/") + name.substr(start, end - start);
      htri_t r = H5Lexists(id(), prefix.c_str(), H5P_DEFAULT);
      if (r <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
    }
    start = end + 1;
  }
  return !prefix.empty();
}

Group Group::create_group(const std::string& name) {
  Handle lcpl = intermediate_lcpl();
  hid_t g = H5Gcreate2(id(), name.c_str(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT);
  std::string where = join(path_, name);
  check(g, where + ": cannot create group");
  return Group(Handle(g), where);
}

Group Group::open_group(const std::string& name) const {
  std::string where = join(path_, name);
  hid_t g = H5Gopen2(id(), name.c_str(), H5P_DEFAULT);
  check(g, where + ": cannot open group");
  return Group(Handle(g), where);
}

Group Group::require_group(const std::string& name) {
  return has(name) ? open_group(name) : create_group(name);
}

std::vector<std::string> Group::children() const {
  std::vector<std::string> names;
  check_status(H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link, &names),
               path_ + ": cannot list members");
  std::sort(names.begin(), names.end());
  return names;
}

void Group::remove(const std::string& name) {
  check_status(H5Ldelete(id(), name.c_str(), H5P_DEFAULT), join(path_, name) + ": cannot remove");
}

// ---- datasets ---------------------------------------------------------------------------------
namespace {

void write_dataset(Group& g, const std::string& name, const void* data, size_t n,
                   std::vector<hsize_t> dims, hid_t mem_type, hid_t file_type) {
  std::string where = join(g.path(), name);
  if (dims.empty()) dims = {static_cast<hsize_t>(n)};
  if (count_of(dims) != n) {
    throw StoreError(where + ": dims " + dims_text(dims) + " hold " +
                     std::to_string(count_of(dims)) + " values but the data has " +
                     std::to_string(n));
  }
  // Rewriting a name replaces the dataset (the old space is not reclaimed; files stay small).
  if (g.has(name)) g.remove(name);
  Handle space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                     where + ": cannot create dataspace " + dims_text(dims)));
  Handle lcpl = intermediate_lcpl();
  // Contiguous layout: the arrays are written once, whole, and read whole.
  Handle dset(check(
      H5Dcreate2(g.id(), name.c_str(), file_type, space.id(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT),
      where + ": cannot create dataset"));
  if (n > 0) {
    check_status(H5Dwrite(dset.id(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
                 where + ": cannot write dataset");
  }
}

template <class T>
std::vector<T> read_dataset(const Group& g, const std::string& name, std::vector<hsize_t>* dims,
                            hid_t mem_type, bool integer_only) {
  std::string where = join(g.path(), name);
  Handle dset(check(H5Dopen2(g.id(), name.c_str(), H5P_DEFAULT), where + ": cannot open dataset"));
  Handle type(check(H5Dget_type(dset.id()), where + ": cannot read the type"));
  H5T_class_t cls = H5Tget_class(type.id());
  if (cls != H5T_INTEGER && (integer_only || cls != H5T_FLOAT)) {
    throw StoreError(where + ": holds " + (cls == H5T_FLOAT ? "floating-point" : "non-numeric") +
                     " data, expected " + (integer_only ? "integers" : "numbers"));
  }
  Handle space(check(H5Dget_space(dset.id()), where + ": cannot read the dataspace"));
  int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) fail(where + ": cannot read the shape");
  std::vector<hsize_t> shape(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.id(), shape.data(), nullptr) < 0) {
    fail(where + ": cannot read the shape");
  }
  std::vector<T> out(static_cast<size_t>(count_of(shape)));
  if (!out.empty()) {
    check_status(H5Dread(dset.id(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
                 where + ": cannot read dataset");
  }
  if (dims) *dims = std::move(shape);
  return out;
}

}  // namespace

void Group::write(const std::string& name, const std::vector<float>& data,
                  std::vector<hsize_t> dims) {
  write_dataset(*this, name, data.data(), data.size(), std::move(dims), H5T_NATIVE_FLOAT,
                H5T_IEEE_F32LE);
}

void Group::write(const std::string& name, const std::vector<double>& data,
                  std::vector<hsize_t> dims) {
  write_dataset(*this, name, data.data(), data.size(), std::move(dims), H5T_NATIVE_DOUBLE,
                H5T_IEEE_F64LE);
}

void Group::write(const std::vector<int64_t>& data, const std::string& name,
                  std::vector<hsize_t> dims) {
  write_dataset(*this, name, data.data(), data.size(), std::move(dims), H5T_NATIVE_INT64,
                H5T_STD_I64LE);
}

std::vector<float> Group::read_float(const std::string& name, std::vector<hsize_t>* dims) const {
  return read_dataset<float>(*this, name, dims, H5T_NATIVE_FLOAT, false);
}

std::vector<double> Group::read_double(const std::string& name, std::vector<hsize_t>* dims) const {
  return read_dataset<double>(*this, name, dims, H5T_NATIVE_DOUBLE, false);
}

std::vector<int64_t> Group::read_int64(const std::string& name, std::vector<hsize_t>* dims) const {
  return read_dataset<int64_t>(*this, name, dims, H5T_NATIVE_INT64, true);
}

std::vector<int64_t> Group::read_count(const std::string& name, std::vector<hsize_t>* dims) const {
  const std::string where = join(path_, name);
  Handle dset(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), where + ": cannot open dataset"));
  Handle type(check(H5Dget_type(dset.id()), where + ": cannot read the type"));
  if (H5Tget_class(type.id()) != H5T_FLOAT) return read_int64(name, dims);
  // Files written before counts were stored as integers hold them as floats: whole numbers only.
  const std::vector<double> values = read_double(name, dims);
  std::vector<int64_t> out;
  out.reserve(values.size());
  for (double v : values) {
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) >= 9.2e18)
      throw StoreError(where + ": holds " + std::to_string(v) + ", expected a count");
    out.push_back(static_cast<int64_t>(v));
  }
  return out;
}

// ---- attributes -------------------------------------------------------------------------------
namespace {

// On any object (group or dataset): `path` names it in messages.
void write_attr(hid_t obj, const std::string& path, const std::string& name, hid_t mem_type,
                hid_t file_type, const void* value) {
  std::string where = path + " attribute '" + name + "'";
  htri_t exists = H5Aexists(obj, name.c_str());
  if (exists < 0) fail(where + ": cannot look up");
  if (exists > 0) check_status(H5Adelete(obj, name.c_str()), where + ": cannot replace");
  Handle space(check(H5Screate(H5S_SCALAR), where + ": cannot create dataspace"));
  Handle attr(check(H5Acreate2(obj, name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                    where + ": cannot create"));
  check_status(H5Awrite(attr.id(), mem_type, value), where + ": cannot write");
}

void write_attr(Group& g, const std::string& name, hid_t mem_type, hid_t file_type,
                const void* value) {
  write_attr(g.id(), g.path(), name, mem_type, file_type, value);
}

// Opens a single-valued attribute and says what class it is.
Handle open_scalar_attr(hid_t obj, const std::string& path, const std::string& name,
                        H5T_class_t* cls, Handle* type) {
  std::string where = path + " attribute '" + name + "'";
  Handle attr(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), where + ": cannot open"));
  Handle space(check(H5Aget_space(attr.id()), where + ": cannot read the dataspace"));
  hssize_t n = H5Sget_simple_extent_npoints(space.id());
  if (n != 1) {
    throw StoreError(where + ": holds " + std::to_string(n) + " values, expected one");
  }
  *type = Handle(check(H5Aget_type(attr.id()), where + ": cannot read the type"));
  *cls = H5Tget_class(type->id());
  return attr;
}

Handle open_scalar_attr(const Group& g, const std::string& name, H5T_class_t* cls, Handle* type) {
  return open_scalar_attr(g.id(), g.path(), name, cls, type);
}

Handle string_type(H5T_cset_t cset) {
  Handle t(check(H5Tcopy(H5T_C_S1), "cannot copy the string type"));
  check_status(H5Tset_size(t.id(), H5T_VARIABLE), "cannot make a variable-length string type");
  check_status(H5Tset_cset(t.id(), cset), "cannot set the string encoding");
  return t;
}

}  // namespace

void Group::set_attr(const std::string& name, double v) {
  write_attr(*this, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, &v);
}

void Group::set_attr(const std::string& name, int64_t v) {
  write_attr(*this, name, H5T_NATIVE_INT64, H5T_STD_I64LE, &v);
}

void Group::set_attr(const std::string& name, uint64_t v) {
  write_attr(*this, name, H5T_NATIVE_UINT64, H5T_STD_U64LE, &v);
}

void detail::set_string_attr(hid_t obj, const std::string& path, const std::string& name,
                             const std::string& v) {
  if (v.find('\0') != std::string::npos) {
    throw StoreError(path + " attribute '" + name + "': strings cannot hold NUL characters");
  }
  // Variable-length UTF-8 in a scalar dataspace: what h5py writes for a str, and reads back as one.
  Handle type = string_type(H5T_CSET_UTF8);
  const char* p = v.c_str();
  write_attr(obj, path, name, type.id(), type.id(), &p);
}

void Group::set_attr(const std::string& name, const std::string& v) {
  detail::set_string_attr(id(), path_, name, v);
}

bool Group::has_attr(const std::string& name) const {
  htri_t r = H5Aexists(id(), name.c_str());
  if (r < 0) fail(path_ + " attribute '" + name + "': cannot look up");
  return r > 0;
}

bool Group::attr_is_string(const std::string& name) const {
  H5T_class_t cls;
  Handle type;
  open_scalar_attr(*this, name, &cls, &type);
  return cls == H5T_STRING;
}

std::vector<std::string> Group::attr_names() const {
  std::vector<std::string> names;
  check_status(H5Aiterate2(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attr, &names),
               path_ + ": cannot list attributes");
  std::sort(names.begin(), names.end());
  return names;
}

double Group::attr_double(const std::string& name) const {
  std::string where = path_ + " attribute '" + name + "'";
  H5T_class_t cls;
  Handle type;
  Handle attr = open_scalar_attr(*this, name, &cls, &type);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) throw StoreError(where + ": is not a number");
  double v = 0;
  check_status(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v), where + ": cannot read");
  return v;
}

int64_t Group::attr_int(const std::string& name) const {
  std::string where = path_ + " attribute '" + name + "'";
  H5T_class_t cls;
  Handle type;
  Handle attr = open_scalar_attr(*this, name, &cls, &type);
  if (cls == H5T_INTEGER) {
    int64_t v = 0;
    check_status(H5Aread(attr.id(), H5T_NATIVE_INT64, &v), where + ": cannot read");
    return v;
  }
  if (cls == H5T_FLOAT) {
    // Accept a float only when it is exactly an integer (h5py users write 6.0 for 6).
    double v = 0;
    check_status(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v), where + ": cannot read");
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.2e18) {
      return static_cast<int64_t>(v);
    }
    throw StoreError(where + ": " + std::to_string(v) + " is not an integer");
  }
  throw StoreError(where + ": is not a number");
}

uint64_t Group::attr_uint64(const std::string& name) const {
  std::string where = path_ + " attribute '" + name + "'";
  H5T_class_t cls;
  Handle type;
  Handle attr = open_scalar_attr(*this, name, &cls, &type);
  if (cls != H5T_INTEGER) throw StoreError(where + ": is not an integer");
  // A signed attribute (h5py writes Python ints as int64) must not be negative.
  if (H5Tget_sign(type.id()) == H5T_SGN_2) {
    int64_t v = 0;
    check_status(H5Aread(attr.id(), H5T_NATIVE_INT64, &v), where + ": cannot read");
    if (v < 0) throw StoreError(where + ": " + std::to_string(v) + " is negative");
    return static_cast<uint64_t>(v);
  }
  uint64_t v = 0;
  check_status(H5Aread(attr.id(), H5T_NATIVE_UINT64, &v), where + ": cannot read");
  return v;
}

std::string Group::attr_string(const std::string& name) const {
  return detail::string_attr(id(), path_, name);
}

std::string detail::string_attr(hid_t obj, const std::string& path, const std::string& name) {
  std::string where = path + " attribute '" + name + "'";
  H5T_class_t cls;
  Handle type;
  Handle attr = open_scalar_attr(obj, path, name, &cls, &type);
  if (cls != H5T_STRING) throw StoreError(where + ": is not a string");
  htri_t variable = H5Tis_variable_str(type.id());
  if (variable < 0) fail(where + ": cannot read the string type");
  if (variable > 0) {
    Handle mem = string_type(H5Tget_cset(type.id()));
    char* p = nullptr;
    check_status(H5Aread(attr.id(), mem.id(), &p), where + ": cannot read");
    std::string out = p ? p : "";
    Handle space(check(H5Screate(H5S_SCALAR), where + ": cannot create dataspace"));
    H5Dvlen_reclaim(mem.id(), space.id(), H5P_DEFAULT, &p);
    return out;
  }
  // Fixed-length strings (numpy bytes from h5py): read the raw bytes, stop at the first NUL.
  size_t size = H5Tget_size(type.id());
  std::string buf(size, '\0');
  Handle mem(check(H5Tcopy(type.id()), where + ": cannot copy the string type"));
  check_status(H5Aread(attr.id(), mem.id(), buf.data()), where + ": cannot read");
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

// ---- files --------------------------------------------------------------------------------------
namespace {
// The core driver still identifies open files by name, so each in-memory file gets its own.
std::string memory_name(const std::string& label) {
  static std::atomic<uint64_t> counter{0};
  return "depthscale-memory-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
         label;
}
}  // namespace

File File::create(const std::string& path) {
  Handle fapl = detail::file_access(false);
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id());
  check(id, path + ": cannot create HDF5 file");
  return File(Handle(id), path);
}

File File::open(const std::string& path, Mode mode) {
  Handle fapl = detail::file_access(false);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw StoreError(path + ": no such file");
  unsigned flags = mode == Mode::ReadWrite ? H5F_ACC_RDWR : H5F_ACC_RDONLY;
  hid_t id = H5Fopen(path.c_str(), flags, fapl.id());
  check(id, path + ": cannot open as HDF5" +
                (mode == Mode::ReadWrite ? std::string(" for writing") : std::string()));
  return File(Handle(id), path);
}

File File::create_in_memory(const std::string& label) {
  Handle fapl = detail::file_access(true);
  hid_t id = H5Fcreate(memory_name(label).c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id());
  check(id, label + ": cannot create an in-memory HDF5 file");
  return File(Handle(id), label);
}

File File::open_image(const std::vector<char>& image, const std::string& label) {
  if (image.empty()) throw StoreError(label + ": the HDF5 image is empty");
  Handle fapl = detail::file_access(true);
  // H5Pset_file_image copies the buffer, so the caller's bytes are never written to.
  check_status(H5Pset_file_image(fapl.id(), const_cast<char*>(image.data()), image.size()),
               label + ": cannot attach the HDF5 image");
  hid_t id = H5Fopen(memory_name(label).c_str(), H5F_ACC_RDONLY, fapl.id());
  check(id, label + ": the HDF5 image (" + std::to_string(image.size()) +
                " bytes) is truncated or corrupt");
  return File(Handle(id), label);
}

std::vector<char> File::image() {
  flush();
  ssize_t n = H5Fget_file_image(id(), nullptr, 0);
  if (n < 0) fail(path_ + ": cannot size the file image");
  std::vector<char> bytes(static_cast<size_t>(n));
  if (H5Fget_file_image(id(), bytes.data(), bytes.size()) != n) {
    fail(path_ + ": cannot copy the file image");
  }
  return bytes;
}

Group File::root() const {
  hid_t g = H5Gopen2(id(), "/", H5P_DEFAULT);
  check(g, path_ + ": cannot open the root group");
  return Group(Handle(g), path_ + ":/");
}

void File::flush() {
  check_status(H5Fflush(id(), H5F_SCOPE_GLOBAL), path_ + ": cannot flush");
}

void File::close() {
  if (!h_.valid()) return;
  check_status(H5Fclose(h_.release()), path_ + ": cannot close");
}

void copy_group(const Group& src, Group& dst_parent, const std::string& name) {
  Handle lcpl = intermediate_lcpl();
  check_status(H5Ocopy(src.id(), ".", dst_parent.id(), name.c_str(), H5P_DEFAULT, lcpl.id()),
               "cannot copy " + src.path() + " to " + join(dst_parent.path(), name));
}

// ---- deep check ---------------------------------------------------------------------------------
namespace {

// Reads n values of any type: fixed-size ones as stored (no conversion), variable-length ones
// through their native memory type, whose buffers HDF5 allocates and we hand back.
template <class Read>
void read_values(hid_t file_type, hid_t space, hssize_t n, Read&& read, const std::string& where) {
  if (n <= 0) return;
  bool vlen = H5Tdetect_class(file_type, H5T_VLEN) > 0 || H5Tis_variable_str(file_type) > 0;
  Handle mem(check(vlen ? H5Tget_native_type(file_type, H5T_DIR_ASCEND) : H5Tcopy(file_type),
                   where + ": cannot make a memory type"));
  std::vector<char> buf(static_cast<size_t>(n) * H5Tget_size(mem.id()));
  check_status(read(mem.id(), buf.data()), where + ": cannot read");
  if (vlen) H5Dvlen_reclaim(mem.id(), space, H5P_DEFAULT, buf.data());
}

void read_attributes(hid_t obj, const std::string& where) {
  std::vector<std::string> names;
  check_status(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, collect_attr, &names),
               where + ": cannot list attributes");
  for (const std::string& name : names) {
    std::string what = where + " attribute '" + name + "'";
    Handle attr(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), what + ": cannot open"));
    Handle type(check(H5Aget_type(attr.id()), what + ": cannot read the type"));
    Handle space(check(H5Aget_space(attr.id()), what + ": cannot read the dataspace"));
    read_values(
        type.id(), space.id(), H5Sget_simple_extent_npoints(space.id()),
        [&](hid_t mem, void* buf) { return H5Aread(attr.id(), mem, buf); }, what);
  }
}

void read_tree(hid_t group, const std::string& where) {
  read_attributes(group, where);
  std::vector<std::string> names;
  check_status(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link, &names),
               where + ": cannot list members");
  for (const std::string& name : names) {
    std::string what = join(where, name);
    Handle obj(check(H5Oopen(group, name.c_str(), H5P_DEFAULT), what + ": cannot open"));
    switch (H5Iget_type(obj.id())) {
      case H5I_GROUP:
        read_tree(obj.id(), what);
        break;
      case H5I_DATASET: {
        read_attributes(obj.id(), what);
        Handle type(check(H5Dget_type(obj.id()), what + ": cannot read the type"));
        Handle space(check(H5Dget_space(obj.id()), what + ": cannot read the dataspace"));
        read_values(
            type.id(), space.id(), H5Sget_simple_extent_npoints(space.id()),
            [&](hid_t mem, void* buf) {
              return H5Dread(obj.id(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
            },
            what);
        break;
      }
      default:
        read_attributes(obj.id(), what);
        break;  // named datatypes
    }
  }
}

}  // namespace

void detail::read_everything(const Group& g) {
  read_tree(g.id(), g.path());
}

namespace {

// Rows 0, stride, 2·stride, ... of a 2-D float dataset, at most `max_rows` of them; stride 0: the
// smallest that keeps at most max_rows of them all.
StridedRows read_rows(const Group& g, const std::string& name, size_t max_rows, hsize_t stride) {
  const std::string where = g.path() + "/" + name;
  const auto check = [&](hid_t id, const char* what) {
    if (id < 0) throw StoreError(where + ": cannot " + what);
    return id;
  };
  Handle ds(check(H5Dopen2(g.id(), name.c_str(), H5P_DEFAULT), "open the dataset"));
  Handle space(check(H5Dget_space(ds.id()), "get its dataspace"));
  hsize_t dims[2] = {0, 0};
  if (H5Sget_simple_extent_ndims(space.id()) != 2) {
    throw StoreError(where + ": expected a 2-D dataset [sites, layers]");
  }
  H5Sget_simple_extent_dims(space.id(), dims, nullptr);
  StridedRows r;
  r.total = dims[0];
  r.cols = dims[1];
  r.stride = stride > 0 ? stride : std::max<hsize_t>(1, (dims[0] + max_rows - 1) / max_rows);
  r.rows = dims[0] == 0 ? 0 : std::min<hsize_t>((dims[0] + r.stride - 1) / r.stride, max_rows);
  r.data.resize(static_cast<size_t>(r.rows * r.cols));
  if (r.data.empty()) return r;
  const hsize_t start[2] = {0, 0}, step[2] = {r.stride, 1}, count[2] = {r.rows, r.cols};
  check(H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, start, step, count, nullptr),
        "select rows");
  Handle mem(check(H5Screate_simple(2, count, nullptr), "create a memory dataspace"));
  check(H5Dread(ds.id(), H5T_NATIVE_FLOAT, mem.id(), space.id(), H5P_DEFAULT, r.data.data()),
        "read rows");
  return r;
}

}  // namespace

StridedRows read_strided_rows(const Group& g, const std::string& name, size_t max_rows) {
  return read_rows(g, name, max_rows, 0);
}

StridedRows read_first_rows(const Group& g, const std::string& name, size_t max_rows) {
  return read_rows(g, name, max_rows, 1);
}

File open_for_reading(const std::string& path, double retry_seconds) {
  Handle fapl = detail::file_access(false);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw StoreError(path + ": no such file");
  // A writer mid-flush can leave the superblock briefly ahead of the data it describes, so a
  // failed open is retried for a while before the file is called damaged.
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(retry_seconds));
  std::string why;
  while (true) {
    hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id());
    if (id >= 0) return File(Handle(id), path);
    why = detail::hdf5_error();
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The rebuild advice only where there is something to rebuild from (a sidecar's done/).
  if (!fs::is_directory(path + ".ckpt/done", ec))
    throw StoreError(path + " is not a readable HDF5 file (HDF5: " + why +
                     "), and has no sidecar " + path + ".ckpt/done/ to rebuild it from");
  throw StoreError(path + " is truncated or corrupt (HDF5: " + why +
                   "); the finished tasks are also kept in " + path +
                   ".ckpt/done/ — rerun with --resume to rebuild it");
}

}  // namespace depthscale::store
