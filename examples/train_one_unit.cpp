// Train one work unit of the toy study (three students of one teacher) in this process, print
// each student's test loss, and keep the results in a sweep file that `depthscale status`,
// `reduce`, `plot` and the read_sweep example understand.
//
//   build/examples/train_one_unit [OUT.h5]     (default: example-unit.h5)
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "config/job.hpp"
#include "store/store.hpp"
#include "toy/unit.hpp"

using namespace depthscale;

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : "example-unit.h5";
  // A job file in a string: a 16-layer teacher, students of depth 1, 2 and 4, 300 steps.
  const config::Job job = config::parse_job(R"(name: example-unit
kind: toy
seed: 7
grid: {temperature: [1.0], rho: [0.0], depth: [1, 2, 4], teacher: [0]}
model: {width: 16, vocab: 32, teacher_depth: 16}
train: {steps: 300, batch: 128, lr: {base: 2.0e-3}, eval: {every: 100, batches: 2}}
probe_hidden: {inputs: 0}
)",
                                            "<example>");

  // One unit holds every student of the grid here; a sweep splits them over the ranks.
  const auto units = toy::plan_units(job, config::expand(job), {}, /*workers=*/1);
  std::vector<toy::TaskResult> results;
  toy::UnitEvents events;
  events.result = [&](const toy::TaskResult& r) { results.push_back(r); };
  events.checkpoint = [](const toy::TaskCheckpoint&) {};  // nothing to resume here
  events.progress = [](int64_t) {};
  events.stop_requested = [] { return false; };
  toy::UnitContext where;  // the CPU, this process
  where.host = "example";
  for (const auto& unit : units) toy::run_unit(job, unit, {}, events, where);

  std::filesystem::remove(out);
  std::filesystem::remove_all(out + ".ckpt");
  store::SweepHeader header;
  header.job_yaml = job.yaml_text;
  header.effective = job.effective;
  auto sweep = store::SweepFile::create(out, header, false);
  bool ok = results.size() == 3;
  for (const auto& r : results) {
    sweep.record(r);
    const float first = r.test_loss.front(), last = r.test_loss.back();
    std::printf("%-16s depth %g: test loss %.4f at step %lld (%.4f at step %lld)\n", r.key.c_str(),
                r.params.at("depth"), last, (long long)r.eval_step.back(), first,
                (long long)r.eval_step.front());
    ok &= r.complete && std::isfinite(last) && last < first;  // it learned something
  }
  std::printf("wrote %s\n", out.c_str());
  return ok ? 0 : 1;
}
