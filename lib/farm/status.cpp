// `depthscale status FILE.h5`: what is complete, partial, failed and pending, per group, read
// without disturbing a run that is writing the file.
#include <spdlog/spdlog.h>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "config/job.hpp"
#include "farm/run.hpp"
#include "log/log.hpp"
#include "store/store.hpp"
#include "toy/unit.hpp"

namespace fs = std::filesystem;

namespace depthscale::farm {

namespace {
struct Counts {
  int complete = 0, partial = 0, failed = 0, pending = 0;
  int64_t min_step = -1;  // the least advanced partial task
  double seconds = 0, cost_done = 0, cost_left = 0;
};
}  // namespace

// Probe sweeps: per model, finished or how many batches are in the file (complete, failed)
// and how many more wait in the sidecar (finished by a worker, not yet copied in by rank 0).
std::string probe_status(const std::string& path, const store::Group& root, const config::Job& job) {
  std::string out;
  out += log::sprintf("%s: probe job %s\n", path.c_str(), job.name.c_str());
  out += log::sprintf("%-24s %10s %10s %8s %9s %12s %12s\n", "model", "state", "complete", "failed",
              "sidecar", "documents", "tokens");
  if (!root.has("probe")) {
    out += log::sprintf("(no model started yet)\n");
    return out;
  }
  auto probe = root.open_group("probe");
  for (const auto& name : probe.children()) {
    auto mg = probe.open_group(name);
    if (mg.has_attr("status") && mg.attr_string("status") == "complete") {
      const auto batches = mg.attr_int("batches");
      out += log::sprintf("%-24s %10s %10lld %8d %9d %12lld %12lld\n", name.c_str(), "complete",
                  (long long)batches, 0, 0, (long long)mg.attr_int("documents"),
                  (long long)mg.attr_int("tokens"));
      continue;
    }
    int complete = 0, failed = 0, sidecar = 0;
    std::set<std::string> in_file;
    if (mg.has("batches")) {
      auto bg = mg.open_group("batches");
      for (const auto& key : bg.children()) {
        auto g = bg.open_group(key);
        if (!g.has_attr("status")) continue;  // being written
        in_file.insert(key);
        (g.attr_string("status") == "complete" ? complete : failed)++;
      }
    }
    const fs::path side = fs::path(path + ".ckpt") / "probe" / name;
    std::error_code ec;
    if (fs::is_directory(side, ec))
      for (const auto& e : fs::directory_iterator(side, ec))
        if (e.path().extension() == ".h5" && !in_file.count(e.path().stem().string())) ++sidecar;
    out += log::sprintf("%-24s %10s %10d %8d %9d %12s %12s\n", name.c_str(), "running", complete, failed,
                sidecar, "", "");
  }
  return out;
}

std::string status_report(const std::string& path) {
  std::string out;
  {
    config::Job job;
    std::map<std::string, std::string> status;  // key → complete | failed
    std::map<std::string, double> wall;
    {
      auto f = store::open_sweep(path);
      auto root = f.root();
      // The effective job (overrides included) says which tasks the sweep has.
      job = config::parse_job(root.attr_string("job_effective"), path + ":/job_effective");
      if (job.kind == config::JobKind::Probe) return probe_status(path, root, job);
      if (root.has("tasks")) {
        auto tasks = root.open_group("tasks");
        for (const auto& key : tasks.children()) {
          auto g = tasks.open_group(key);
          if (!g.has_attr("status")) continue;  // still being written: not a result
          status[key] = g.attr_string("status");
          if (g.has_attr("wall_seconds")) wall[key] = g.attr_double("wall_seconds");
        }
      }
    }
    // Partial tasks: the step of their checkpoint in the sidecar folder.
    std::map<std::string, int64_t> partial;
    const fs::path ck = fs::path(path + ".ckpt") / "tasks";
    if (fs::is_directory(ck)) {
      for (const auto& e : fs::directory_iterator(ck)) {
        if (e.path().extension() != ".h5") continue;
        try {
          auto f = store::File::open(e.path().string(), store::Mode::ReadOnly);
          partial[e.path().stem().string()] = f.root().attr_int("step");
        } catch (const std::exception&) {
          // a checkpoint being replaced right now: count it next time
        }
      }
    }
    std::map<std::string, Counts> groups;
    Counts total;
    for (const auto& t : config::expand(job)) {
      auto& g = groups[t.group()];
      const double cost = toy::student_cost(job, t, 0);
      auto it = status.find(t.key);
      if (it != status.end() && it->second == "complete") {
        ++g.complete;
        g.seconds += wall[t.key];
        g.cost_done += cost;
      } else if (it != status.end()) {
        ++g.failed;
      } else if (partial.count(t.key)) {
        ++g.partial;
        const int64_t s = partial[t.key];
        g.min_step = g.min_step < 0 ? s : std::min(g.min_step, s);
        g.cost_left += toy::student_cost(job, t, s);
      } else {
        ++g.pending;
        g.cost_left += cost;
      }
    }
    out += log::sprintf("%s: job %s, %lld steps per task\n", path.c_str(), job.name.c_str(),
                (long long)job.train.steps);
    out += log::sprintf("%-34s %9s %9s %7s %8s %12s\n", "group", "complete", "partial", "failed", "pending",
                "partial at");
    for (const auto& [name, g] : groups) {
      out += log::sprintf("%-34s %9d %9d %7d %8d %12s\n", name.c_str(), g.complete, g.partial, g.failed,
                  g.pending, g.min_step >= 0 ? ("step " + std::to_string(g.min_step)).c_str() : "");
      total.complete += g.complete;
      total.partial += g.partial;
      total.failed += g.failed;
      total.pending += g.pending;
      total.seconds += g.seconds;
      total.cost_done += g.cost_done;
      total.cost_left += g.cost_left;
    }
    out += log::sprintf("%-34s %9d %9d %7d %8d\n", "total", total.complete, total.partial, total.failed,
                total.pending);
    if (total.cost_done > 0 && total.cost_left > 0) {
      const double core_seconds = total.cost_left * total.seconds / total.cost_done;
      out += log::sprintf("remaining: about %.2f core-hours at the rate of the finished tasks\n",
                  core_seconds / 3600.0);
    }
  }
  return out;
}

}  // namespace depthscale::farm
