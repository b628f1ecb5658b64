// Which stored pieces belong to the job and are whole: identities and checksums.
//
// Every piece of a sweep (its root and the sidecar's header.h5: job_identity; every /tasks/<key>
// group, done/<key>.h5 copy and tasks/<key>.h5 checkpoint: identity and checksum; every
// /teachers/<key> group: checksum) says which job it belongs to and what its data hashes to
// (hash/hash.hpp). The one writer of each format computes its checksum; the one reader verifies
// it. `run --resume` sets aside (FILE.h5.ckpt/rejected/) every sidecar piece of another job, with
// a bad checksum or unreadable, and reruns what it lost. Pieces written before identities and
// checksums were recorded have neither: they are accepted, unverified.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace depthscale::store {

// Attribute names.
inline constexpr const char* kJobIdentityAttr = "job_identity";  // root, header.h5
inline constexpr const char* kIdentityAttr = "identity";         // a task's pieces
inline constexpr const char* kChecksumAttr = "checksum";         // tasks, checkpoints, teachers

// A stored checksum that does not match its data.
class ChecksumError : public StoreError {
 public:
  using StoreError::StoreError;
};

// A sweep file and its sidecar (or the job being run) that belong to different jobs: refused
// before anything is written. The message names both jobs.
class ForeignSweepError : public StoreError {
 public:
  using StoreError::StoreError;
};

// The header a resume compares the job with (config::incompatible_change), read without writing
// anything: the sweep file's own root when it reads, else the sidecar's header.h5. A file whose
// root identity differs from its sidecar header's, where the file is not the job being run
// (`job_identity`), is a ForeignSweepError naming both jobs. (A sidecar of another job beside a
// file of this one is not: open_or_recover sets it aside.)
SweepHeader resume_header(const std::string& path, const std::string& job_identity);

// The checksum (16 hex digits) of what determines a piece's numbers, in a canonical order: the
// key, the grid parameters and status (results), the step (checkpoints), the teacher's attributes
// (teachers), then every array's length and bytes. Timing, host and rank are not part of it.
std::string checksum(const TaskResult& r);
std::string checksum(const TaskCheckpoint& c);
std::string checksum(const TeacherProbes& p);

// Compares the checksum attribute of `g` with `computed`: true when it matches, false when `g`
// has none (written before checksums: unverified), ChecksumError naming `g` when it differs.
bool verify_checksum(const Group& g, const std::string& computed);

// The identity attribute of a piece (`kIdentityAttr`, or `kJobIdentityAttr` on a root), "" when
// it has none.
std::string identity_of(const Group& g, const char* attr = kIdentityAttr);

// The damage of each task of the sweep at `path` (read-only, safe while a run writes): every
// dataset read, its type, shape and (for complete tasks) finiteness checked, and the checksum
// verified; "" for a whole task. `steps` > 0: the length train_loss of a complete task must have.
// Only tasks with a status are listed.
std::map<std::string, std::string> task_damage(const std::string& path, int64_t steps = 0);

// The same for /teachers/<key>: key → damage ("" when whole).
std::map<std::string, std::string> teacher_damage(const std::string& path);

// /teachers/<key> as write_teacher wrote it, its checksum verified (ChecksumError otherwise).
TeacherProbes read_teacher(const Group& g);

// FILE.h5.ckpt/rejected: where resume sets aside the pieces it cannot trust.
std::string rejected_dir(const std::string& sweep_path);

// Moves `file` into rejected_dir as "<prefix>.<file name>.<reason>" ("<file name>.<reason>"
// without a prefix; never over another) with one
// warning line saying what and why; returns the new path.
std::string set_aside(const std::string& sweep_path, const std::string& file,
                      const std::string& prefix, const std::string& reason, const std::string& why);

struct Screened {
  int rejected = 0;    // pieces set aside
  int unverified = 0;  // pieces without identity or checksum (accepted)
};
// Checks every done/ copy and task checkpoint of the sidecar of the sweep at `path` against
// `job_identity` (the identity of the job in the sidecar's header; "" accepts any) and its
// checksum, and sets aside the ones of another job, with a bad checksum, or unreadable.
Screened screen_sidecar(const std::string& path, const std::string& job_identity);

}  // namespace depthscale::store
