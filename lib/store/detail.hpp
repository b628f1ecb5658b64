// Internals shared by the store's translation units: HDF5 error capture and property lists.
#pragma once

#include <hdf5.h>

#include <string>

#include "store/store.hpp"

namespace depthscale::store::detail {

// Turns off HDF5's automatic error printing for the calling thread (error stacks are per thread in
// the thread-safe build Debian ships), so that failures surface only as StoreError.
void quiet();

// Empties the calling thread's HDF5 error stack into a short text: the API-level description and
// the innermost one, which is where the useful detail ("truncated file: eof = ...") usually is.
std::string hdf5_error();

// Throws StoreError("<what> (HDF5: <detail>)").
[[noreturn]] void fail(const std::string& what);

inline hid_t check(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}
inline herr_t check_status(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
  return status;
}

// File access for every file the store opens: no file locking, so that `status` or `plot` can read
// a sweep while rank 0 writes it, and a killed writer never leaves a stale lock behind.
Handle file_access(bool in_memory);

// "f.h5:/tasks" + "x" → "f.h5:/tasks/x".
std::string join(const std::string& path, const std::string& name);

// Keys become file names in the sidecar and link names in the sweep file.
void check_key(const std::string& key);

// A variable-length UTF-8 string attribute of any object (group or dataset), replacing one of
// that name; and its reader. `path` names the object in messages.
void set_string_attr(hid_t obj, const std::string& path, const std::string& name,
                     const std::string& value);
std::string string_attr(hid_t obj, const std::string& path, const std::string& name);

// Reads every attribute and every dataset under `g`, recursively, and throws StoreError naming the
// first object HDF5 cannot read back: a deep check that a file a kill interrupted is whole.
void read_everything(const Group& g);

}  // namespace depthscale::store::detail
