// The depthscale command line: argument parsing and wiring only; the work lives in lib/.
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "farm/merge.hpp"
#include "farm/run.hpp"
#include "farm/submit.hpp"
#include "fit/fit.hpp"
#include "fit/reduce.hpp"
#include "log/log.hpp"
#include "error/error.hpp"
#include <spdlog/spdlog.h>
#include "plot/plot.hpp"
#include "probe/shards.hpp"

using namespace depthscale;

namespace {

int run_command(const farm::RunOptions& opt) {
  // Handlers first: a stop signal during start-up then stops the run at its first step boundary
  // instead of killing it.
  farm::install_signal_handlers();
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  log::init(rank, log::hostname());
  int code = farm::kDone;
  try {
    switch (farm::run_sweep(opt)) {
      case farm::RunOutcome::Done:
      case farm::RunOutcome::DryRun:
        code = farm::kDone;
        break;
      case farm::RunOutcome::Stopped:
        code = farm::kStopped;
        break;
      case farm::RunOutcome::SomeFailed:
        code = farm::kSomeFailed;
        break;
    }
    if (rank == 0 && code != farm::kDone) spdlog::info("exit code {}", code);
  } catch (const farm::RankZeroFailed& e) {
    code = e.input ? farm::kUsage : farm::kError;  // rank 0 says why
  } catch (const InputError& e) {
    if (rank == 0) spdlog::error("{}", e.what());
    code = farm::kUsage;
  } catch (const std::exception& e) {
    if (rank == 0) spdlog::error("{}", e.what());
    code = farm::kError;
  }
  MPI_Finalize();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"depthscale: depth-scaling experiments (teacher-student sweeps, LLM probes, fits)"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       std::string(DEPTHSCALE_VERSION) + " (" + DEPTHSCALE_GIT_COMMIT + ")");

  farm::RunOptions run;
  auto* run_cmd =
      app.add_subcommand("run", "run (or resume) a sweep; use under mpirun for N ranks");
  run_cmd->add_option("job", run.job_path, "job file (YAML)")->required()->check(CLI::ExistingFile);
  run_cmd->add_option("--out", run.out, "sweep file (default results/<job name>.h5)");
  run_cmd->add_option("--set", run.overrides, "override a job key: --set train.steps=2000");
  run_cmd->add_flag("--resume", run.resume, "continue an existing sweep file");
  run_cmd->add_flag("--retry-failed", run.retry_failed, "also rerun failed tasks");
  run_cmd->add_flag("--dry-run", run.dry_run, "print the task list, states and cost; run nothing");
  run_cmd
      ->add_option("--gflops-per-core", run.gflops_per_core,
                   "one core's rate for the cost estimate and the wall-time guard "
                   "(default: measured on the development machine; see README, Speed)")
      ->check(CLI::PositiveNumber);

  std::string status_path;
  auto* status_cmd = app.add_subcommand("status", "per-group table of a sweep file");
  status_cmd->add_option("file", status_path, "sweep file")->required();

  fit::ReduceOptions reduce;
  auto* reduce_cmd = app.add_subcommand("reduce", "fit L(depth) per group and step into /fits");
  reduce_cmd->add_option("file", reduce.path, "sweep file")->required()->check(CLI::ExistingFile);
  reduce_cmd->add_option("--depth-offset", reduce.depth_offset, "fit (depth - offset)");

  plot::PlotOptions plot;
  auto* plot_cmd = app.add_subcommand("plot", "PNG figures (and CSV tables) from a sweep file");
  plot_cmd->add_option("file", plot.path, "sweep file")->required()->check(CLI::ExistingFile);
  plot_cmd->add_option("--out", plot.out_dir, "folder for the figures (default <file>-figures)");

  fit::FitScalingOptions scaling;
  auto* scaling_cmd = app.add_subcommand("fit-scaling", "fit the LLM scaling-law decomposition");
  fit::add_fit_scaling_options(*scaling_cmd, scaling);

  farm::SubmitOptions submit;
  auto* submit_cmd =
      app.add_subcommand("submit", "write the sbatch scripts of a sweep and submit them");
  submit_cmd->add_option("job", submit.job_path, "job file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  submit_cmd->add_option("--out", submit.out, "sweep file (default results/<job name>.h5)");
  submit_cmd->add_option("--set", submit.overrides, "override a job key: --set train.steps=2000");
  submit_cmd->add_option("--ntasks", submit.ntasks,
                         "MPI ranks (array: per element; default 1 per node)");
  submit_cmd->add_option("--nodes", submit.nodes, "spread the farm's ranks over N nodes");
  submit_cmd->add_option("--time", submit.time, "wall time per job, HH:MM:SS or D-HH:MM:SS")
      ->capture_default_str();
  submit_cmd->add_option("--reduce-time", submit.reduce_time, "wall time of the reduction job")
      ->capture_default_str();
  submit_cmd
      ->add_option("--signal-seconds", submit.signal_seconds,
                   "SIGUSR1 (checkpoint, requeue) this long before the wall time ends")
      ->capture_default_str();
  submit_cmd->add_option("--array", submit.array,
                         "job array of N slices instead of one allocation");
  submit_cmd->add_option("--partition", submit.partition, "SLURM partition");
  submit_cmd->add_flag("--dry-run", submit.dry_run, "print the scripts; write and submit nothing");
  submit_cmd->add_option("--sbatch", submit.sbatch, "the sbatch program")->capture_default_str();

  farm::MergeOptions merge;
  auto* merge_cmd =
      app.add_subcommand("merge", "join the slice files of a job array into one sweep");
  merge_cmd->add_option("slices", merge.inputs, "slice files")
      ->required()
      ->check(CLI::ExistingFile);
  merge_cmd->add_option("--out", merge.out, "merged sweep file")->required();

  probe::TokenizeOptions tokenize;
  auto* tokenize_cmd =
      app.add_subcommand("tokenize", "text or JSON Lines into token shards for the LLM probes");
  probe::add_tokenize_options(*tokenize_cmd, tokenize);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : farm::kUsage;
  }
  if (*run_cmd) {
    // The batch scripts hand the allocation's end and the log period through the environment.
    if (const char* d = std::getenv("DEPTHSCALE_DEADLINE"); d && *d) run.deadline = std::atof(d);
    if (const char* p = std::getenv("DEPTHSCALE_PROGRESS_SECONDS"); p && *p)
      run.progress_seconds = std::atof(p);
    return run_command(run);
  }
  log::init(-1, log::hostname());
  if (*status_cmd) return farm::print_status(status_path);
  if (*reduce_cmd) return fit::reduce_sweep(reduce);
  if (*plot_cmd) return plot::plot_sweep(plot);
  if (*submit_cmd) return farm::submit_command(submit);
  if (*merge_cmd) return farm::merge_command(merge);
  if (*tokenize_cmd) return probe::run_tokenize(tokenize);
  if (*scaling_cmd) {
    const int code = fit::run_fit_scaling(scaling);
    if (code != 0 || scaling.out_dir.empty()) return code;
    return plot::plot_scaling_parts(scaling.out_dir + "/parts.csv", scaling.out_dir);
  }
  return farm::kUsage;
}
