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
#include "farm/ranks.hpp"
#include "farm/run.hpp"
#include "log/log.hpp"
#include "store/store.hpp"
#include "toy/unit.hpp"

namespace fs = std::filesystem;

namespace depthscale::farm {

using config::Job;
using config::ToyTask;
using toy::UnitSpec;

namespace {

// MPI message tags of the coordinator/worker protocol.
enum Tag : int {
  kRequest = 1,     // worker → 0: give me work
  kUnit,            // 0 → worker: a unit (text), followed by its checkpoints
  kUnitCheckpoint,  // 0 → worker: one checkpoint image of the unit being sent
  kNoMoreWork,      // 0 → worker: leave the loop
  kStop,            // 0 → worker: checkpoint and stop at the next step boundary
  kProgress,        // worker → 0: "unit step"
  kCheckpoint,      // worker → 0: checkpoint image
  kResult,          // worker → 0: result image
  kUnitEnd,         // worker → 0: "unit finished|stopped"
};

std::string encode_unit(const UnitSpec& u, size_t checkpoints) {
  std::ostringstream s;
  s << u.id << ' ' << u.start_step << ' ' << checkpoints << '\n';
  for (const auto& t : u.tasks) s << t.key << '\n';
  return s.str();
}

UnitSpec decode_unit(const std::vector<char>& bytes, const std::map<std::string, ToyTask>& by_key,
                     size_t* checkpoints) {
  std::istringstream s(std::string(bytes.begin(), bytes.end()));
  UnitSpec u;
  s >> u.id >> u.start_step >> *checkpoints;
  for (std::string key; s >> key;) u.tasks.push_back(by_key.at(key));
  u.rho = u.tasks.front().rho;
  u.teacher = u.tasks.front().teacher;
  return u;
}

// Events of rank 0's own worker thread, handed to the coordinator thread (the only HDF5 user).
struct LocalEvent {
  enum Kind { Checkpoint, Result, Progress, UnitEnd } kind;
  store::TaskCheckpoint checkpoint;
  store::TaskResult result;
  int unit = 0;
  int64_t step = 0;
  bool stopped = false;
};

class Coordinator {
 public:
  Coordinator(const Job& job, store::SweepFile& sweep, std::deque<UnitSpec> units, int ranks,
              torch::Device device, double flops_per_core)
      : job_(job),
        sweep_(sweep),
        queue_(std::move(units)),
        ranks_(ranks),
        device_(device),
        flops_per_core_(flops_per_core) {
    for (const auto& u : queue_) {
      total_steps_ += int64_t(u.tasks.size()) * (job.train.steps - u.start_step);
      total_tasks_ += int64_t(u.tasks.size());
    }
    // DEPTHSCALE_DEADLINE: the job's end as Unix seconds (the sbatch script sets it from SLURM).
    if (const char* d = std::getenv("DEPTHSCALE_DEADLINE")) deadline_ = std::atof(d);
    const char* every = std::getenv("DEPTHSCALE_PROGRESS_SECONDS");
    progress_ = std::make_unique<log::Progress>(
        "sweep " + job.name, total_steps_, "student-steps",
        std::chrono::duration<double>(every ? std::atof(every) : 10.0));
  }

  int run() {
    remote_open_ = ranks_ - 1;
    std::thread local([this] { local_worker(); });
    bool stop_sent = false;
    while (remote_open_ > 0 || !local_done_) {
      bool busy = false;
      int flag = 0;
      MPI_Status st;
      while (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), flag) {
        busy = true;
        auto bytes = receive(st.MPI_SOURCE, st.MPI_TAG);
        handle_remote(st.MPI_SOURCE, st.MPI_TAG, bytes);
      }
      busy |= drain_local();
      if (stop_requested() && !stop_sent) {
        stop_sent = true;
        spdlog::warn("stop requested: checkpointing every running unit, then exiting with code 3");
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [id, a] : active_)
          if (a.worker > 0) send(a.worker, kStop, std::string());
      }
      report_progress();
      if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    local.join();
    drain_local();
    report_progress(true);
    if (stopped_any_ || stop_requested() || deadline_hit_) return kStopped;
    return failed_ > 0 ? kSomeFailed : kDone;
  }

  int64_t failed() const { return failed_; }
  int64_t completed() const { return completed_; }

 private:
  struct Active {
    int worker = 0;
    int64_t tasks = 0, start = 0, step = 0;
    double cost = 0;
    std::chrono::steady_clock::time_point began;
  };

  std::optional<UnitSpec> next_unit(int worker) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_requested() || queue_.empty()) return std::nullopt;
    if (deadline_ > 0) {
      // Wall-time guard (SLURM): hand out a unit only if it can finish before the deadline at
      // the rate measured so far (the cost model's rate until a unit has finished).
      const double rate = measured_seconds_ > 0 ? measured_flops_ / measured_seconds_
                                                : flops_per_core_ * torch::get_num_threads();
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      auto fits = std::find_if(queue_.begin(), queue_.end(),
                               [&](const UnitSpec& u) { return now + u.cost / rate < deadline_; });
      if (fits == queue_.end()) {
        if (!deadline_hit_)
          spdlog::warn(
              "{} unit(s) cannot finish before the job's deadline: not starting them "
              "(exit 3 so the job is requeued)",
              queue_.size());
        deadline_hit_ = true;
        return std::nullopt;
      }
      std::rotate(queue_.begin(), fits, fits + 1);  // the first unit that fits goes next
    }
    UnitSpec u = std::move(queue_.front());
    queue_.pop_front();
    active_[u.id] = Active{worker, int64_t(u.tasks.size()),         u.start_step, u.start_step,
                           u.cost, std::chrono::steady_clock::now()};
    spdlog::info("{} → rank {}", u.describe(), worker);
    return u;
  }

  std::map<std::string, store::TaskCheckpoint> checkpoints_of(const UnitSpec& u) {
    std::map<std::string, store::TaskCheckpoint> out;
    if (u.start_step == 0) return out;
    for (const auto& t : u.tasks)
      if (auto c = sweep_.load_checkpoint(t.key)) out[t.key] = std::move(*c);
    return out;
  }

  void handle_remote(int src, int tag, const std::vector<char>& bytes) {
    switch (tag) {
      case kRequest: {
        auto u = next_unit(src);
        if (!u) {
          send(src, kNoMoreWork, std::string());
          --remote_open_;
          return;
        }
        // Checkpoints are read here, on the coordinator thread (the only HDF5 user).
        auto cks = checkpoints_of(*u);
        send(src, kUnit, encode_unit(*u, cks.size()));
        for (const auto& [k, c] : cks) send(src, kUnitCheckpoint, store::to_image(c));
        return;
      }
      case kCheckpoint:
        save(store::checkpoint_from_image(bytes));
        return;
      case kResult:
        record(store::result_from_image(bytes));
        return;
      case kProgress: {
        std::istringstream s(std::string(bytes.begin(), bytes.end()));
        int unit = 0;
        int64_t step = 0;
        s >> unit >> step;
        set_step(unit, step);
        return;
      }
      case kUnitEnd: {
        std::istringstream s(std::string(bytes.begin(), bytes.end()));
        int unit = 0;
        std::string how;
        s >> unit >> how;
        end_unit(unit, how == "stopped");
        if (how == "stopped") --remote_open_;  // a stopped worker asks for nothing more
        return;
      }
      default:
        spdlog::error("unexpected message tag {} from rank {}", tag, src);
    }
  }

  void save(const store::TaskCheckpoint& c) {
    CriticalSection cs;
    sweep_.save_checkpoint(c);
  }

  void record(const store::TaskResult& r) {
    {
      CriticalSection cs;
      sweep_.record(r);
    }
    (r.complete ? completed_ : failed_)++;
    spdlog::info("task {} {} (rank {}, {:.1f} s){}", r.key, r.complete ? "complete" : "FAILED",
                 r.rank, r.wall_seconds, r.complete ? "" : ": " + r.error);
  }

  void set_step(int unit, int64_t step) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = active_.find(unit);
    if (it != active_.end()) it->second.step = step;
  }

  void end_unit(int unit, bool stopped) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = active_.find(unit);
    if (it != active_.end()) {
      if (!stopped) {
        measured_flops_ += it->second.cost;
        measured_seconds_ +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.began)
                .count();
      }
      if (!stopped)
        finished_steps_ += it->second.tasks * (job_.train.steps - it->second.start);
      else
        finished_steps_ += it->second.tasks * (it->second.step - it->second.start);
      active_.erase(it);
    }
    stopped_any_ |= stopped;
  }

  void report_progress(bool final = false) {
    int64_t done = finished_steps_;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [id, a] : active_) done += a.tasks * (a.step - a.start);
    }
    if (final && !stopped_any_) done = total_steps_;
    if (total_steps_ > 0 && (done > last_reported_ || final)) {
      if (!final || done != last_reported_) progress_->update(done);
      last_reported_ = done;
    }
  }

  // Rank 0's own worker: trains units on this thread; all file work goes to the coordinator.
  void local_worker() {
    const auto host = log::hostname();
    while (auto u = next_unit(0)) {
      // Checkpoints must be read by the coordinator thread: ask it and wait.
      std::map<std::string, store::TaskCheckpoint> resume;
      if (u->start_step > 0) {
        std::unique_lock<std::mutex> lock(local_mutex_);
        want_checkpoints_ = &*u;
        local_cv_.wait(lock, [&] { return want_checkpoints_ == nullptr; });
        resume = std::move(loaded_);
      }
      toy::UnitEvents ev;
      const int id = u->id;
      ev.checkpoint = [&](const store::TaskCheckpoint& c) {
        push({LocalEvent::Checkpoint, c, {}, id, 0, false});
      };
      ev.result = [&](const store::TaskResult& r) {
        push({LocalEvent::Result, {}, r, id, 0, false});
      };
      ev.progress = [&](int64_t s) { set_step(id, s); };
      ev.stop_requested = [] { return stop_requested(); };
      toy::UnitOutcome outcome;
      try {
        outcome = toy::run_unit(job_, *u, resume, ev, toy::UnitContext{device_, host, 0});
      } catch (const std::exception& e) {
        spdlog::error("{} failed as a whole: {}", u->describe(), e.what());
        for (const auto& t : u->tasks) {
          auto r = toy::task_result(t, toy::UnitContext{device_, host, 0});
          r.error = e.what();
          push({LocalEvent::Result, {}, r, id, 0, false});
        }
        outcome = toy::UnitOutcome::Finished;
      }
      push({LocalEvent::UnitEnd, {}, {}, id, 0, outcome == toy::UnitOutcome::Stopped});
      if (outcome == toy::UnitOutcome::Stopped) break;
    }
    local_done_ = true;
  }

  void push(LocalEvent e) {
    std::lock_guard<std::mutex> lock(local_mutex_);
    local_events_.push_back(std::move(e));
  }

  bool drain_local() {
    std::deque<LocalEvent> events;
    {
      std::lock_guard<std::mutex> lock(local_mutex_);
      if (want_checkpoints_) {
        loaded_ = checkpoints_of(*want_checkpoints_);
        want_checkpoints_ = nullptr;
        local_cv_.notify_all();
      }
      events.swap(local_events_);
    }
    for (auto& e : events) {
      switch (e.kind) {
        case LocalEvent::Checkpoint:
          save(e.checkpoint);
          break;
        case LocalEvent::Result:
          record(e.result);
          break;
        case LocalEvent::Progress:
          set_step(e.unit, e.step);
          break;
        case LocalEvent::UnitEnd:
          end_unit(e.unit, e.stopped);
          break;
      }
    }
    return !events.empty();
  }

  const Job& job_;
  store::SweepFile& sweep_;
  std::deque<UnitSpec> queue_;
  int ranks_;
  torch::Device device_;
  std::mutex mutex_;
  std::map<int, Active> active_;
  int remote_open_ = 0;
  std::atomic<bool> local_done_{false};
  bool stopped_any_ = false;
  double flops_per_core_;  // the cost model's rate, until a unit has finished
  double deadline_ = 0, measured_flops_ = 0, measured_seconds_ = 0;
  bool deadline_hit_ = false;
  int64_t failed_ = 0, completed_ = 0, total_steps_ = 0, total_tasks_ = 0, finished_steps_ = 0;
  int64_t last_reported_ = -1;
  std::unique_ptr<log::Progress> progress_;
  std::mutex local_mutex_;
  std::condition_variable local_cv_;
  std::deque<LocalEvent> local_events_;
  UnitSpec* want_checkpoints_ = nullptr;
  std::map<std::string, store::TaskCheckpoint> loaded_;
};

// A worker rank (≥ 1): pulls units from rank 0 until there are none or it is told to stop.
void remote_worker(const Job& job, int rank, torch::Device device) {
  std::map<std::string, ToyTask> by_key;
  for (const auto& t : config::expand(job)) by_key[t.key] = t;
  const auto host = log::hostname();
  bool told_to_stop = false;
  while (true) {
    send(0, kRequest, std::string());
    MPI_Status st;
    MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
    if (st.MPI_TAG == kStop) {  // a stop that crossed our request
      receive(0, kStop);
      told_to_stop = true;
      continue;
    }
    if (st.MPI_TAG == kNoMoreWork) {
      receive(0, kNoMoreWork);
      return;
    }
    size_t n_checkpoints = 0;
    UnitSpec u = decode_unit(receive(0, kUnit), by_key, &n_checkpoints);
    std::map<std::string, store::TaskCheckpoint> resume;
    for (size_t i = 0; i < n_checkpoints; ++i) {
      auto c = store::checkpoint_from_image(receive(0, kUnitCheckpoint));
      resume[c.key] = std::move(c);
    }
    toy::UnitEvents ev;
    auto last = std::chrono::steady_clock::now();
    ev.checkpoint = [&](const store::TaskCheckpoint& c) {
      send(0, kCheckpoint, store::to_image(c));
    };
    ev.result = [&](const store::TaskResult& r) { send(0, kResult, store::to_image(r)); };
    ev.progress = [&](int64_t s) {
      auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::milliseconds(500)) return;
      last = now;
      send(0, kProgress, std::to_string(u.id) + " " + std::to_string(s));
    };
    ev.stop_requested = [&] {
      int flag = 0;
      MPI_Iprobe(0, kStop, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
      if (flag) {
        receive(0, kStop);
        told_to_stop = true;
      }
      return told_to_stop || stop_requested();
    };
    toy::UnitOutcome outcome = toy::UnitOutcome::Finished;
    spdlog::info("{} started", u.describe());
    try {
      outcome = toy::run_unit(job, u, resume, ev, toy::UnitContext{device, host, rank});
    } catch (const std::exception& e) {
      spdlog::error("{} failed as a whole: {}", u.describe(), e.what());
      for (const auto& t : u.tasks) {
        auto r = toy::task_result(t, toy::UnitContext{device, host, rank});
        r.error = e.what();
        send(0, kResult, store::to_image(r));
      }
    }
    const bool stopped = outcome == toy::UnitOutcome::Stopped;
    spdlog::info("unit {} {}", u.id, stopped ? "stopped after checkpointing" : "finished");
    send(0, kUnitEnd, std::to_string(u.id) + (stopped ? " stopped" : " finished"));
    if (stopped) {
      // Rank 0 counts this worker as gone; drain a kStop that may still be in flight.
      int flag = 0;
      MPI_Iprobe(0, kStop, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
      if (flag) receive(0, kStop);
      return;
    }
  }
}

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
    if (store::has_teacher(path, key)) continue;
    toy::Teacher teacher(job, rho, rep);
    auto p = toy::probe_hidden(teacher.hidden_states(toy::rms_norm(toy::probe_inputs(job, key))));
    store::TeacherProbes probes;
    probes.rho = rho;
    probes.teacher = rep;
    probes.depth = teacher.depth();
    probes.inputs = p.inputs;
    probes.theta = std::move(p.theta);
    probes.theta_dh = std::move(p.theta_dh);
    probes.norms = std::move(p.norms);
    CriticalSection cs;
    store::write_teacher(path, key, probes);
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
    torch::Device device =
        setup_compute(job.run.device == config::Device::Cuda, job.run.threads, "run.device");
    if (rank == 0) {
      Coordinator coordinator(job, *sweep, std::move(units), size, device, model.flops_per_core);
      code = coordinator.run();
      if (code == kDone && failed_before > 0) code = kSomeFailed;
      if (code != kStopped) write_teacher_probes(job, out);
      spdlog::info("{}: {} tasks completed and {} failed in this run; exit code {}", out,
                   coordinator.completed(), coordinator.failed(), code);
    } else {
      remote_worker(job, rank, device);
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
