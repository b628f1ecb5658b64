#include "farm/merge.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "config/job.hpp"
#include "farm/probe_sweep.hpp"
#include "farm/run.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;

namespace depthscale::farm {

namespace {

constexpr const char* kMergedFrom = "merged_from";

struct Slice {
  std::string path;
  store::SweepHeader header;
  config::Job job;  // run.slice reset to 0/1: the job the whole array computes
  int index = 0, count = 1;
};

std::string attr_or(const store::Group& g, const char* name) {
  return g.has_attr(name) ? g.attr_string(name) : std::string();
}

Slice read_slice(const std::string& path) {
  Slice s;
  s.path = path;
  store::File f = store::open_sweep(path);
  store::Group root = f.root();
  s.header.job_yaml = attr_or(root, "job_yaml");
  s.header.effective = attr_or(root, "job_effective");
  s.header.git_commit = attr_or(root, "git_commit");
  s.header.version = attr_or(root, "depthscale_version");
  s.header.torch_version = attr_or(root, "torch_version");
  const std::string label = path + ":/job_effective";
  const config::Job as_run = config::parse_job(s.header.effective, label);
  s.index = as_run.run.slice_index;
  s.count = as_run.run.slice_count;
  s.job = config::parse_job(s.header.effective, label, {"run.slice=0/1"});
  return s;
}

// Names the first result-relevant key on which two slices' jobs differ ("" when none does).
std::string job_difference(const Slice& a, const Slice& b) {
  if (a.job.effective == b.job.effective) return "";
  // incompatible_change lets a grid grow; asking both ways turns that into a difference too.
  std::string d = config::incompatible_change(a.job, b.job);
  if (d.empty()) d = config::incompatible_change(b.job, a.job);
  return d;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

}  // namespace

MergeReport merge_slices(const MergeOptions& opt) {
  if (opt.inputs.empty()) throw store::StoreError("merge: no slice files given");
  if (opt.out.empty()) throw store::StoreError("merge: --out is required");

  std::vector<Slice> slices;
  for (const auto& in : opt.inputs) {
    if (same_file(in, opt.out)) throw store::StoreError(in + " is both an input and --out");
    slices.push_back(read_slice(in));
  }
  const Slice& first = slices.front();
  std::map<int, std::string> by_index;
  for (const auto& s : slices) {
    if (const std::string d = job_difference(first, s); !d.empty())
      throw config::JobError("refusing to merge: " + s.path + " is not a slice of the job in " +
                             first.path + " (" + d + ")");
    if (s.count != first.count)
      throw config::JobError("refusing to merge: run.slice: " + first.path + " is slice " +
                             std::to_string(first.index) + "/" + std::to_string(first.count) +
                             " but " + s.path + " is slice " + std::to_string(s.index) + "/" +
                             std::to_string(s.count));
    auto [it, fresh] = by_index.emplace(s.index, s.path);
    if (!fresh)
      throw config::JobError("refusing to merge: run.slice: " + it->second + " and " + s.path +
                             " are both slice " + std::to_string(s.index) + "/" +
                             std::to_string(s.count));
  }

  MergeReport report;
  report.probe = first.job.kind == config::JobKind::Probe;
  report.slices = int(slices.size());
  report.slice_count = first.count;
  for (int i = 0; i < first.count; ++i)
    if (!by_index.count(i)) report.missing.push_back(i);

  // Only a file an earlier merge wrote may be replaced: the slices can always rebuild it, while a
  // sweep run straight into `out` may hold results found nowhere else.
  std::error_code ec;
  if (fs::exists(opt.out, ec)) {
    bool merged = false;
    try {
      store::File f = store::open_sweep(opt.out);
      merged = f.root().has_attr(kMergedFrom);
    } catch (const store::StoreError&) {
    }
    if (!merged)
      throw store::StoreError("refusing to overwrite " + opt.out +
                              ": it was not written by `depthscale merge` (remove it, or choose "
                              "another --out)");
  }

  store::SweepHeader header = first.header;
  header.effective = first.job.effective;
  // Written aside (a name open_or_recover cleans up after a kill) and renamed into place, so
  // `out` is always either the previous merge or the complete new one.
  const std::string tmp = opt.out + ".merge.tmp." + std::to_string(::getpid());
  auto cleanup = [&] {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fs::remove_all(tmp + ".ckpt", ignored);
  };
  try {
    store::SweepFile::create(tmp, header, true);
    store::File f = store::File::open(tmp, store::Mode::ReadWrite);
    {
      store::Group root = f.root();
      std::string from;
      store::Group tasks = root.require_group("tasks");
      std::set<std::string> teachers_done;
      for (const auto& s : slices) {
        store::File in = store::open_sweep(s.path);
        store::Group in_root = in.root();
        if (in_root.has("tasks")) {
          store::Group in_tasks = in_root.open_group("tasks");
          for (const auto& key : in_tasks.children()) {
            store::Group g = in_tasks.open_group(key);
            // A group without status is a write a kill interrupted: not a result.
            const std::string status = attr_or(g, "status");
            if (status != "complete" && status != "failed") {
              spdlog::warn("{}: /tasks/{} has no status: not a result, skipped", s.path, key);
              ++report.skipped;
              continue;
            }
            if (tasks.has(key))
              throw store::StoreError("task " + key + " is in more than one slice (again in " +
                                      s.path + ")");
            store::copy_group(g, tasks, key);
            (status == "complete" ? report.complete : report.failed)++;
          }
        }
        // Slices share teachers; their probes are deterministic, so the first copy serves.
        if (in_root.has("teachers")) {
          store::Group in_teachers = in_root.open_group("teachers");
          for (const auto& key : in_teachers.children()) {
            store::Group g = in_teachers.open_group(key);
            if (teachers_done.count(key) || !g.has_attr("status")) continue;
            store::Group out_teachers = root.require_group("teachers");
            store::copy_group(g, out_teachers, key);
            teachers_done.insert(key);
          }
        }
        // Probe jobs: each slice holds some batches of every model (or, rarely, a whole model).
        if (in_root.has("probe")) {
          store::Group in_probe = in_root.open_group("probe");
          store::Group out_probe = root.require_group("probe");
          for (const auto& model : in_probe.children()) {
            store::Group mg = in_probe.open_group(model);
            if (attr_or(mg, "status") == "complete") {
              if (!out_probe.has(model)) store::copy_group(mg, out_probe, model);
              continue;
            }
            if (!mg.has("batches")) continue;
            store::Group in_batches = mg.open_group("batches");
            store::Group out_model = out_probe.require_group(model);
            if (out_model.has_attr("status")) continue;  // another slice had it whole
            store::Group out_batches = out_model.require_group("batches");
            for (const auto& key : in_batches.children()) {
              store::Group g = in_batches.open_group(key);
              const std::string status = attr_or(g, "status");
              if (status != "complete" && status != "failed") {
                ++report.skipped;
                continue;
              }
              if (out_batches.has(key))
                throw store::StoreError("batch " + key + " of " + model +
                                        " is in more than one slice (again in " + s.path + ")");
              store::copy_group(g, out_batches, key);
              (status == "complete" ? report.complete : report.failed)++;
            }
          }
        }
        from += (from.empty() ? "" : "\n") + fs::absolute(s.path).lexically_normal().string();
      }
      report.teachers = int64_t(teachers_done.size());
      root.set_attr(kMergedFrom, from);
    }
    f.close();  // after every group is closed, so a failed close is reported here
    store::fsync_path(tmp);
  } catch (...) {
    cleanup();
    throw;
  }
  // The new sidecar holds only the header (no checkpoints: nothing partial is carried over); the
  // old one goes first so no stale checkpoint can be resumed into the merged sweep.
  const std::string sidecar = opt.out + ".ckpt";
  fs::remove_all(sidecar, ec);
  if (ec) throw store::StoreError(sidecar + ": cannot remove (" + ec.message() + ")");
  fs::rename(tmp + ".ckpt", sidecar, ec);
  if (ec) throw store::StoreError(sidecar + ": cannot create (" + ec.message() + ")");
  fs::rename(tmp, opt.out, ec);
  if (ec) throw store::StoreError(opt.out + ": cannot rename into place (" + ec.message() + ")");
  store::fsync_parent(opt.out);  // the renames are durable only once the folder is synced
  // A probe model is whole once every batch is in: finalise those as `run --resume` would.
  if (first.job.kind == config::JobKind::Probe)
    report.models = finalize_probe_file(first.job, opt.out);
  return report;
}

}  // namespace depthscale::farm
