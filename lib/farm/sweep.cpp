// The toy kind on the farm (docs/experiments.md §1): a (ρ, teacher) grid of students trained in
// work units that share a teacher; results and checkpoints come back as HDF5 file images and rank 0
// records them; the teachers' hidden-state probes are written once at the end.
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "config/job.hpp"
#include "farm/farm.hpp"
#include "farm/kinds.hpp"
#include "farm/mpi.hpp"
#include "farm/run.hpp"
#include "log/log.hpp"
#include "store/store.hpp"
#include "toy/unit.hpp"

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
  ToySource(const Job& job, store::SweepFile& sweep, const std::vector<UnitSpec>& units)
      : job_(job), sweep_(sweep) {
    for (const auto& u : units) units_[u.id] = u;
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
    if (bytes[0] == 'C') {
      CriticalSection cs;
      sweep_.save_checkpoint(store::checkpoint_from_image(image));
      return;
    }
    record_result(int(t.id), store::result_from_image(image));
  }

  // A runner that threw (not one task: the unit as a whole) fails the tasks it had not reported.
  void ended(const UnitTicket& t, int worker, bool stopped, const std::string& error) override {
    if (error.empty()) return;
    const UnitSpec& u = units_.at(int(t.id));
    spdlog::error("{} failed as a whole: {}", u.describe(), error);
    toy::UnitContext where;  // the worker's rank; its host is not known here
    where.rank = worker;
    for (const auto& task : u.tasks) {
      if (recorded_[int(t.id)].count(task.key)) continue;
      auto r = toy::task_result(job_, task, where);
      r.error = error;
      record_result(int(t.id), r);
    }
  }

  int64_t completed() const { return completed_; }
  int64_t failed() const { return failed_; }

 private:
  void record_result(int unit, const toy::TaskResult& r) {
    {
      CriticalSection cs;
      sweep_.record(r);
    }
    recorded_[unit].insert(r.key);
    (r.complete ? completed_ : failed_)++;
    spdlog::info("task {} {} (rank {}, {:.1f} s){}", r.key, r.complete ? "complete" : "FAILED",
                 r.rank, r.wall_seconds, r.complete ? "" : ": " + r.error);
  }

  const Job& job_;
  store::SweepFile& sweep_;
  std::map<int, UnitSpec> units_;
  std::map<int, std::set<std::string>> recorded_;
  int64_t completed_ = 0, failed_ = 0;
};

// Every rank: trains the units it is given.
class ToyRunner : public farm::UnitRunner {
 public:
  ToyRunner(const Job& job, torch::Device device, std::string fail_task)
      : job_(job), device_(device), fail_task_(std::move(fail_task)) {
    for (const auto& t : config::expand(job)) by_key_[t.key] = t;
  }

  farm::UnitOutcome run(const std::vector<char>& payload, farm::WorkerSession& s) override {
    auto parts = farm::unpack(payload);
    UnitSpec u;
    {
      std::istringstream in(std::string(parts.at(0).begin(), parts.at(0).end()));
      in >> u.id >> u.start_step;
      for (std::string key; in >> key;) u.tasks.push_back(by_key_.at(key));
    }
    std::map<std::string, toy::TaskCheckpoint> resume;
    for (size_t i = 1; i < parts.size(); ++i) {
      auto c = store::checkpoint_from_image(parts[i]);
      resume[c.key] = std::move(c);
    }
    const int64_t tasks = int64_t(u.tasks.size());
    toy::UnitEvents ev;
    ev.checkpoint = [&](const toy::TaskCheckpoint& c) {
      s.record(tagged('C', store::to_image(c)));
    };
    ev.result = [&](const toy::TaskResult& r) { s.record(tagged('R', store::to_image(r))); };
    ev.progress = [&](int64_t step) { s.progress(tasks * (step - u.start_step)); };
    ev.stop_requested = [&] { return s.stop_requested(); };
    spdlog::info("{} started", u.describe());
    const auto outcome =
        toy::run_unit(job_, u, resume, ev, toy::UnitContext{device_, host_, s.rank(), fail_task_});
    const bool stopped = outcome == toy::UnitOutcome::Stopped;
    spdlog::info("unit {} {}", u.id, stopped ? "stopped after checkpointing" : "finished");
    return stopped ? farm::UnitOutcome::Stopped : farm::UnitOutcome::Finished;
  }

 private:
  const Job& job_;
  torch::Device device_;
  std::string fail_task_;
  std::string host_ = log::hostname();
  std::map<std::string, ToyTask> by_key_;
};

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

// The wall time of the planned units on `ranks` ranks of `threads` threads each: the units go
// largest first to the least loaded rank (as the coordinator hands them out), and a unit uses at
// most one thread per student (the fused engine's lanes).
double wall_seconds(const std::vector<UnitSpec>& planned, int ranks, int threads,
                    double flops_per_core) {
  std::vector<double> load(size_t(std::max(ranks, 1)), 0.0);
  for (const auto& u : planned) {
    const double lanes = std::min<double>(threads, std::max<size_t>(u.tasks.size(), 1));
    *std::min_element(load.begin(), load.end()) += u.cost / (flops_per_core * lanes);
  }
  return *std::max_element(load.begin(), load.end());
}

// What one worker holds for the largest planned unit: the unit (toy::unit_memory: every student's
// parameters, gradients, Adam moments and losses, the saved activations) and its teacher's fp32
// weights, plus the process itself. The dry run reports it and a real run checks it against the
// machine's memory (one estimate for both).
struct WorkerMemory {
  toy::UnitMemory unit;
  double teacher = 0;
  size_t students = 0;
  int widest = 0, deepest = 0;  // of the unit's students
  static constexpr double kProcess = 0.2e9;
  double total() const { return unit.total() + teacher + kProcess; }
};

WorkerMemory worker_memory(const Job& job, const std::vector<UnitSpec>& planned) {
  WorkerMemory largest;
  for (const auto& u : planned) {
    WorkerMemory m;
    m.unit = toy::unit_memory(job, u);
    m.students = u.tasks.size();
    for (const auto& t : u.tasks) {
      m.widest = std::max(m.widest, t.width);
      m.deepest = std::max(m.deepest, t.depth);
    }
    if (!u.tasks.empty()) {
      const double ms = job.model.teacher_width, ls = u.tasks.front().teacher_depth;
      m.teacher = 4.0 * (ls * (8 * ms * ms + 8 * ms) + double(job.model.vocab) * ms);
    }
    if (m.total() > largest.total()) largest = m;
  }
  return largest;
}

// This machine's memory in bytes (0 when unknown).
double machine_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? double(pages) * double(page) : 0.0;
}

// "" when a worker's estimate fits this machine's memory, else why not. On cuda the GPU's memory
// decides and is not checked here.
std::string memory_refusal(const Job& job, const WorkerMemory& m) {
  const double have = machine_memory();
  if (job.run.device != config::Device::Cpu || have <= 0 || m.total() <= have) return "";
  return log::sprintf(
      "one worker needs ≈ %.1f GB for its largest work unit (%zu student(s) of width up to %d and "
      "depth up to %d, batch %d, %lld steps; teacher %.1f GB) but this machine has %.1f GB: "
      "lower train.batch, model.width, the depths, or run.unit_size (docs/job-file.md, \"Caps\")",
      m.total() / 1e9, m.students, m.widest, m.deepest, job.train.batch, (long long)job.train.steps,
      m.teacher / 1e9, have / 1e9);
}

// The dry run's estimate: core-hours on this engine, the wall time on these ranks, the same
// tasks the original's way, and the memory of the largest work unit.
std::string cost_report(const Job& job, const std::vector<ToyTask>& todo,
                        const std::vector<UnitSpec>& planned, double flops,
                        const toy::CostModel& model, bool rate_given, int ranks) {
  const double ours = flops / model.flops_per_core;
  const double original = toy::reference_core_seconds(job, todo, model);
  std::string s = log::sprintf(
      "estimated cost: %.3g FLOPs ≈ %s on the %s engine at %.0f GFLOP/s per core (%s)\n", flops,
      human_hours(ours).c_str(), config::to_string(job.run.engine), model.flops_per_core / 1e9,
      rate_given
          ? "--gflops-per-core"
          : (model.basis + " by bench/run_toy_bench.sh; --gflops-per-core for yours").c_str());
  if (!planned.empty()) {
    const int threads = threads_per_rank(job.run.threads, ranks);
    s += log::sprintf(
        "wall time on %d rank(s) of %d thread(s) here: ≈ %s (largest units first; --dry-run -n N "
        "for another N)\n",
        ranks, threads,
        log::Progress::human_seconds(wall_seconds(planned, ranks, threads, model.flops_per_core))
            .c_str());
  }
  if (!todo.empty())
    s += log::sprintf(
        "the original's per-student loop (own teacher forward every step): ≈ %s, %.1fx more\n",
        human_hours(original).c_str(), original / std::max(ours, 1e-9));
  if (!planned.empty()) {
    const WorkerMemory m = worker_memory(job, planned);
    s += log::sprintf(
        "memory of the largest work unit: ≈ %.2f GB (student state %.2f GB, activations %.2f GB, "
        "teacher %.2f GB) per rank, plus about 0.2 GB for the process\n",
        m.unit.total() / 1e9, m.unit.student_state / 1e9, m.unit.activations / 1e9,
        m.teacher / 1e9);
    const std::string refusal = memory_refusal(job, m);
    if (!refusal.empty()) s += "warning: a run would be refused: " + refusal + "\n";
  }
  return s;
}

// Teacher probes (docs/experiments.md §1): θ, θ_Δh and norms of every teacher of the grid, written
// once.
void write_teacher_probes(const Job& job, const std::string& path) {
  if (job.probe_hidden.inputs <= 0) return;
  std::map<std::string, ToyTask> teachers;  // one task of each teacher, by its key
  for (const auto& t : config::expand(job)) teachers.emplace(t.teacher_key(), t);
  for (const auto& [key, t] : teachers) {
    if (store::has_teacher(path, key)) continue;
    toy::Teacher teacher(job, t);
    auto p = toy::probe_hidden(teacher.hidden_states(toy::rms_norm(toy::probe_inputs(job, key))));
    store::TeacherProbes probes;
    const toy::TaskSeeds seeds = toy::task_seeds(job, t);
    probes.seed = seeds.seed;
    probes.teacher_stream = seeds.teacher_stream;
    probes.probe_stream = seeds.probe_stream;
    probes.rho = t.rho;
    probes.teacher = t.teacher;
    probes.teacher_groups = t.teacher_groups;
    probes.depth = teacher.depth();
    probes.inputs = p.inputs;
    probes.theta = std::move(p.theta);
    probes.theta_dh = std::move(p.theta_dh);
    probes.norms = std::move(p.norms);
    CriticalSection cs;
    store::write_teacher(path, key, probes);
  }
}

// The toy kind: students of a (ρ, teacher) grid trained in work units.
class ToySweep : public farm::SweepKind {
 public:
  ToySweep(const Job& job, std::string out, const RunOptions& opt)
      : job_(job), out_(std::move(out)), model_(toy::CostModel::of(job)) {
    if (opt.gflops_per_core > 0) model_.flops_per_core = opt.gflops_per_core * 1e9;
    rate_given_ = opt.gflops_per_core > 0;
    fail_task_ = opt.fail_task;
    tasks_ = config::expand(job);
    if (job.run.slice_count > 1) {
      // Array shape: every n-th task of the grid, so each slice gets a similar mix of depths.
      std::vector<ToyTask> mine;
      for (size_t i = 0; i < tasks_.size(); ++i)
        if (int(i % size_t(job.run.slice_count)) == job.run.slice_index) mine.push_back(tasks_[i]);
      tasks_ = std::move(mine);
    }
  }

  void plan(store::SweepFile* file, const RunOptions& opt, int ranks) override {
    file_ = file;
    retry_failed_ = opt.retry_failed;
    if (file) states_ = file->states();
    stop_point();
    std::map<std::string, int64_t> resume_step;
    size_t seen = 0;
    for (const auto& t : tasks_) {
      if (++seen % 1024 == 0) stop_point();  // a signal stops planning promptly
      const auto st = state(t.key);
      if (st == store::TaskState::Complete) {
        ++n_complete_;
        continue;
      }
      if (st == store::TaskState::Failed && !opt.retry_failed) {
        ++n_failed_;
        continue;
      }
      if (st == store::TaskState::Failed && !opt.dry_run) file->forget(t.key);
      if (st == store::TaskState::Partial && file) {
        if (auto s = file->checkpoint_step(t.key)) resume_step[t.key] = *s;
        ++n_partial_;
      }
      todo_.push_back(t);
    }
    stop_point();
    planned_ = toy::plan_units(job_, todo_, resume_step, ranks);
    for (const auto& u : planned_) flops_ += u.cost;
    stop_point();
    // Refused before LibTorch allocates it (a dry run reports it as a warning instead).
    if (!opt.dry_run && !planned_.empty())
      if (const std::string why = memory_refusal(job_, worker_memory(job_, planned_)); !why.empty())
        throw InputError(job_.source_path + ": " + why);
  }

  std::string dry_run_report(int ranks) const override {
    std::string s = log::sprintf("%-40s %12s %6s %6s %8s %10s\n", "task", "temperature", "rho",
                                 "depth", "teacher", "state");
    for (const auto& t : tasks_)
      s += log::sprintf("%-40s %12g %6g %6d %8d %10s\n", t.key.c_str(), t.temperature, t.rho,
                        t.depth, t.teacher, state_name(state(t.key)));
    s += log::sprintf(
        "\n%zu tasks: %lld complete, %lld failed%s, %lld partial, %zu to run in %zu work units "
        "on %d rank(s)\n",
        tasks_.size(), (long long)n_complete_, (long long)n_failed_,
        retry_failed_ ? " (to retry)" : "", (long long)n_partial_, todo_.size(), planned_.size(),
        ranks);
    s += cost_report(job_, todo_, planned_, flops_, model_, rate_given_, ranks);
    // What reduce would refuse, said before the compute is spent.
    if (job_.grid.depth.size() < 4)
      s += log::sprintf(
          "warning: grid.depth has %zu depth(s); reduce's depth fit c*depth^-alpha + L0 needs at "
          "least 4 per group (3 parameters), so these groups will get no alpha\n",
          job_.grid.depth.size());
    if (!job_.grid.width.empty() && job_.grid.width.size() < 2)
      s += "warning: grid.width has one width; reduce --decompose needs at least 2\n";
    if (!job_.grid.width.empty() && job_.train.eval.every <= 0)
      s += "warning: train.eval.every is 0, so every student has one data size (its last step); "
           "reduce --decompose needs at least 2 (set train.eval.every)\n";
    return "effective job (the file's job with every --set applied):\n" + job_.effective + "\n" + s;
  }

  std::string summary(int ranks) const override {
    return job_.name + ": " + std::to_string(tasks_.size()) + " tasks (" +
           std::to_string(n_complete_) + " complete, " + std::to_string(n_failed_) + " failed, " +
           std::to_string(n_partial_) + " partial); " + std::to_string(todo_.size()) +
           " to run in " + std::to_string(planned_.size()) + " units on " + std::to_string(ranks) +
           " rank(s), ≈ " + human_hours(flops_ / model_.flops_per_core) + "; writing " + out_;
  }

  std::deque<UnitTicket> tickets() override {
    std::deque<UnitTicket> out;
    for (const auto& u : planned_)
      out.push_back(UnitTicket{
          u.id, u.cost, int64_t(u.tasks.size()) * (job_.train.steps - u.start_step), u.describe()});
    return out;
  }

  farm::UnitSource& source() override {
    if (!source_) source_ = std::make_unique<ToySource>(job_, *file_, planned_);
    return *source_;
  }

  RunOutcome finish(const farm::FarmReport& report) override {
    const auto outcome = report.interrupted()                     ? RunOutcome::Stopped
                         : source_->failed() > 0 || n_failed_ > 0 ? RunOutcome::SomeFailed
                                                                  : RunOutcome::Done;
    if (outcome != RunOutcome::Stopped) write_teacher_probes(job_, out_);
    spdlog::info("{}: {} tasks completed and {} failed in this run", out_, source_->completed(),
                 source_->failed());
    return outcome;
  }

  bool cuda() const override { return job_.run.device == config::Device::Cuda; }
  std::string device_key() const override { return "run.device"; }
  std::unique_ptr<farm::UnitRunner> runner(torch::Device device, int) override {
    return std::make_unique<ToyRunner>(job_, device, fail_task_);
  }
  void configure(farm::CoordinatorOptions& o) const override {
    o.name = "sweep " + job_.name;
    o.work_unit = "student-steps";
    o.largest_first = true;
    // The cost model's rate until a unit has been measured (FLOPs per second of one worker).
    o.prior_rate = model_.flops_per_core * torch::get_num_threads();
  }

 private:
  store::TaskState state(const std::string& key) const {
    auto it = states_.find(key);
    return it == states_.end() ? store::TaskState::Pending : it->second;
  }

  const Job& job_;
  std::string out_;
  toy::CostModel model_;
  bool rate_given_ = false, retry_failed_ = false;
  std::string fail_task_;
  std::vector<ToyTask> tasks_, todo_;
  std::map<std::string, store::TaskState> states_;
  std::vector<UnitSpec> planned_;
  double flops_ = 0;
  int64_t n_complete_ = 0, n_failed_ = 0, n_partial_ = 0;
  store::SweepFile* file_ = nullptr;
  std::unique_ptr<ToySource> source_;
};

}  // namespace

std::unique_ptr<SweepKind> make_toy_sweep(const config::Job& job, const std::string& out,
                                          const RunOptions& options) {
  return std::make_unique<ToySweep>(job, out, options);
}

}  // namespace depthscale::farm
