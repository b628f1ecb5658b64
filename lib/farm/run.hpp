// `depthscale run` across MPI ranks, for every job kind (farm/kinds.hpp). Rank 0 is the
// coordinator and the only writer of the sweep file; it also works on a thread of its own, so
// `mpirun -np 1` and `-np N` take the same path. Idle workers pull the next work unit (toy units
// most expensive first, probe batches in model order); results, checkpoints and progress flow
// back to rank 0 as HDF5 file images (farm/farm.hpp has the protocol).
#pragma once

#include <string>
#include <vector>

#include "error/error.hpp"
#include "farm/farm.hpp"

namespace depthscale::farm {

struct RunOptions {
  std::string job_path;
  std::string out;  // default: results/<job name>.h5
  std::vector<std::string> overrides;
  bool resume = false;
  bool retry_failed = false;
  bool dry_run = false;
  double gflops_per_core = 0;  // the cost model's rate (0: the engine's measured default)
  // The allocation's end as Unix seconds (0: none): units that cannot finish before it are not
  // started (the sbatch scripts pass SLURM's end time; apps reads DEPTHSCALE_DEADLINE).
  double deadline = 0;
  double progress_seconds = 10;  // how often the progress line is logged
  std::string fail_task;         // toy fault injection for tests: "<key>[@step]" (UnitContext)
  // Write without the one-writer lock (FILE.h5.lock, store/lock.hpp): for file systems that
  // cannot lock, when nothing else can write the file.
  bool no_lock = false;
};

// The farm's settings every job kind shares: the deadline, the progress period, the stop signal.
CoordinatorOptions coordinator_options(const RunOptions& options, const std::string& name,
                                       const std::string& work_unit);

// How a run ended (apps maps these to exit codes 0, 0, 3 and 4).
enum class RunOutcome { Done, DryRun, Stopped, SomeFailed };

// Runs on every rank (MPI must be initialised by the caller) and returns the same outcome on
// every rank. Rank 0 first takes the output file's one-writer lock (store::WriterLock; a file
// another process writes is refused with store::LockHeld naming it). A bad job or a refused
// output file throws InputError, anything else that stops the run before it starts throws Error:
// on rank 0 the error itself, on the other ranks RankZeroFailed (rank 0 has logged why). An error
// of rank 0's coordinator during the run (a disk full, a file that cannot be written) stops every
// worker, its own training thread included, and throws RunFailed on rank 0 and RankZeroFailed on
// the others; what was recorded stays and the file resumes. Any other failure during the run
// aborts the MPI job, since other ranks may be blocked on the failed one.
RunOutcome run_sweep(const RunOptions& options);

// Rank 0's error during the run, raised once every rank has stopped: the original message.
class RunFailed : public Error {
 public:
  using Error::Error;
};

// Thrown on ranks other than 0 when rank 0 refused to start; `input` says it was the job's fault.
class RankZeroFailed : public Error {
 public:
  explicit RankZeroFailed(bool input) : Error("rank 0 did not start the run"), input(input) {}
  bool input;
};

// SIGTERM, SIGUSR1 and SIGINT ask for a stop at the next step boundary (the run then checkpoints
// and returns RunOutcome::Stopped); a second signal ends the process at once with
// `second_signal_exit_code` (apps passes its code for "stopped"), but never while rank 0 is in
// the middle of writing a file.
void install_signal_handlers(int second_signal_exit_code);
bool stop_requested();
// A stop signal before the farm starts (while the job is read, the grid expanded, the file read
// and the units planned): the planning loops call stop_point(), which throws this once a stop was
// asked for; run_sweep then stops every rank before the farm starts, with nothing to checkpoint,
// and returns RunOutcome::Stopped (exit code 3: the same command, with --resume when the file was
// created, continues; docs/commands.md).
class StoppedWhilePlanning : public std::exception {
 public:
  const char* what() const noexcept override { return "stopped by a signal while planning"; }
};
void stop_point();
// Brackets a write that must not be cut by the second signal's immediate exit.
class CriticalSection {
 public:
  CriticalSection();
  ~CriticalSection();
};

// `depthscale status FILE.h5`: the per-group table (toy) or per-model table (probe) as text.
// Throws StoreError for a file that is not a readable sweep.
std::string status_report(const std::string& path);

}  // namespace depthscale::farm
