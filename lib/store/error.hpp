// The store's one exception: any failure to read or write a sweep file, a sidecar file or an
// image. Kept apart from store.hpp so that code which only moves bytes (files.hpp) needs no HDF5.
#pragma once

#include "error/error.hpp"

namespace depthscale::store {

// The message names the file and the object.
class StoreError : public Error {
 public:
  using Error::Error;
};

}  // namespace depthscale::store
