// `depthscale status FILE.h5`: what is complete, partial, failed and pending, per group, read
// without disturbing a run that is writing the file.
#include <spdlog/spdlog.h>
#include <cstdio>
#include <filesystem>
#include <map>

#include "config/job.hpp"
#include "dist/run.hpp"
#include "store/store.hpp"
#include "toy/unit.hpp"

namespace fs = std::filesystem;

namespace depthscale::dist {

namespace {
struct Counts {
  int complete = 0, partial = 0, failed = 0, pending = 0;
  int64_t min_step = -1;  // the least advanced partial task
  double seconds = 0, cost_done = 0, cost_left = 0;
};
}  // namespace

int print_status(const std::string& path) {
  try {
    config::Job job;
    std::map<std::string, std::string> status;  // key → complete | failed
    std::map<std::string, double> wall;
    {
      auto f = store::open_for_reading(path);
      auto root = f.root();
      if (!root.has_attr("format") || root.attr_string("format") != "depthscale-sweep") {
        spdlog::error("{} is not a depthscale sweep file (no format=depthscale-sweep)", path);
        return kError;
      }
      // The effective job (overrides included) says which tasks the sweep has.
      job = config::parse_job(root.attr_string("job_effective"), path + ":/job_effective");
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
    std::printf("%s: job %s, %lld steps per task\n", path.c_str(), job.name.c_str(),
                (long long)job.train.steps);
    std::printf("%-34s %9s %9s %7s %8s %12s\n", "group", "complete", "partial", "failed", "pending",
                "partial at");
    for (const auto& [name, g] : groups) {
      std::printf("%-34s %9d %9d %7d %8d %12s\n", name.c_str(), g.complete, g.partial, g.failed,
                  g.pending, g.min_step >= 0 ? ("step " + std::to_string(g.min_step)).c_str() : "");
      total.complete += g.complete;
      total.partial += g.partial;
      total.failed += g.failed;
      total.pending += g.pending;
      total.seconds += g.seconds;
      total.cost_done += g.cost_done;
      total.cost_left += g.cost_left;
    }
    std::printf("%-34s %9d %9d %7d %8d\n", "total", total.complete, total.partial, total.failed,
                total.pending);
    if (total.cost_done > 0 && total.cost_left > 0) {
      const double core_seconds = total.cost_left * total.seconds / total.cost_done;
      std::printf("remaining: about %.2f core-hours at the rate of the finished tasks\n",
                  core_seconds / 3600.0);
    }
    return kDone;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kError;
  }
}

}  // namespace depthscale::dist
