// `depthscale run JOB -n N`: depthscale starts mpirun itself and stands between it and the shell,
// so that the shell sees depthscale's exit code on every stop path. Plain `mpirun` cannot give
// that: Open MPI's mpirun answers SIGINT, SIGTERM and SIGHUP by terminating the job and exiting 1,
// whatever the ranks return, and prints abort banners when a rank exits non-zero.
//
// How: mpirun runs in a process group of its own (a Ctrl-C reaches only the launcher); every stop
// signal the launcher gets is passed on as SIGUSR1, which mpirun forwards to every rank unchanged
// (a second one makes the ranks leave at once, as a second signal does everywhere). Rank 0 writes
// the run's exit code to a file the launcher names, and every rank exits 0, so mpirun prints no
// banner; the launcher then exits with that code. If mpirun itself fails, its code is returned.
#pragma once

#include <string>
#include <vector>

namespace depthscale::app {

struct LaunchRequest {
  int ranks = 1;
  std::string mpirun = "mpirun";         // DEPTHSCALE_MPIRUN
  std::vector<std::string> mpirun_args;  // --mpirun-arg, before the program
  std::vector<std::string> command;      // the program and its arguments, for every rank
  std::string log_level;                 // for the launcher's own lines
};

// Runs `mpirun -np ranks mpirun_args... command...` as described above and returns the exit code
// for the shell. Throws std::runtime_error when mpirun cannot be started.
int launch_ranks(const LaunchRequest& request);

// Inside a launched run: where rank 0 leaves the exit code (DEPTHSCALE_EXIT_FILE) and the host the
// launcher runs on (DEPTHSCALE_LAUNCHER_HOST); empty when not launched.
struct LaunchedRun {
  std::string exit_file;
  std::string launcher_host;
  bool active() const { return !exit_file.empty(); }
};

// Called by every rank at the end of a launched run with the run's exit code; returns what this
// process should exit with: 0 once rank 0 has written `code` where the launcher reads it (no mpirun
// banner), `code` itself otherwise (rank 0 on another host, a write that failed).
int hand_exit_code_to_launcher(const LaunchedRun& launched, int rank, int code);

// The path of the running program (/proc/self/exe), or `fallback` where that cannot be read.
std::string self_executable(const std::string& fallback);

// True when this process is one rank of an MPI launch (mpirun, srun).
bool inside_mpi_launch();

}  // namespace depthscale::app
