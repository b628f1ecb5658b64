#include <mpi.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <variant>

#include "config/job.hpp"
#include "farm/probe_sweep.hpp"
#include "farm/farm.hpp"
#include "farm/mpi.hpp"
#include "farm/run.hpp"
#include "log/log.hpp"
#include "store/store.hpp"
#include "toy/unit.hpp"

namespace fs = std::filesystem;

namespace depthscale::farm {

using config::Job;
using config::ToyTask;
using farm::UnitTicket;
using toy::UnitSpec;

namespace {

// ---- the toy kind on the farm ----------------------------------------------------------------
// A unit's payload: its text ("id start_step\nkey\nkey...") then the checkpoint image of every
// task that resumes. A record is one tag byte (C: checkpoint, R: result) and an HDF5 file image.

std::vector<char> unit_text(const UnitSpec& u) {
  std::ostringstream s;
  s << u.id << ' ' << u.start_step << '\n';
  for (const auto& t : u.tasks) s << t.key << '\n';
  const std::string text = s.str();
  return std::vector<char>(text.begin(), text.end());
}

std::vector<char> tagged(char tag, std::vector<char> image) {
  image.insert(image.begin(), tag);
  return image;
}

// Rank 0: hands out units with their checkpoints, records checkpoints and results (the only
// writer of the sweep file), and fails the tasks of a unit whose runner threw.
class ToySource : public farm::UnitSource {
 public:
  ToySource(store::SweepFile& sweep, const std::vector<UnitSpec>& units, int rank_of_host)
      : sweep_(sweep) {
    for (const auto& u : units) units_[u.id] = u;
    (void)rank_of_host;
  }

  std::vector<char> payload(const UnitTicket& t) override {
    const UnitSpec& u = units_.at(int(t.id));
    std::vector<std::vector<char>> parts{unit_text(u)};
    if (u.start_step > 0)
      for (const auto& task : u.tasks)
        if (auto c = sweep_.load_checkpoint(task.key)) parts.push_back(store::to_image(*c));
    return farm::pack(parts);
  }

  void record(const UnitTicket& t, int, const std::vector<char>& bytes) override {
    if (bytes.empty()) throw std::runtime_error("toy: an empty record");
    const std::vector<char> image(bytes.begin() + 1, bytes.end());
    CriticalSection cs;
    if (bytes[0] == 'C') {
      sweep_.save_checkpoint(store::checkpoint_from_image(image));
      return;
    }
    const auto r = store::result_from_image(image);
    sweep_.record(r);
    recorded_[int(t.id)].insert(r.key);
    (r.complete ? completed_ : failed_)++;
    spdlog::info("task {} {} (rank {}, {:.1f} s){}", r.key, r.complete ? "complete" : "FAILED",
                 r.rank, r.wall_seconds, r.complete ? "" : ": " + r.error);
  }

  // A runner that threw (not one task: the unit as a whole) fails the tasks it had not reported.
  void ended(const UnitTicket& t, int worker, bool stopped, const std::string& error) override {
    if (error.empty()) return;
    const UnitSpec& u = units_.at(int(t.id));
    spdlog::error("{} failed as a whole: {}", u.describe(), error);
    for (const auto& task : u.tasks) {
      if (recorded_[int(t.id)].count(task.key)) continue;
      auto r = toy::task_result(task, toy::UnitContext{torch::kCPU, "", worker});
      r.error = error;
      record(t, worker, tagged('R', store::to_image(r)));
    }
  }

  int64_t completed() const { return completed_; }
  int64_t failed() const { return failed_; }

 private:
  store::SweepFile& sweep_;
  std::map<int, UnitSpec> units_;
  std::map<int, std::set<std::string>> recorded_;
  int64_t completed_ = 0, failed_ = 0;
};

// Every rank: trains the units it is given.
class ToyRunner : public farm::UnitRunner {
 public:
  ToyRunner(const Job& job, torch::Device device) : job_(job), device_(device) {
    for (const auto& t : config::expand(job)) by_key_[t.key] = t;
  }

  farm::UnitOutcome run(const std::vector<char>& payload, farm::WorkerSession& s) override {
    auto parts = farm::unpack(payload);
    UnitSpec u;
    {
      std::istringstream in(std::string(parts.at(0).begin(), parts.at(0).end()));
      in >> u.id >> u.start_step;
      for (std::string key; in >> key;) u.tasks.push_back(by_key_.at(key));
      u.rho = u.tasks.at(0).rho;
      u.teacher = u.tasks.at(0).teacher;
    }
    std::map<std::string, store::TaskCheckpoint> resume;
    for (size_t i = 1; i < parts.size(); ++i) {
      auto c = store::checkpoint_from_image(parts[i]);
      resume[c.key] = std::move(c);
    }
    const int64_t tasks = int64_t(u.tasks.size());
    toy::UnitEvents ev;
    ev.checkpoint = [&](const store::TaskCheckpoint& c) {
      s.record(tagged('C', store::to_image(c)));
    };
    ev.result = [&](const store::TaskResult& r) { s.record(tagged('R', store::to_image(r))); };
    ev.progress = [&](int64_t step) { s.progress(tasks * (step - u.start_step)); };
    ev.stop_requested = [&] { return s.stop_requested(); };
    spdlog::info("{} started", u.describe());
    const auto outcome =
        toy::run_unit(job_, u, resume, ev, toy::UnitContext{device_, host_, s.rank()});
    const bool stopped = outcome == toy::UnitOutcome::Stopped;
    spdlog::info("unit {} {}", u.id, stopped ? "stopped after checkpointing" : "finished");
    return stopped ? farm::UnitOutcome::Stopped : farm::UnitOutcome::Finished;
  }

 private:
  const Job& job_;
  torch::Device device_;
  std::string host_ = log::hostname();
  std::map<std::string, ToyTask> by_key_;
};


std::string default_out(const Job& job) {
  return "results/" + job.name + ".h5";
}

const char* state_name(store::TaskState s) {
  switch (s) {
    case store::TaskState::Complete:
      return "complete";
    case store::TaskState::Failed:
      return "failed";
    case store::TaskState::Partial:
      return "partial";
    default:
      return "pending";
  }
}

std::string human_hours(double core_seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f core-hours", core_seconds / 3600.0);
  return buf;
}

// The dry run's estimate: core-hours on this engine, the same tasks the original's way, and the
// memory of the largest work unit.
void print_cost(const Job& job, const std::vector<ToyTask>& todo,
                const std::vector<UnitSpec>& planned, double flops, const toy::CostModel& model,
                bool rate_given) {
  const double ours = flops / model.flops_per_core;
  const double original = toy::reference_core_seconds(job, todo);
  std::printf("estimated cost: %.3g FLOPs ≈ %s on the %s engine at %.0f GFLOP/s per core (%s)\n",
              flops, human_hours(ours).c_str(), config::to_string(job.run.engine),
              model.flops_per_core / 1e9,
              rate_given ? "--gflops-per-core"
                         : "measured by bench/run_toy_bench.sh; --gflops-per-core for yours");
  if (!todo.empty())
    std::printf(
        "the original's per-student loop (own teacher forward every step): ≈ %s, %.1fx more\n",
        human_hours(original).c_str(), original / std::max(ours, 1e-9));
  toy::UnitMemory largest;
  for (const auto& u : planned) {
    auto mem = toy::unit_memory(job, u);
    if (mem.total() > largest.total()) largest = mem;
  }
  if (!planned.empty())
    std::printf(
        "memory of the largest work unit: ≈ %.2f GB (student state %.2f GB, activations %.2f GB)"
        " per rank, plus about 0.2 GB for the process\n",
        largest.total() / 1e9, largest.student_state / 1e9, largest.activations / 1e9);
}

// Teacher probes (SPEC.md §1): θ, θ_Δh and norms of every teacher of the grid, written once.
void write_teacher_probes(const Job& job, const std::string& path) {
  if (job.probe_hidden.inputs <= 0) return;
  std::set<std::pair<double, int>> teachers;
  for (const auto& t : config::expand(job)) teachers.insert({t.rho, t.teacher});
  for (const auto& [rho, rep] : teachers) {
    ToyTask t;
    t.rho = rho;
    t.teacher = rep;
    const std::string key = t.teacher_key();
    {
      auto f = store::open_for_reading(path);
      auto root = f.root();
      if (root.has("teachers") && root.open_group("teachers").has(key) &&
          root.open_group("teachers").open_group(key).has_attr("status"))
        continue;
    }
    toy::Teacher teacher(job, rho, rep);
    auto p = toy::probe_hidden(teacher.hidden_states(toy::rms_norm(toy::probe_inputs(job, key))));
    CriticalSection cs;
    auto f = store::File::open(path, store::Mode::ReadWrite);
    auto teachers_group = f.root().require_group("teachers");
    if (teachers_group.has(key)) teachers_group.remove(key);
    auto g = teachers_group.create_group(key);
    g.set_attr("rho", rho);
    g.set_attr("teacher", int64_t(rep));
    g.set_attr("depth", int64_t(teacher.depth()));
    auto h = g.create_group("hidden");
    const auto N = hsize_t(p.inputs), L = hsize_t(p.depth);
    h.write("theta", p.theta, {N, L});
    h.write("theta_dh", p.theta_dh, {N, L - 1});
    h.write("norms", p.norms, {N, L + 1});
    g.set_attr("status", "complete");
    f.flush();
  }
}

}  // namespace

int run_sweep(const RunOptions& opt) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  if (rank == 0) {  // which library LibTorch's matmuls run on: the first thing to check when slow
    const std::string blas = toy::blas_library();
    const bool slow = blas.find("/blas/") != std::string::npos ||
                      blas.find("atlas") != std::string::npos ||
                      blas.find("f77blas") != std::string::npos;
    if (slow)
      spdlog::warn("BLAS: {} is slow for these shapes: see scripts/setup.sh", blas);
    else
      spdlog::info("BLAS: {}", blas.empty() ? "none (LibTorch's own kernels)" : blas);
  }

  // Every rank reads the job itself (same file, same overrides); only rank 0 reports problems.
  Job job;
  try {
    job = config::load_job(opt.job_path, opt.overrides);
    if (job.kind != config::JobKind::Toy) return run_probe_sweep(opt, job);
  } catch (const config::JobError& e) {
    if (rank == 0) spdlog::error("{}", e.what());
    return kUsage;
  }
  const std::string out = opt.out.empty() ? default_out(job) : opt.out;
  auto tasks = config::expand(job);
  if (job.run.slice_count > 1) {
    // Array shape: every n-th task of the grid, so each slice gets a similar mix of depths.
    std::vector<ToyTask> mine;
    for (size_t i = 0; i < tasks.size(); ++i)
      if (int(i % size_t(job.run.slice_count)) == job.run.slice_index) mine.push_back(tasks[i]);
    tasks = std::move(mine);
  }

  // Rank 0 prepares the sweep file and the plan; the others wait for its go.
  int go = kDone;
  std::optional<store::SweepFile> sweep;
  std::deque<UnitSpec> units;
  toy::CostModel model = toy::CostModel::of(job);
  if (opt.gflops_per_core > 0) model.flops_per_core = opt.gflops_per_core * 1e9;
  int64_t failed_before = 0;  // failed tasks left as they are (no --retry-failed)
  if (rank == 0) {
    try {
      std::map<std::string, store::TaskState> states;
      if (fs::exists(out)) {
        if (!opt.resume && !opt.dry_run) {
          spdlog::error("{} already exists: add --resume to continue that sweep, or --out NEW.h5",
                        out);
          go = kUsage;
        } else {
          sweep.emplace(store::SweepFile::open_or_recover(out));
          // The effective job (overrides included) is itself a valid job file.
          auto before = config::parse_job(sweep->header().effective, out + ":/job_effective");
          auto change = config::incompatible_change(before, job);
          if (!change.empty()) {
            spdlog::error(
                "{} was written by a different job: {} (start a new --out, or run the "
                "original job)",
                out, change);
            go = kUsage;
          } else {
            states = sweep->states();
          }
        }
      } else if (!opt.dry_run) {
        if (!fs::path(out).parent_path().empty())
          fs::create_directories(fs::path(out).parent_path());
        store::SweepHeader h;
        h.job_yaml = job.yaml_text;
        h.effective = job.effective;
        h.git_commit = DEPTHSCALE_GIT_COMMIT;
        h.version = DEPTHSCALE_VERSION;
        h.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                          std::to_string(TORCH_VERSION_MINOR) + "." +
                          std::to_string(TORCH_VERSION_PATCH);
        sweep.emplace(store::SweepFile::create(out, h, false));
      }
      if (go == kDone) {
        std::vector<ToyTask> todo;
        std::map<std::string, int64_t> resume_step;
        int64_t n_complete = 0, n_failed = 0, n_partial = 0;
        for (const auto& t : tasks) {
          auto it = states.find(t.key);
          auto st = it == states.end() ? store::TaskState::Pending : it->second;
          if (st == store::TaskState::Complete) {
            ++n_complete;
            continue;
          }
          if (st == store::TaskState::Failed && !opt.retry_failed) {
            ++n_failed;
            continue;
          }
          if (st == store::TaskState::Failed && !opt.dry_run) sweep->forget(t.key);
          if (st == store::TaskState::Partial && sweep) {
            if (auto s = sweep->checkpoint_step(t.key)) resume_step[t.key] = *s;
            ++n_partial;
          }
          todo.push_back(t);
        }
        failed_before = n_failed;
        auto planned = toy::plan_units(job, todo, resume_step, size);
        double flops = 0;
        for (const auto& u : planned) flops += u.cost;
        if (opt.dry_run) {
          std::printf("%-40s %12s %6s %6s %8s %10s\n", "task", "temperature", "rho", "depth",
                      "teacher", "state");
          for (const auto& t : tasks) {
            auto it = states.find(t.key);
            auto st = it == states.end() ? store::TaskState::Pending : it->second;
            std::printf("%-40s %12g %6g %6d %8d %10s\n", t.key.c_str(), t.temperature, t.rho,
                        t.depth, t.teacher, state_name(st));
          }
          std::printf(
              "\n%zu tasks: %lld complete, %lld failed%s, %lld partial, %zu to run in %zu "
              "work units on %d rank(s)\n",
              tasks.size(), (long long)n_complete, (long long)n_failed,
              opt.retry_failed ? " (to retry)" : "", (long long)n_partial, todo.size(),
              planned.size(), size);
          print_cost(job, todo, planned, flops, model, opt.gflops_per_core > 0);
          go = -1;  // done, nothing to run
        } else {
          spdlog::info(
              "{}: {} tasks ({} complete, {} failed, {} partial); {} to run in {} units "
              "on {} rank(s), ≈ {}; writing {}",
              job.name, tasks.size(), n_complete, n_failed, n_partial, todo.size(), planned.size(),
              size, human_hours(flops / model.flops_per_core), out);
          units.assign(planned.begin(), planned.end());
        }
      }
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      go = kError;
    }
  }
  MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (go == -1) return kDone;
  if (go != kDone) return go;

  int code = kDone;
  try {
    const torch::Device device =
        setup_compute(job.run.device == config::Device::Cuda, job.run.threads, "run.device");
    ToyRunner runner(job, device);
    farm::CoordinatorOptions o = coordinator_options(opt, "sweep " + job.name, "student-steps");
    // The cost model's rate until a unit has been measured (FLOPs per second of one worker).
    o.prior_rate = model.flops_per_core * torch::get_num_threads();
    if (rank == 0) {
      const std::vector<UnitSpec> planned(units.begin(), units.end());
      std::deque<UnitTicket> tickets;
      for (const auto& u : planned)
        tickets.push_back(UnitTicket{u.id, u.cost,
                                     int64_t(u.tasks.size()) * (job.train.steps - u.start_step),
                                     u.describe()});
      ToySource source(*sweep, planned, 0);
      const auto report = farm::run_over_mpi(std::move(tickets), &source, runner, o);
      code = report.interrupted()                            ? kStopped
             : source.failed() > 0 || failed_before > 0 ? kSomeFailed
                                                          : kDone;
      if (code != kStopped) write_teacher_probes(job, out);
      spdlog::info("{}: {} tasks completed and {} failed in this run; exit code {}", out,
                   source.completed(), source.failed(), code);
    } else {
      farm::run_over_mpi({}, nullptr, runner, o);
    }
  } catch (const std::exception& e) {
    // The sweep file is safe (every write is atomic or recoverable); the other ranks may be
    // blocked on this one, so take the whole job down rather than hang.
    spdlog::error("{}", e.what());
    MPI_Abort(MPI_COMM_WORLD, kError);
  }
  // Every rank leaves with rank 0's verdict (mpirun reports the first non-zero code).
  MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return code;
}

}  // namespace depthscale::farm
