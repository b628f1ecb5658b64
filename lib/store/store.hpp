// The HDF5 side of depthscale: RAII handles over the HDF5 C API, the sweep file of
// docs/sweep-file.md, task checkpoints, and HDF5 "file images" (an HDF5 file held in memory) that
// workers send to rank 0.
//
// Crash safety: rank 0 is the only writer. Every finished task is first written as its own small
// HDF5 file in the sidecar folder (<sweep>.ckpt/done/<key>.h5) by write-aside + fsync + rename, and
// only then copied into the sweep file, whose `status` attribute is written last and flushed. If a
// kill lands while the sweep file is being written, `SweepFile::open_or_recover` rebuilds it from
// the sidecar. Checkpoints live in <sweep>.ckpt/tasks/<key>.h5 and are replaced atomically.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/error.hpp"
#include "store/files.hpp"
#include "toy/result.hpp"

namespace depthscale::store {

// ---- RAII handles --------------------------------------------------------------------------
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  ~Handle();
  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Gives up ownership without closing (for closes whose failure must be reported).
  hid_t release() {
    hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

enum class Mode { ReadOnly, ReadWrite };

class Group {
 public:
  Group() = default;
  Group(Handle h, std::string path) : h_(std::move(h)), path_(std::move(path)) {}
  hid_t id() const { return h_.id(); }
  const std::string& path() const { return path_; }

  bool has(const std::string& name) const;  // a link of that name exists
  Group create_group(const std::string& name);
  Group open_group(const std::string& name) const;
  Group require_group(const std::string& name);  // open or create
  std::vector<std::string> children() const;     // link names, sorted
  void remove(const std::string& name);          // unlink (space is not reclaimed)

  // Datasets: row-major arrays with explicit dims (product of dims == data.size()); empty dims
  // mean 1-D. Writing an existing name replaces the dataset. Stored as IEEE/int64 little-endian.
  void write(const std::string& name, const std::vector<float>& data,
             std::vector<hsize_t> dims = {});
  void write(const std::string& name, const std::vector<double>& data,
             std::vector<hsize_t> dims = {});
  void write(const std::vector<int64_t>& data, const std::string& name,
             std::vector<hsize_t> dims = {});
  void write(const std::string& name, const std::vector<int64_t>& data,
             std::vector<hsize_t> dims = {}) {
    write(data, name, std::move(dims));
  }
  std::vector<float> read_float(const std::string& name,
                                std::vector<hsize_t>* dims = nullptr) const;
  std::vector<double> read_double(const std::string& name,
                                  std::vector<hsize_t>* dims = nullptr) const;
  std::vector<int64_t> read_int64(const std::string& name,
                                  std::vector<hsize_t>* dims = nullptr) const;
  // A count (int64), also from files that stored it as whole-number floats; a fraction is a
  // StoreError naming the dataset.
  std::vector<int64_t> read_count(const std::string& name,
                                  std::vector<hsize_t>* dims = nullptr) const;

  // Attributes (scalars and variable-length UTF-8 strings, readable by h5py as str).
  void set_attr(const std::string& name, double v);
  void set_attr(const std::string& name, int64_t v);
  void set_attr(const std::string& name, uint64_t v);  // seeds: the full 64 bits
  void set_attr(const std::string& name, const std::string& v);
  void set_attr(const std::string& name, const char* v) { set_attr(name, std::string(v)); }
  bool has_attr(const std::string& name) const;
  double attr_double(const std::string& name) const;  // also reads integer attrs
  int64_t attr_int(const std::string& name) const;
  uint64_t attr_uint64(const std::string& name) const;  // also a non-negative signed integer
  std::string attr_string(const std::string& name) const;
  bool attr_is_string(const std::string& name) const;
  std::vector<std::string> attr_names() const;  // sorted

 private:
  Handle h_;
  std::string path_;  // "file.h5:/tasks/x" for messages
};

class File {
 public:
  File() = default;
  File(Handle h, std::string path) : h_(std::move(h)), path_(std::move(path)) {}
  static File create(const std::string& path);  // truncates
  static File open(const std::string& path, Mode mode);
  // An HDF5 file held in memory (core driver, no backing store).
  static File create_in_memory(const std::string& label);
  static File open_image(const std::vector<char>& image, const std::string& label);
  std::vector<char> image();  // bytes of an in-memory file (flushes first)

  Group root() const;
  void flush();
  // Closes now and reports a failed close (the last chance to see a write error). Objects still
  // open keep the file open until they close too (HDF5's default "weak" close).
  void close();
  const std::string& path() const { return path_; }
  hid_t id() const { return h_.id(); }

 private:
  Handle h_;
  std::string path_;
};

// Rows 0, s, 2s, ... of the 2-D float dataset `name` [total, cols] of `g`, with the stride s the
// smallest that keeps at most max_rows of them: one strided read, never the whole dataset (figures
// of per-site arrays too large to hold).
struct StridedRows {
  std::vector<float> data;  // [rows, cols] row-major
  hsize_t rows = 0, cols = 0, stride = 1, total = 0;
};
StridedRows read_strided_rows(const Group& g, const std::string& name, size_t max_rows);
// Rows 0 .. min(max_rows, total) − 1 of the same kind of dataset (stride 1), in one read of only
// those rows: the first sites of a per-site array, drawn one line each.
StridedRows read_first_rows(const Group& g, const std::string& name, size_t max_rows);

// Copies `src` (a group of any file) to `dst_parent/name`, recursively with attributes.
void copy_group(const Group& src, Group& dst_parent, const std::string& name);

// ---- what the study stores ----------------------------------------------------------------

// The toy's value types (toy/result.hpp), persisted here; the names stay usable as store::.
using toy::TaskCheckpoint;
using toy::TaskResult;
using toy::TaskSeeds;

// Field-by-field equality, comparing floats by their bits (NaN losses are equal to themselves).
bool bitwise_equal(const TaskResult& a, const TaskResult& b);
bool bitwise_equal(const TaskCheckpoint& a, const TaskCheckpoint& b);

// Serialisation through in-memory HDF5 images (self-describing, checked on read). The writer
// stores a checksum of the data (and `identity`, the task's identity, when given: store/trust.hpp);
// the reader verifies the checksum (ChecksumError) where there is one.
std::vector<char> to_image(const TaskResult& r, const std::string& identity = "");
TaskResult result_from_image(const std::vector<char>& image);
std::vector<char> to_image(const TaskCheckpoint& c, const std::string& identity = "");
TaskCheckpoint checkpoint_from_image(const std::vector<char>& image);

// Writes a TaskResult under `tasks_group/<key>/` (datasets, attrs, its checksum and `identity`
// when given, `status` last), replacing any group of that name. Inconsistent sizes are refused
// before anything is written. read_task verifies the checksum where there is one (ChecksumError).
void write_task(Group& tasks_group, const TaskResult& r, const std::string& identity = "");
TaskResult read_task(const Group& task_group);

// What read_tasks reads of each task: its attributes (key, grid parameters, status, error,
// timing), plus eval_step and test_loss, plus everything (train_loss, hidden/).
enum class TaskFields { Attributes, Losses, Everything };

// The one reader of /tasks: every task group of the sweep at `path` that has its status (a group
// without one is a write a kill interrupted, not a result), sorted by key. The file is opened
// with open_sweep (format checked); no /tasks yet is an empty list.
std::vector<TaskResult> read_tasks(const std::string& path, TaskFields fields);

// The step of every task checkpoint in the sidecar of the sweep at `path`, by key. Read-only, so
// safe while a run writes: a checkpoint being replaced at that moment is left out.
std::map<std::string, int64_t> checkpoint_steps(const std::string& path);

struct SweepHeader {
  std::string job_yaml;   // exact text of the job file
  std::string effective;  // canonical job after overrides
  std::string git_commit, version, torch_version;
  // The job's identity (config::job_identity; root attribute job_identity): what the pieces of
  // the sweep are checked against on resume. Empty in files written before identities.
  std::string identity;
};

enum class TaskState { Complete, Failed, Partial, Pending };

// The sweep file and its sidecar folder (<path>.ckpt/).
class SweepFile {
 public:
  // Creates a new sweep (refuses to overwrite an existing non-empty sweep, or a file that is not a
  // sweep, unless `overwrite`). Any old sidecar is cleared, so no stale checkpoint is resumed.
  static SweepFile create(const std::string& path, const SweepHeader& header, bool overwrite);
  // Opens an existing sweep for writing; if the file is unreadable or has tasks without status,
  // rebuilds it from the sidecar's done/ files (the damaged file is kept as <path>.corrupt-<time>).
  // "Unreadable" is checked deeply: every attribute and dataset must read back. Groups outside
  // /tasks (/teachers, /fits), which the sidecar does not hold, are carried over as far as they
  // read. A whole file that lacks some sidecar results, or holds a different copy of one (a kill
  // during record), gets those rewritten in place. Not safe while another process writes.
  // `job_identity` (config::job_identity of the job being run; "" takes the sidecar's): before
  // anything is written, a file of another job is refused (ForeignSweepError, store/trust.hpp); a
  // sidecar header of another job beside a file of this one, and every done/ copy or checkpoint of
  // another job, with a bad checksum or unreadable, is set aside into <path>.ckpt/rejected/.
  static SweepFile open_or_recover(const std::string& path, const std::string& job_identity = "");

  SweepHeader header() const;
  // Records a task's result: sidecar file first, then the sweep file, then flush. Removes the
  // task's checkpoint once the result is safe.
  void record(const TaskResult& r);
  // Checkpoints (atomic replace of <path>.ckpt/tasks/<key>.h5).
  void save_checkpoint(const TaskCheckpoint& c);
  std::optional<TaskCheckpoint> load_checkpoint(const std::string& key) const;
  // Step of the task's checkpoint, without loading its arrays (nullopt if none).
  std::optional<int64_t> checkpoint_step(const std::string& key) const;
  // Erases a task's result (for --retry-failed) or checkpoint.
  void forget(const std::string& key);

  std::map<std::string, TaskState> states() const;  // keys present in the file or the sidecar
  const std::string& path() const { return path_; }
  std::string sidecar() const { return path_ + ".ckpt"; }

 private:
  SweepFile(std::string path, std::string identity)
      : path_(std::move(path)), identity_(std::move(identity)) {}
  std::string task_identity(const std::string& key) const;
  std::string path_;
  std::string identity_;  // the job's identity ("" for sweeps written before identities)
};

// ---- the run's heartbeat (FILE.h5.ckpt/heartbeat) ----------------------------------------------
// Rank 0 of a run replaces it every few seconds, and once more when the run ends; `status` reads
// it to tell a running sweep from a stalled or a dead one.
struct Heartbeat {
  std::string state = "running";  // running, finished, stopped (checkpointed), failed
  std::string host;
  int64_t pid = 0;
  double unix_time = 0;      // when it was written
  double every_seconds = 0;  // how often a running sweep writes it
  int64_t done = 0, total = 0;
  double rate = 0;  // work units (student-steps, batches) per second over the run so far
  std::string unit = "units";
};
void write_heartbeat(const std::string& sweep_path, const Heartbeat& h);
// The heartbeat beside the sweep at `sweep_path`; none when no run wrote one. A file that is not a
// heartbeat is a StoreError naming it.
std::optional<Heartbeat> read_heartbeat(const std::string& sweep_path);

// ---- /teachers: hidden-state probes of each teacher (docs/experiments.md §1), written once per
// teacher ----
struct TeacherProbes {
  double rho = 0;
  int64_t teacher = 0, depth = 0;
  int64_t teacher_groups = 0;          // K where the job ties layers in groups (written when > 0)
  int64_t inputs = 0;                  // rows of the arrays below
  std::vector<float> theta, theta_dh;  // [inputs, depth], [inputs, depth-1]
  std::vector<float> norms;            // [inputs, depth+1]
  // What the teacher and its probe inputs derive from (as TaskSeeds; written when
  // teacher_stream is set): the job's master seed and the streams' keys.
  uint64_t seed = 0;
  std::string teacher_stream, probe_stream;
};
// Whether /teachers/<key> of the sweep at `path` is written (has its status) and whole (reads back
// with its checksum: a damaged one is written again).
bool has_teacher(const std::string& path, const std::string& key);
// Writes /teachers/<key>/ (replacing a partial one), its checksum, status last, and flushes.
void write_teacher(const std::string& path, const std::string& key, const TeacherProbes& p);

// ---- /fits and /fits_summary: the depth fits of `depthscale reduce` ----------------------------
struct FitSeries {  // /fits/<group>/: one entry per evaluated step, the last is the final fit
  double rho = 0, temperature = 0;
  int64_t teacher = 0, n_depths = 0;
  // The axes beyond the study's; 0 where the job does not give them (and no attribute is written).
  int64_t width = 0, teacher_depth = 0, teacher_groups = 0;
  std::vector<int64_t> step, n_points;
  std::vector<double> alpha, alpha_se, c, c_se, L0, L0_se, rss;
  // 1 where the free fit's L0 fell below Fits::L0_floor and the fit was redone with L0 held there
  // (L0_se = 0 then); 0 elsewhere.
  std::vector<int64_t> L0_held;
  std::string final_message;
};
struct FitSummary {  // /fits_summary/<cell>/: α across teacher replicates
  double rho = 0, temperature = 0;
  int64_t width = 0, teacher_depth = 0, teacher_groups = 0;  // as in FitSeries
  std::vector<int64_t> step, n_replicates;
  std::vector<double> alpha_mean, alpha_sem, alpha_pooled, alpha_pooled_se;
};
struct Fits {
  std::string model;            // attribute of /fits: the fitted law, in words
  double depth_offset = 0;      // attribute of /fits and of each /fits/<group>
  std::string standard_errors;  // attribute of /fits: how the SEs are computed
  double L0_floor = std::numeric_limits<double>::quiet_NaN();  // attribute; NaN: no floor
  // Attribute `loss` of /fits: what the fitted losses measure (toy::TaskResult::loss), which gives
  // c, L0 and rss their units; empty: not known (tasks written before it was recorded).
  std::string loss;
  std::map<std::string, FitSeries> groups;
  std::string summary_what;  // attribute `what` of /fits_summary
  std::map<std::string, FitSummary> summaries;
};
// Replaces /fits and /fits_summary of the sweep at `path` and flushes.
void write_fits(const std::string& path, const Fits& fits);
// The one reader of /fits and /fits_summary (of an open sweep): what write_fits wrote; empty
// groups when the file has none. A group whose arrays differ in length is a StoreError naming it.
Fits read_fits(const File& sweep);

// Read-only view for `status`/`reduce`/`plot`, safe while a run writes (no file locking; retries
// while the writer holds the file mid-update). Throws StoreError with a clear message when the
// file is truncated or corrupt.
File open_for_reading(const std::string& path, double retry_seconds = 2.0);

// The one entry for readers of a sweep file (status, reduce, plot, merge): open_for_reading, then
// checks that the root says format="depthscale-sweep" and a format_version this build reads.
// Throws StoreError naming the file otherwise.
File open_sweep(const std::string& path, double retry_seconds = 2.0);

// ---- merging sweep files (the slices of a job array) ---------------------------------------
struct MergedCounts {
  int64_t complete = 0, failed = 0;  // results copied: tasks, or probe batches
  int64_t skipped = 0;               // groups without status (a kill's interrupted writes)
  int64_t teachers = 0;
};
// Writes the sweep `out` with `header` and every result of the `sources`: /tasks/<key> and
// /probe/<model>/batches/<key> groups with a status, whole finalised /probe/<model> groups, and
// the first copy of each /teachers/<key>; root attribute merged_from lists the sources. Written
// aside and renamed into place with a fresh sidecar. A result in two sources, or an existing
// `out` that no merge wrote, is a StoreError.
MergedCounts merge_sweeps(const std::vector<std::string>& sources, const SweepHeader& header,
                          const std::string& out);
// Whether merge_sweeps wrote the sweep at `path` (false for anything unreadable).
bool written_by_merge(const std::string& path);

// The header of an open sweep file (its root attributes: job_yaml, job_effective, versions).
SweepHeader read_header(const File& sweep);

}  // namespace depthscale::store
