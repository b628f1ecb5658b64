// The sweep file and its sidecar folder: recording, checkpoints, and recovery after a kill.
//
// The sidecar is the ground truth. done/<key>.h5 and tasks/<key>.h5 only ever change by atomic
// rename, so each is always a whole file; the sweep file is a convenience copy that may be caught
// mid-write and is rebuilt from the sidecar (header.h5 + done/) when it is.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "hash/hash.hpp"
#include "store/detail.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"
#include "store/trust.hpp"

namespace depthscale::store {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSweepFormat = "depthscale-sweep";
constexpr int64_t kFormatVersion = 1;

std::string utc_time(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

void ensure_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw StoreError(dir + ": cannot create folder (" + ec.message() + ")");
}

void remove_file(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) throw StoreError(path + ": cannot remove (" + ec.message() + ")");
}

struct Sidecar {
  std::string root;
  explicit Sidecar(const std::string& sweep) : root(sweep + ".ckpt") {}
  std::string header() const { return root + "/header.h5"; }
  std::string done_dir() const { return root + "/done"; }
  std::string tasks_dir() const { return root + "/tasks"; }
  std::string done(const std::string& key) const { return done_dir() + "/" + key + ".h5"; }
  std::string checkpoint(const std::string& key) const { return tasks_dir() + "/" + key + ".h5"; }
  void ensure() const {
    ensure_dir(done_dir());
    ensure_dir(tasks_dir());
  }
};

// Keys of the whole files <dir>/<key>.h5 (temporaries end in .tmp.<pid> and are skipped).
std::vector<std::string> keys_in(const std::string& dir) {
  std::vector<std::string> keys;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return keys;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".h5") == 0) {
      keys.push_back(name.substr(0, name.size() - 3));
    }
  }
  if (ec) throw StoreError(dir + ": cannot list (" + ec.message() + ")");
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Temporaries left by a killed writer: "<prefix>....tmp.<pid>" whose process is gone.
void remove_stale_temporaries(const std::string& dir, const std::string& prefix = "") {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || name.compare(0, prefix.size(), prefix) != 0) continue;
    char* end = nullptr;
    long pid = std::strtol(name.c_str() + at + 5, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (pid != getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      fs::remove(entry.path(), ec);
    }
  }
}

// A sweep file's root: the format name, then a version this build reads.
void check_sweep_format(const Group& root, const std::string& label) {
  if (!root.has_attr("format") || !root.attr_is_string("format") ||
      root.attr_string("format") != kSweepFormat) {
    throw StoreError(label + " is not a depthscale sweep file (no format=\"" +
                     std::string(kSweepFormat) + "\" attribute)");
  }
  if (!root.has_attr("format_version")) {
    throw StoreError(label + ": a depthscale sweep file without a format_version attribute");
  }
  int64_t version = root.attr_int("format_version");
  if (version != kFormatVersion) {
    throw StoreError(label + ": sweep format_version " + std::to_string(version) +
                     " is not supported (this build reads " + std::to_string(kFormatVersion) + ")");
  }
}

// The sweep's root attributes, as found in the file or in the sidecar's header copy.
struct HeaderAttrs {
  SweepHeader header;
  std::string created_utc;
};

HeaderAttrs read_header_attrs(const Group& root, const std::string& label) {
  check_sweep_format(root, label);
  HeaderAttrs h;
  h.header.job_yaml = root.attr_string("job_yaml");
  h.header.effective = root.attr_string("job_effective");
  h.header.git_commit = root.attr_string("git_commit");
  h.header.version = root.attr_string("depthscale_version");
  h.header.torch_version = root.attr_string("torch_version");
  h.header.identity = identity_of(root, kJobIdentityAttr);
  h.created_utc = root.attr_string("created_utc");
  return h;
}

// An empty sweep file (root attributes and an empty /tasks), as bytes.
std::vector<char> header_image(const HeaderAttrs& h) {
  File f = File::create_in_memory("sweep header");
  {
    Group root = f.root();
    root.set_attr("format", kSweepFormat);
    root.set_attr("format_version", kFormatVersion);
    root.set_attr("job_yaml", h.header.job_yaml);
    root.set_attr("job_effective", h.header.effective);
    root.set_attr("git_commit", h.header.git_commit);
    root.set_attr("depthscale_version", h.header.version);
    root.set_attr("torch_version", h.header.torch_version);
    root.set_attr("created_utc", h.created_utc);
    if (!h.header.identity.empty()) root.set_attr(kJobIdentityAttr, h.header.identity);
    root.create_group("tasks");
  }
  return f.image();
}

std::string status_of(const Group& task) {
  return task.has_attr("status") ? task.attr_string("status") : std::string();
}

TaskResult load_done(const Sidecar& sc, const std::string& key) {
  std::string path = sc.done(key);
  try {
    TaskResult r = result_from_image(read_bytes(path));
    if (r.key != key) throw StoreError("holds task '" + r.key + "'");
    return r;
  } catch (const StoreError& e) {
    throw StoreError(path + ": " + e.what());
  }
}

// Opens the sweep, writes, flushes, closes and syncs. Between operations the file is closed, so
// readers in other processes can open it, and a kill there finds nothing half-written.
template <class F>
void with_sweep_for_writing(const std::string& path, F&& body) {
  File f = File::open(path, Mode::ReadWrite);
  {
    Group root = f.root();
    Group tasks = root.require_group("tasks");
    body(root, tasks);
  }
  f.flush();
  f.close();
  fsync_path(path);
}

// Why a sweep file cannot be trusted, or "" when every task in it reads back whole.
std::string damage_of(const std::string& path, const std::string& identity) {
  try {
    File f = File::open(path, Mode::ReadOnly);
    Group root = f.root();
    read_header_attrs(root, path);
    // Everything, not only /tasks: the coordinator also writes groups of its own (/teachers).
    detail::read_everything(root);
    if (!root.has("tasks")) return "";
    Group tasks = root.open_group("tasks");
    for (const std::string& key : tasks.children()) {
      Group g = tasks.open_group(key);
      if (!g.has_attr("status")) return "task " + key + " has no status (a write was interrupted)";
      const std::string id = identity_of(g);
      if (!identity.empty() && !id.empty() && id != hash::task_identity(identity, key))
        return "task " + key + " belongs to another job (identity " + id + ")";
      read_task(g);
    }
    return "";
  } catch (const StoreError& e) {
    return e.what();
  }
}

std::string corrupt_name(const std::string& path) {
  std::string base = path + ".corrupt-" + utc_time("%Y%m%dT%H%M%SZ");
  std::string name = base;
  std::error_code ec;
  for (int i = 1; fs::exists(name, ec); ++i) name = base + "-" + std::to_string(i);
  return name;
}

// Copies /<name> of a damaged file into `dst`, whole if it reads, else child by child (losing the
// group's own attributes). Returns how many objects were kept.
size_t salvage(const Group& src_root, Group& dst_root, const std::string& name,
               const std::string& path) {
  try {
    Group src = src_root.open_group(name);
    try {
      detail::read_everything(src);
      copy_group(src, dst_root, name);
      return 1;
    } catch (const StoreError& e) {
      if (dst_root.has(name)) dst_root.remove(name);
      spdlog::warn("/{} of the damaged {} is partly unreadable ({}); keeping what reads", name,
                   path, e.what());
    }
    Group dst = dst_root.create_group(name);
    size_t kept = 0;
    for (const std::string& child : src.children()) {
      std::string where = detail::join(src.path(), child);
      Handle obj(H5Oopen(src.id(), child.c_str(), H5P_DEFAULT));
      try {
        if (!obj.valid()) continue;
        if (H5Iget_type(obj.id()) == H5I_GROUP) {
          detail::read_everything(Group(std::move(obj), where));
        }
        // Datasets are checked by the copy itself, which reads their data.
        if (H5Ocopy(src.id(), child.c_str(), dst.id(), child.c_str(), H5P_DEFAULT, H5P_DEFAULT) >=
            0) {
          ++kept;
        }
      } catch (const StoreError&) {
        // This child is damaged: drop it.
      }
      H5Eclear2(H5E_DEFAULT);
    }
    return kept;
  } catch (const StoreError& e) {
    spdlog::warn("could not salvage /{} from the damaged {}: {}", name, path, e.what());
    return 0;
  }
}

// Builds a fresh sweep from the sidecar next to the damaged one, then swaps them: the damaged
// file is kept as <path>.corrupt-<time>, and a kill at any point leaves either the old file or the
// new one (or none, which the next recovery rebuilds again).
void rebuild(const std::string& path, const std::string& reason, const std::string& identity) {
  Sidecar sc(path);
  std::error_code ec;
  bool damaged_exists = fs::exists(path, ec);

  std::vector<char> header;
  if (fs::exists(sc.header(), ec)) {
    header = read_bytes(sc.header());
    File h = File::open_image(header, sc.header());
    read_header_attrs(h.root(), sc.header());  // check it is one
  } else {
    // Sweeps made before header.h5 existed: the damaged file's root may still be readable.
    try {
      File f = File::open(path, Mode::ReadOnly);
      header = header_image(read_header_attrs(f.root(), path));
    } catch (const StoreError& e) {
      throw StoreError(path + " is damaged (" + reason + ") and cannot be rebuilt: " + sc.header() +
                       " is missing and the file's own header is unreadable (" + e.what() + ")");
    }
  }

  std::string tmp = path + ".rebuild.tmp." + std::to_string(getpid());
  write_file_atomically(tmp, header);
  size_t imported = 0, salvaged = 0;
  {
    File out = File::open(tmp, Mode::ReadWrite);
    {
      Group root = out.root();
      Group tasks = root.require_group("tasks");
      std::vector<std::string> done = keys_in(sc.done_dir());
      for (const std::string& key : done) {
        try {
          write_task(tasks, load_done(sc, key),
                     identity.empty() ? "" : hash::task_identity(identity, key));
          ++imported;
        } catch (const StoreError& e) {
          spdlog::warn("skipping an unreadable sidecar result: {}", e.what());
        }
      }
      // Best effort for what the sidecar does not hold: /fits, /probe, and tasks written
      // without a sidecar copy.
      if (damaged_exists) {
        try {
          File old = File::open(path, Mode::ReadOnly);
          Group old_root = old.root();
          for (const std::string& name : old_root.children()) {
            if (name != "tasks") salvaged += salvage(old_root, root, name, path);
          }
          if (old_root.has("tasks")) {
            Group old_tasks = old_root.open_group("tasks");
            for (const std::string& key : old_tasks.children()) {
              if (tasks.has(key)) continue;
              try {
                const Group g = old_tasks.open_group(key);
                const std::string id = identity_of(g);
                const std::string ours = identity.empty() ? "" : hash::task_identity(identity, key);
                if (!ours.empty() && !id.empty() && id != ours) continue;  // another job's
                write_task(tasks, read_task(g), ours);
                ++salvaged;
              } catch (const StoreError&) {
                // Without status or unreadable: not a result.
              }
            }
          }
        } catch (const StoreError&) {
          // The damaged file does not open: the sidecar is all there is.
        }
        // What was salvaged may come from an older build: the table supplies what it lacks.
        describe_datasets(root, Undescribed::Warn);
      }
    }
    out.flush();
    out.close();
  }
  fsync_path(tmp);

  std::string kept;
  if (damaged_exists) {
    kept = corrupt_name(path);
    if (::rename(path.c_str(), kept.c_str()) != 0) {
      throw StoreError(path + ": cannot move the damaged file aside (" + std::strerror(errno) +
                       ")");
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    throw StoreError(path + ": cannot put the rebuilt file in place (" + std::strerror(errno) +
                     ")");
  }
  fsync_parent(path);
  spdlog::warn("{} was damaged ({}); rebuilt it from {} results in {}{}{}", path, reason, imported,
               sc.done_dir(),
               salvaged ? " plus " + std::to_string(salvaged) + " salvaged groups" : "",
               kept.empty() ? "" : "; the damaged file is kept as " + kept);
}

}  // namespace

// ---- SweepFile ----------------------------------------------------------------------------------
SweepFile SweepFile::create(const std::string& path, const SweepHeader& header, bool overwrite) {
  detail::quiet();
  Sidecar sc(path);
  std::error_code ec;
  if (!overwrite && fs::exists(path, ec) && fs::file_size(path, ec) > 0) {
    // An existing sweep may be replaced only when it holds nothing worth keeping.
    size_t results = keys_in(sc.done_dir()).size();
    std::string why;
    try {
      File f = File::open(path, Mode::ReadOnly);
      Group root = f.root();
      read_header_attrs(root, path);
      if (root.has("tasks"))
        results = std::max(results, root.open_group("tasks").children().size());
    } catch (const StoreError& e) {
      why = e.what();
    }
    if (!why.empty()) {
      throw StoreError("refusing to overwrite " + path + ": it is not an empty depthscale sweep (" +
                       why + ")");
    }
    if (results > 0) {
      throw StoreError("refusing to overwrite " + path + ": it already holds " +
                       std::to_string(results) +
                       " task results (resume it with --resume, or remove it first)");
    }
  }
  // Stale checkpoints or results of an earlier sweep must never be resumed into this one.
  fs::remove_all(sc.root, ec);
  if (ec) throw StoreError(sc.root + ": cannot clear (" + ec.message() + ")");
  std::string dir = fs::path(path).parent_path().string();
  if (!dir.empty()) ensure_dir(dir);
  sc.ensure();

  HeaderAttrs h{header, utc_time("%Y-%m-%dT%H:%M:%SZ")};
  std::vector<char> bytes = header_image(h);
  write_file_atomically(sc.header(), bytes);
  write_file_atomically(path, bytes);
  return SweepFile(path, header.identity);
}

namespace {

// The root attributes of the sweep file and of the sidecar's header.h5, where they read.
struct Owners {
  std::optional<HeaderAttrs> file, sidecar;
};

Owners owners_of(const std::string& path) {
  Owners o;
  Sidecar sc(path);
  std::error_code ec;
  try {
    if (fs::exists(path, ec)) {
      File f = File::open(path, Mode::ReadOnly);
      o.file = read_header_attrs(f.root(), path);
    }
  } catch (const StoreError&) {
    // Damaged: recovery's business, once the sidecar is known to be this job's.
  }
  try {
    if (fs::exists(sc.header(), ec)) {
      File f = File::open_image(read_bytes(sc.header()), sc.header());
      o.sidecar = read_header_attrs(f.root(), sc.header());
    }
  } catch (const StoreError&) {
  }
  return o;
}

// "job 'e2e' (identity 0123456789abcdef)" from a header's effective text.
std::string job_words(const SweepHeader& h) {
  std::string name = "?";
  const std::string& e = h.effective;
  for (size_t at = 0; at < e.size();) {
    const size_t end = std::min(e.find('\n', at), e.size());
    if (e.compare(at, 6, "name: ") == 0) name = e.substr(at + 6, end - at - 6);
    at = end + 1;
  }
  return "job " + name + " (identity " + (h.identity.empty() ? "not recorded" : h.identity) + ")";
}

// The read-only check before a resume writes anything: which identity the pieces must carry, and
// whether the sidecar's header is another job's (beside a file of this one). A file of another
// job is a ForeignSweepError naming both.
struct Ownership {
  std::string identity;  // what the pieces must carry ("" when nothing records one)
  bool foreign_sidecar = false;
  std::optional<HeaderAttrs> file;
};

Ownership check_ownership(const std::string& path, const std::string& job_identity) {
  const Owners o = owners_of(path);
  Ownership own;
  own.file = o.file;
  const std::string fid = o.file ? o.file->header.identity : "";
  const std::string sid = o.sidecar ? o.sidecar->header.identity : "";
  own.identity = !job_identity.empty() ? job_identity : !sid.empty() ? sid : fid;
  const std::string header = Sidecar(path).header();
  if (!fid.empty() && fid != own.identity) {
    const std::string other =
        !sid.empty() && sid == own.identity
            ? "its sidecar " + header + " holds " + job_words(o.sidecar->header)
            : "this run is the job with identity " + own.identity;
    throw ForeignSweepError("refusing to resume " + path + ": it belongs to another job (" +
                            job_words(o.file->header) + "), and " + other +
                            "; nothing was written (move one of them away, or run the file's "
                            "own job)");
  }
  if (!sid.empty() && sid != own.identity) {
    if (fid.empty())
      throw ForeignSweepError("refusing to resume " + path + ": its sidecar " + header +
                              " belongs to another job (" + job_words(o.sidecar->header) +
                              ") and the file records no job of its own to check against "
                              "this one (identity " +
                              own.identity + "); nothing was written");
    own.foreign_sidecar = true;
  }
  return own;
}

}  // namespace

SweepHeader resume_header(const std::string& path, const std::string& job_identity) {
  detail::quiet();
  const Owners o = owners_of(path);
  const std::string fid = o.file ? o.file->header.identity : "";
  const std::string sid = o.sidecar ? o.sidecar->header.identity : "";
  if (!fid.empty() && !sid.empty() && fid != sid && fid != job_identity)
    throw ForeignSweepError("refusing to resume " + path + ": it belongs to another job (" +
                            job_words(o.file->header) + ") than its sidecar " +
                            Sidecar(path).header() + " (" + job_words(o.sidecar->header) +
                            "); nothing was written (move one of them away)");
  if (o.file) return o.file->header;
  if (o.sidecar) return o.sidecar->header;
  // Neither reads: say why, as opening the file does.
  File f = File::open(path, Mode::ReadOnly);
  return read_header_attrs(f.root(), path).header;
}

SweepFile SweepFile::open_or_recover(const std::string& path, const std::string& job_identity) {
  detail::quiet();
  Sidecar sc(path);
  std::error_code ec;
  if (!fs::exists(path, ec) && !fs::exists(sc.header(), ec)) {
    throw StoreError(path + ": no such sweep file (and no " + sc.header() + " to rebuild it from)");
  }
  // Read-only until here: nothing is written into or beside another job's sweep.
  const Ownership own = check_ownership(path, job_identity);
  const std::string& identity = own.identity;
  sc.ensure();
  if (own.foreign_sidecar) {
    set_aside(path, sc.header(), "", "foreign", "the sidecar header belongs to another job");
    HeaderAttrs h = *own.file;
    write_file_atomically(sc.header(), header_image(h));
  }
  const Screened screened = screen_sidecar(path, identity);
  if (identity.empty() || screened.unverified > 0)
    spdlog::warn(
        "{}: {} written before identities and checksums were recorded: accepted unverified", path,
        identity.empty() ? std::string("the sweep was")
                         : std::to_string(screened.unverified) + " sidecar piece(s)");
  if (!identity.empty() && fs::exists(sc.header(), ec)) {
    // Record the job in a header.h5 written before identities.
    try {
      File f = File::open_image(read_bytes(sc.header()), sc.header());
      HeaderAttrs h = read_header_attrs(f.root(), sc.header());
      if (h.header.identity.empty()) {
        h.header.identity = identity;
        write_file_atomically(sc.header(), header_image(h));
      }
    } catch (const StoreError&) {
      // rebuild says what is wrong with it, if it is needed
    }
  }
  remove_stale_temporaries(sc.done_dir());
  remove_stale_temporaries(sc.tasks_dir());
  remove_stale_temporaries(sc.root);
  std::string dir = fs::path(path).parent_path().string();
  remove_stale_temporaries(dir.empty() ? "." : dir, fs::path(path).filename().string() + ".");

  std::string damage = fs::exists(path, ec) ? damage_of(path, identity) : "the file is missing";
  if (!damage.empty()) {
    // A readable file that is simply not a sweep belongs to someone else: never move it aside.
    if (!fs::exists(sc.header(), ec) &&
        damage.find("is not a depthscale sweep") != std::string::npos) {
      throw StoreError(damage);
    }
    rebuild(path, damage, identity);
    return SweepFile(path, identity);
  }

  // The file is whole; it may still lag the sidecar by the results a kill caught between the
  // sidecar write and the sweep write (or, on a rewrite, differ from it): copy those across.
  // A result that cannot be read means damage the structure checks missed: rebuild.
  std::string unreadable;
  size_t missing = 0;
  auto stale_tasks = [&]() {
    std::vector<std::string> stale;
    missing = 0;
    File f = File::open(path, Mode::ReadOnly);
    Group root = f.root();
    bool has_tasks = root.has("tasks");
    Group tasks = has_tasks ? root.open_group("tasks") : Group();
    if (has_tasks) {
      // A kill inside HDF5 can leave a link index naming one result twice: damage that every
      // per-key check passes.
      const std::vector<std::string> names = tasks.children();
      auto dup = std::adjacent_find(names.begin(), names.end());
      if (dup != names.end()) {
        unreadable = path + ": /tasks lists " + *dup + " twice (a damaged link index)";
        return stale;
      }
    }
    for (const std::string& key : keys_in(sc.done_dir())) {
      if (!has_tasks || !tasks.has(key)) {
        stale.push_back(key);
        ++missing;
        continue;
      }
      try {
        if (!bitwise_equal(read_task(tasks.open_group(key)), load_done(sc, key)))
          stale.push_back(key);
      } catch (const StoreError& e) {
        unreadable = e.what();
        return stale;
      }
    }
    return stale;
  };
  std::vector<std::string> stale = stale_tasks();
  if (!unreadable.empty()) {
    rebuild(path, unreadable, identity);
    return SweepFile(path, identity);
  }
  if (!stale.empty()) {
    with_sweep_for_writing(path, [&](Group&, Group& tasks) {
      for (const std::string& key : stale)
        write_task(tasks, load_done(sc, key),
                   identity.empty() ? "" : hash::task_identity(identity, key));
    });
    spdlog::info(
        "{}: copied {} results from {} that the last run did not finish writing ({} "
        "missing, {} different)",
        path, stale.size(), sc.done_dir(), missing, stale.size() - missing);
    // A kill inside an HDF5 write can leave stale allocation metadata behind, so the copy may
    // have landed on another result's blocks: check every result again, and rebuild if any
    // still differs.
    const size_t copied = stale.size();
    stale = stale_tasks();
    if (!unreadable.empty() || !stale.empty()) {
      rebuild(path,
              unreadable.empty() ? std::to_string(stale.size()) + " results still differ from " +
                                       sc.done_dir() + " after copying " + std::to_string(copied)
                                 : unreadable,
              identity);
    }
  }
  return SweepFile(path, identity);
}

std::string SweepFile::task_identity(const std::string& key) const {
  return identity_.empty() ? std::string() : hash::task_identity(identity_, key);
}

SweepHeader read_header(const File& f) {
  return read_header_attrs(f.root(), f.path()).header;
}

SweepHeader SweepFile::header() const {
  File f = File::open(path_, Mode::ReadOnly);
  return read_header_attrs(f.root(), path_).header;
}

void SweepFile::record(const TaskResult& r) {
  detail::check_key(r.key);
  Sidecar sc(path_);
  sc.ensure();
  const std::string id = task_identity(r.key);
  write_file_atomically(sc.done(r.key), to_image(r, id));
  with_sweep_for_writing(path_, [&](Group&, Group& tasks) { write_task(tasks, r, id); });
  // Only now is the checkpoint redundant.
  remove_file(sc.checkpoint(r.key));
}

void SweepFile::save_checkpoint(const TaskCheckpoint& c) {
  detail::check_key(c.key);
  Sidecar sc(path_);
  sc.ensure();
  write_file_atomically(sc.checkpoint(c.key), to_image(c, task_identity(c.key)));
}

std::optional<TaskCheckpoint> SweepFile::load_checkpoint(const std::string& key) const {
  detail::check_key(key);
  std::string file = Sidecar(path_).checkpoint(key);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    TaskCheckpoint c = checkpoint_from_image(read_bytes(file));
    if (c.key != key) throw StoreError("holds task '" + c.key + "'");
    return c;
  } catch (const StoreError& e) {
    throw StoreError(file + ": " + e.what());
  }
}

std::optional<int64_t> SweepFile::checkpoint_step(const std::string& key) const {
  detail::check_key(key);
  std::string file = Sidecar(path_).checkpoint(key);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  File f = File::open(file, Mode::ReadOnly);
  Group root = f.root();
  if (!root.has_attr("format") || root.attr_string("format") != "depthscale-task-checkpoint") {
    throw StoreError(file + " is not a depthscale task checkpoint");
  }
  return root.attr_int("step");
}

std::map<std::string, int64_t> checkpoint_steps(const std::string& path) {
  std::map<std::string, int64_t> out;
  const std::string dir = Sidecar(path).tasks_dir();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".h5") continue;
    try {
      const File f = File::open(e.path().string(), Mode::ReadOnly);
      const Group root = f.root();
      if (root.has_attr("format") && root.attr_string("format") == "depthscale-task-checkpoint")
        out[e.path().stem().string()] = root.attr_int("step");
    } catch (const StoreError&) {
      // being replaced right now: counted next time
    }
  }
  return out;
}

void SweepFile::forget(const std::string& key) {
  detail::check_key(key);
  Sidecar sc(path_);
  // Sweep first: a kill before the sidecar goes only brings the result back, never loses one.
  with_sweep_for_writing(path_, [&](Group&, Group& tasks) {
    if (tasks.has(key)) tasks.remove(key);
  });
  remove_file(sc.done(key));
  remove_file(sc.checkpoint(key));
}

std::map<std::string, TaskState> SweepFile::states() const {
  Sidecar sc(path_);
  std::map<std::string, TaskState> out;
  try {
    File f = File::open(path_, Mode::ReadOnly);
    Group root = f.root();
    if (root.has("tasks")) {
      Group tasks = root.open_group("tasks");
      for (const std::string& key : tasks.children()) {
        std::string status = status_of(tasks.open_group(key));
        if (status == "complete") out[key] = TaskState::Complete;
        if (status == "failed") out[key] = TaskState::Failed;
      }
    }
  } catch (const StoreError& e) {
    spdlog::warn("{} (answering from the sidecar {})", e.what(), sc.done_dir());
  }
  for (const std::string& key : keys_in(sc.done_dir())) {
    if (out.count(key)) continue;
    try {
      File f = File::open(sc.done(key), Mode::ReadOnly);
      std::string status = status_of(f.root().open_group("tasks").open_group(key));
      if (status == "complete") out[key] = TaskState::Complete;
      if (status == "failed") out[key] = TaskState::Failed;
    } catch (const StoreError& e) {
      spdlog::warn("{}", e.what());
    }
  }
  for (const std::string& key : keys_in(sc.tasks_dir())) {
    if (!out.count(key)) out[key] = TaskState::Partial;
  }
  return out;
}

File open_sweep(const std::string& path, double retry_seconds) {
  File f = open_for_reading(path, retry_seconds);
  check_sweep_format(f.root(), path);
  return f;
}

}  // namespace depthscale::store
