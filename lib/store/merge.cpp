// Joining sweep files: the slices of a job array into one sweep (`depthscale merge`).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "store/files.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"
#include "store/trust.hpp"

namespace fs = std::filesystem;

namespace depthscale::store {

namespace {

constexpr const char* kMergedFrom = "merged_from";

std::string attr_or(const Group& g, const char* name) {
  return g.has_attr(name) ? g.attr_string(name) : std::string();
}

// /tasks, /teachers and /probe of one source into `root` (the merged file's).
void copy_results(const std::string& source, Group& root, std::set<std::string>& teachers_done,
                  MergedCounts& counts) {
  File in = open_sweep(source);
  Group in_root = in.root();
  Group tasks = root.require_group("tasks");
  if (in_root.has("tasks")) {
    Group in_tasks = in_root.open_group("tasks");
    for (const auto& key : in_tasks.children()) {
      Group g = in_tasks.open_group(key);
      // A group without status is a write a kill interrupted: not a result.
      const std::string status = attr_or(g, "status");
      if (status != "complete" && status != "failed") {
        spdlog::warn("{}: /tasks/{} has no status: not a result, skipped", source, key);
        ++counts.skipped;
        continue;
      }
      if (tasks.has(key))
        throw StoreError("task " + key + " is in more than one slice (again in " + source + ")");
      try {
        read_task(g);  // every dataset, and its checksum
      } catch (const StoreError& e) {
        throw StoreError(std::string(e.what()) + " (run --resume on " + source +
                         " repairs it from its sidecar, or reruns the task)");
      }
      copy_group(g, tasks, key);
      (status == "complete" ? counts.complete : counts.failed)++;
    }
  }
  // Slices share teachers; their probes are deterministic, so the first copy serves.
  if (in_root.has("teachers")) {
    Group in_teachers = in_root.open_group("teachers");
    for (const auto& key : in_teachers.children()) {
      Group g = in_teachers.open_group(key);
      if (teachers_done.count(key) || !g.has_attr("status")) continue;
      try {
        if (g.has_attr(kChecksumAttr)) read_teacher(g);  // older slices: copied unverified
      } catch (const StoreError& e) {
        spdlog::warn(
            "{}; left out (another slice's copy, or run --resume on the merged file, "
            "writes it)",
            e.what());
        continue;
      }
      Group out_teachers = root.require_group("teachers");
      copy_group(g, out_teachers, key);
      teachers_done.insert(key);
    }
  }
  // Probe jobs: each slice holds some batches of every model (or, rarely, a whole model).
  if (in_root.has("probe")) {
    Group in_probe = in_root.open_group("probe");
    Group out_probe = root.require_group("probe");
    for (const auto& model : in_probe.children()) {
      Group mg = in_probe.open_group(model);
      if (attr_or(mg, "status") == "complete") {
        if (!out_probe.has(model)) copy_group(mg, out_probe, model);
        continue;
      }
      if (!mg.has("batches")) continue;
      Group in_batches = mg.open_group("batches");
      Group out_model = out_probe.require_group(model);
      if (out_model.has_attr("status")) continue;  // another slice had it whole
      Group out_batches = out_model.require_group("batches");
      for (const auto& key : in_batches.children()) {
        Group g = in_batches.open_group(key);
        const std::string status = attr_or(g, "status");
        if (status != "complete" && status != "failed") {
          ++counts.skipped;
          continue;
        }
        if (out_batches.has(key))
          throw StoreError("batch " + key + " of " + model +
                           " is in more than one slice (again in " + source + ")");
        copy_group(g, out_batches, key);
        (status == "complete" ? counts.complete : counts.failed)++;
      }
    }
  }
}

}  // namespace

bool written_by_merge(const std::string& path) {
  try {
    return open_sweep(path).root().has_attr(kMergedFrom);
  } catch (const StoreError&) {
    return false;
  }
}

MergedCounts merge_sweeps(const std::vector<std::string>& sources, const SweepHeader& header,
                          const std::string& out) {
  MergedCounts counts;
  // Only a file an earlier merge wrote may be replaced: the slices can always rebuild it, while a
  // sweep run straight into `out` may hold results found nowhere else.
  std::error_code ec;
  if (fs::exists(out, ec) && !written_by_merge(out))
    throw StoreError("refusing to overwrite " + out +
                     ": it was not written by `depthscale merge` (remove it, or choose another "
                     "--out)");
  // Written aside (a name open_or_recover cleans up after a kill) and renamed into place, so
  // `out` is always either the previous merge or the complete new one.
  const std::string tmp = out + ".merge.tmp." + std::to_string(::getpid());
  auto cleanup = [&] {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fs::remove_all(tmp + ".ckpt", ignored);
  };
  try {
    SweepFile::create(tmp, header, true);
    File f = File::open(tmp, Mode::ReadWrite);
    {
      Group root = f.root();
      std::string from;
      std::set<std::string> teachers_done;
      for (const auto& source : sources) {
        copy_results(source, root, teachers_done, counts);
        from += (from.empty() ? "" : "\n") + fs::absolute(source).lexically_normal().string();
      }
      counts.teachers = int64_t(teachers_done.size());
      // Slices written by an older build lack the units and descriptions: the table supplies
      // them (a dataset it does not know is logged and copied as it was).
      describe_datasets(root, Undescribed::Warn);
      root.set_attr(kMergedFrom, from);
    }
    f.close();  // after every group is closed, so a failed close is reported here
    fsync_path(tmp);
  } catch (...) {
    cleanup();
    throw;
  }
  // The new sidecar holds only the header (no checkpoints: nothing partial is carried over); the
  // old one goes first so no stale checkpoint can be resumed into the merged sweep.
  const std::string sidecar = out + ".ckpt";
  fs::remove_all(sidecar, ec);
  if (ec) throw StoreError(sidecar + ": cannot remove (" + ec.message() + ")");
  fs::rename(tmp + ".ckpt", sidecar, ec);
  if (ec) throw StoreError(sidecar + ": cannot create (" + ec.message() + ")");
  fs::rename(tmp, out, ec);
  if (ec) throw StoreError(out + ": cannot rename into place (" + ec.message() + ")");
  fsync_parent(out);  // the renames are durable only once the folder is synced
  return counts;
}

}  // namespace depthscale::store
