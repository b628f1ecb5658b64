#include "farm/merge.hpp"

#include <spdlog/spdlog.h>

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

struct Slice {
  std::string path;
  store::SweepHeader header;
  config::Job job;  // run.slice reset to 0/1: the job the whole array computes
  int index = 0, count = 1;
};

Slice read_slice(const std::string& path) {
  Slice s;
  s.path = path;
  s.header = store::read_header(store::open_sweep(path));
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
  if (std::error_code ec; fs::exists(opt.out, ec) && !opt.overwrite)
    throw store::StoreError("refusing to overwrite " + opt.out +
                            ": it exists (an earlier merge, perhaps with reduce's /fits added): "
                            "add --overwrite to replace it, or choose another --out");

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

  store::SweepHeader header = first.header;
  header.effective = first.job.effective;
  std::vector<std::string> sources;
  for (const auto& s : slices) sources.push_back(s.path);
  const auto counts = store::merge_sweeps(sources, header, opt.out);
  report.complete = counts.complete;
  report.failed = counts.failed;
  report.skipped = counts.skipped;
  report.teachers = counts.teachers;
  // A probe model is whole once every batch is in: finalise those as `run --resume` would.
  if (first.job.kind == config::JobKind::Probe)
    report.models = finalize_probe_file(first.job, opt.out);
  return report;
}

}  // namespace depthscale::farm
