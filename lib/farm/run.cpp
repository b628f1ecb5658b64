// `depthscale run` for every job kind: rank 0 opens (or creates) the sweep file, checks that a
// resumed file was written by the same job, lets the kind plan, and tells the other ranks whether
// to go; then every rank takes its device and the farm runs the units.
#include "farm/run.hpp"

#include <mpi.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <thread>

#include "farm/kinds.hpp"
#include "farm/mpi.hpp"
#include "farm/probe_sweep.hpp"
#include "log/log.hpp"
#include "store/lock.hpp"
#include "store/store.hpp"
#include "store/trust.hpp"
#include "toy/model.hpp"

namespace fs = std::filesystem;

namespace depthscale::farm {

namespace {

// The go/no-go rank 0 broadcasts after planning.
enum Go : int {
  kGo = 0,
  kDryRunDone = 1,
  kInputRefused = 2,
  kFailedToStart = 3,
  kStoppedPlanning = 4
};

// The outcome rank 0 broadcasts when its coordinator failed (after every worker has stopped).
constexpr int kCoordinatorFailed = -1;

store::SweepHeader header_of(const config::Job& job) {
  store::SweepHeader h;
  h.job_yaml = job.yaml_text;
  h.effective = job.effective;
  h.identity = config::job_identity(job);
  h.git_commit = DEPTHSCALE_GIT_COMMIT;
  h.version = DEPTHSCALE_VERSION;
  h.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                    std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH);
  return h;
}

// Which library LibTorch's matmuls run on: the first thing to check when a run is slow.
void log_blas() {
  const std::string blas = toy::blas_library();
  const bool slow = blas.find("/blas/") != std::string::npos ||
                    blas.find("atlas") != std::string::npos ||
                    blas.find("f77blas") != std::string::npos;
  const auto core = toy::blas_core();
  const std::string kernels = core.core.empty() ? "" : " (" + core.core + " kernels)";
  if (slow)
    spdlog::warn("BLAS: {} is slow for these shapes: see scripts/setup.sh", blas);
  else
    spdlog::debug("BLAS: {}{}", blas.empty() ? "none (LibTorch's own kernels)" : blas, kernels);
  // OpenBLAS reads OPENBLAS_CORETYPE when it loads, before this runs: it can only be advised.
  if (!core.advice.empty())
    spdlog::warn(
        "BLAS: OpenBLAS runs its generic {} kernels on a CPU with {} (it does not know this CPU "
        "model, common on virtual machines): BLAS matmuls run several times slower. Fix: export "
        "OPENBLAS_CORETYPE={} before mpirun (and in sbatch scripts)",
        core.core, core.cpu == "avx512" ? "AVX-512" : "AVX2", core.advice);
}

// Rank 0: the output file as the run needs it, or none in a dry run without one. A file, or a
// sidecar without its file, is resumed only after read-only checks that it belongs to this job:
// nothing is written into or beside another job's sweep.
std::optional<store::SweepFile> open_output(const config::Job& job, const std::string& out,
                                            const RunOptions& opt) {
  const bool sidecar_only = !fs::exists(out) && fs::exists(out + ".ckpt/header.h5");
  if (fs::exists(out) || (sidecar_only && opt.resume)) {
    if (!opt.resume && !opt.dry_run)
      throw InputError(out +
                       " already exists: add --resume to continue that sweep, or --out "
                       "NEW.h5");
    const std::string identity = config::job_identity(job);
    store::SweepHeader found;
    try {
      found = store::resume_header(out, identity);
    } catch (const store::ForeignSweepError& e) {
      throw InputError(std::string(e.what()));
    }
    // The effective job (overrides included) is itself a valid job file.
    const auto before = config::parse_job(found.effective, out + ":/job_effective");
    const auto change = config::incompatible_change(before, job);
    if (!change.empty())
      throw InputError(out + " was written by a different job: " + change +
                       " (start a new --out, or run the original job)");
    try {
      return store::SweepFile::open_or_recover(out, identity);
    } catch (const store::ForeignSweepError& e) {
      throw InputError(std::string(e.what()));
    }
  }
  if (opt.dry_run) return std::nullopt;
  if (!fs::path(out).parent_path().empty()) fs::create_directories(fs::path(out).parent_path());
  return store::SweepFile::create(out, header_of(job), false);
}

// Rank 0: the output file's one-writer lock (docs/running.md#one-writer), taken before anything
// is written; none in a dry run of a file that does not exist yet (nothing is written), or with
// --no-lock.
std::optional<store::WriterLock> take_lock(const std::string& out, const RunOptions& opt) {
  if (opt.dry_run && !fs::exists(out)) return std::nullopt;
  if (opt.no_lock) {
    spdlog::warn("--no-lock: {} is written without its lock; a second run on it would corrupt it",
                 out);
    return std::nullopt;
  }
  if (!fs::path(out).parent_path().empty()) fs::create_directories(fs::path(out).parent_path());
  return store::WriterLock::acquire(out, "run");
}

// The ranks on this rank's node (collective over MPI_COMM_WORLD).
int ranks_on_this_node() {
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
  int n = 1;
  MPI_Comm_size(local, &n);
  MPI_Comm_free(&local);
  return n;
}

}  // namespace

CoordinatorOptions coordinator_options(const RunOptions& options, const std::string& name,
                                       const std::string& work_unit) {
  CoordinatorOptions o;
  o.name = name;
  o.work_unit = work_unit;
  o.deadline = options.deadline;
  o.progress_every = std::chrono::duration<double>(options.progress_seconds);
  o.stop_signal = [] { return stop_requested(); };
  return o;
}

RunOutcome run_sweep(const RunOptions& opt) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rank == 0) log_blas();

  // Every rank reads the job itself (same file, same overrides) and builds its kind; a bad job is
  // the same error everywhere, so every rank throws it and only apps on rank 0 reports it.
  const config::Job job = config::load_job(opt.job_path, opt.overrides);
  const std::string out = opt.out.empty() ? "results/" + job.name + ".h5" : opt.out;
  // Every rank expands the grid (capped, docs/job-file.md "Caps": well under a second); rank 0's
  // planning below stops at the first stop point after a signal, and every rank follows its go.
  auto kind = job.kind == config::JobKind::Toy ? make_toy_sweep(job, out, opt)
                                               : make_probe_sweep(job, out, opt);

  // The intra-op threads each rank will run with (setup_compute sets them the same way).
  const int node_ranks = ranks_on_this_node();
  const int threads = threads_per_rank(job.run.threads, node_ranks);

  // Rank 0 prepares the file and the plan; the others wait for its go.
  int go = kGo;
  std::exception_ptr refused;
  std::optional<store::WriterLock> lock;  // rank 0: held until this function returns
  std::optional<store::SweepFile> file;
  if (rank == 0) {
    try {
      // Far more threads than cores make every step crawl (OpenMP's barriers spin), so that even a
      // stop signal waits minutes for the next step boundary: refused beyond 4x (the job's own cap
      // of 1024 cannot know this machine; docs/job-file.md, "Caps").
      const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
      if (job.run.threads > 1 && int64_t(job.run.threads) * node_ranks > 4 * cores)
        throw InputError(job.source_path + ": run.threads: " + std::to_string(job.run.threads) +
                         " threads on each of " + std::to_string(node_ranks) +
                         " rank(s) of this node exceed 4x its " + std::to_string(cores) +
                         " cores (every step would crawl, signals included): use at most " +
                         std::to_string(std::max<int64_t>(1, 4 * cores / node_ranks)) +
                         ", or 0 for cores / ranks per node");
      stop_point();
      kind->check_inputs();
      stop_point();
      lock = take_lock(out, opt);
      file = open_output(job, out, opt);
      if (file && !opt.dry_run && job.kind == config::JobKind::Probe && !kind->cuda())
        check_probe_threads(out, threads);
      stop_point();
      kind->plan(file ? &*file : nullptr, opt, size);
      stop_point();
      if (opt.dry_run) {
        std::fputs(kind->dry_run_report(size).c_str(), stdout);
        std::fflush(stdout);
        go = kDryRunDone;
      } else {
        spdlog::info("{}", kind->summary(size));
      }
    } catch (const StoppedWhilePlanning&) {
      // Nothing has run: no checkpoint to write, and the file (if created) holds no task yet.
      spdlog::warn("stopped by a signal while planning, before any unit started");
      go = kStoppedPlanning;
    } catch (const InputError&) {
      refused = std::current_exception();
      go = kInputRefused;
    } catch (const std::exception&) {
      refused = std::current_exception();
      go = kFailedToStart;
    }
  }
  MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (go == kDryRunDone) return RunOutcome::DryRun;
  if (go == kStoppedPlanning) return RunOutcome::Stopped;
  if (go != kGo) {
    if (refused) std::rethrow_exception(refused);
    throw RankZeroFailed(go == kInputRefused);
  }

  int outcome = int(RunOutcome::Done);
  // Rank 0's coordinator error, raised once every rank has heard of it.
  std::exception_ptr failed;
  try {
    const torch::Device device = setup_compute(kind->cuda(), job.run.threads, kind->device_key());
    auto runner = kind->runner(device, rank);
    CoordinatorOptions o = coordinator_options(opt, job.name, "units");
    kind->configure(o);
    if (rank == 0) {
      // The heartbeat beside the file (store::Heartbeat) for `status`: running while the loop
      // runs; the run's end state once the kind has finished.
      store::Heartbeat beat;
      beat.host = log::hostname();
      beat.pid = int64_t(::getpid());
      beat.every_seconds = opt.progress_seconds;
      beat.unit = o.work_unit;
      o.heartbeat = [&](int64_t done, int64_t total, double seconds, bool final) {
        beat.done = done;
        beat.total = total;
        beat.rate = seconds > 0 ? double(done) / seconds : 0;
        beat.unix_time = double(std::time(nullptr));
        if (!final) store::write_heartbeat(out, beat);
      };
      // The last heartbeat says how the run ended; it never hides the run's own outcome.
      auto last_beat = [&](const char* state) {
        beat.state = state;
        beat.unix_time = double(std::time(nullptr));
        try {
          store::write_heartbeat(out, beat);
        } catch (const std::exception& e) {
          spdlog::warn("heartbeat not written: {}", e.what());
        }
      };
      // run_over_mpi throws only once every worker (its own training thread included) has
      // stopped and left, and finish() runs after that: the others wait in the broadcast below,
      // so the error can end the run the normal way instead of aborting it.
      try {
        const auto report = run_over_mpi(kind->tickets(), &kind->source(), *runner, o);
        outcome = int(kind->finish(report));
      } catch (...) {
        failed = std::current_exception();
        outcome = kCoordinatorFailed;
        last_beat("failed");
      }
      if (!failed)
        last_beat(RunOutcome(outcome) == RunOutcome::Stopped      ? "stopped"
                  : RunOutcome(outcome) == RunOutcome::SomeFailed ? "finished-with-failures"
                                                                  : "finished");
    } else {
      run_over_mpi({}, nullptr, *runner, o);
    }
  } catch (const std::exception& e) {
    // Outside the coordinator (a device that cannot be set up, a worker rank's own failure): the
    // other ranks may be blocked on this one, so take the whole job down rather than hang. The
    // sweep file is safe (every write is atomic or recoverable).
    spdlog::error("{}", e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  // Every rank leaves with rank 0's verdict.
  MPI_Bcast(&outcome, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (failed) {
    try {
      std::rethrow_exception(failed);
    } catch (const std::exception& e) {
      throw RunFailed(e.what());
    } catch (...) {
      throw RunFailed("an unknown error in the coordinator");
    }
  }
  if (outcome == kCoordinatorFailed) throw RankZeroFailed(false);
  return RunOutcome(outcome);
}

}  // namespace depthscale::farm
