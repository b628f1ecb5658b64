// `depthscale run JOB.yaml`: run (or resume) a sweep; under mpirun for N ranks.
#include <mpi.h>

#include <memory>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "farm/run.hpp"
#include "log/log.hpp"

namespace depthscale::app {

// farm::run_sweep still returns farm's codes; they must be these.
static_assert(int(farm::kDone) == kDone && int(farm::kError) == kError &&
              int(farm::kUsage) == kUsage && int(farm::kStopped) == kStopped &&
              int(farm::kSomeFailed) == kSomeFailed);

Command add_run(CLI::App& app, const Environment& env) {
  auto opt = std::make_shared<farm::RunOptions>();
  auto* cmd = app.add_subcommand("run", "run (or resume) a sweep; use under mpirun for N ranks");
  cmd->add_option("job", opt->job_path, "job file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", opt->out, "sweep file (default results/<job name>.h5)");
  cmd->add_option("--set", opt->overrides, "override a job key: --set train.steps=2000");
  cmd->add_flag("--resume", opt->resume, "continue an existing sweep file");
  cmd->add_flag("--retry-failed", opt->retry_failed, "also rerun failed tasks");
  cmd->add_flag("--dry-run", opt->dry_run, "print the task list, states and cost; run nothing");
  cmd->add_option("--gflops-per-core", opt->gflops_per_core,
                  "one core's rate for the cost estimate and the wall-time guard "
                  "(default: measured on the development machine; see README, Speed)")
      ->check(CLI::PositiveNumber);
  const std::string level = env.log_level;
  return {cmd, [opt, level]() -> int {
            // Handlers first: a stop signal during start-up then stops the run at its first step
            // boundary instead of killing it.
            farm::install_signal_handlers();
            int provided = 0;
            MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
            int rank = 0;
            MPI_Comm_rank(MPI_COMM_WORLD, &rank);
            log::init(rank, log::hostname(), level);
            const int code = farm::run_sweep(*opt);
            MPI_Finalize();
            return code;
          }};
}

}  // namespace depthscale::app
