// Plain-file I/O with crash safety, the one place depthscale syncs, renames and slurps files.
// Every failure throws StoreError naming the path and the system's reason.
#pragma once

#include <string>
#include <vector>

#include "store/error.hpp"

namespace depthscale::store {

// fsync of an existing file or folder. Some file systems refuse fsync on folders (EINVAL); that
// one is tolerated, since the data itself was synced before.
void fsync_path(const std::string& path);

// fsync of the folder holding `path` ("." for a bare name): makes a rename into it durable.
void fsync_parent(const std::string& path);

// rename(from, to), then fsync of to's folder: after a crash `to` is the old file or the new one.
void rename_durably(const std::string& from, const std::string& to);

// Writes bytes to `path` atomically: path.tmp.<pid>, fsync, rename, fsync of the folder.
void write_file_atomically(const std::string& path, const std::vector<char>& bytes);

// The whole file.
std::vector<char> read_bytes(const std::string& path);

}  // namespace depthscale::store
