// Test helpers shared by the toy tests: a job from YAML plus --set lines, and a work unit run
// with its events collected.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "toy/unit.hpp"

namespace depthscale::toy::testing {

// `extra`: one --set override per line ("train.steps=10\nmodel.block=rk2").
inline config::Job job_from(const std::string& yaml, const std::string& extra,
                            const std::string& name = "<test>") {
  std::vector<std::string> overrides;
  std::istringstream in(extra);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) overrides.push_back(line);
  return config::parse_job(yaml, name, overrides);
}

struct Collected {
  std::map<std::string, TaskResult> results;
  std::map<std::string, TaskCheckpoint> checkpoints;
};

// Runs the unit; with stop_at ≥ 0, a stop is requested once that step is done.
inline UnitOutcome run(const config::Job& job, const UnitSpec& unit, Collected& out,
                       const std::map<std::string, TaskCheckpoint>& resume = {},
                       int64_t stop_at = -1, torch::Device device = torch::kCPU,
                       const std::string& fail_task = "") {
  UnitEvents ev;
  int64_t step = unit.start_step;
  ev.result = [&](const TaskResult& r) { out.results[r.key] = r; };
  ev.checkpoint = [&](const TaskCheckpoint& c) { out.checkpoints[c.key] = c; };
  ev.progress = [&](int64_t s) { step = s; };
  ev.stop_requested = [&] { return stop_at >= 0 && step >= stop_at; };
  UnitContext ctx;
  ctx.device = device;
  ctx.fail_task = fail_task;
  return run_unit(job, unit, resume, ev, ctx);
}

inline UnitSpec unit_of(const config::Job&, std::vector<config::ToyTask> tasks) {
  UnitSpec u;
  u.tasks = std::move(tasks);
  return u;
}

}  // namespace depthscale::toy::testing
