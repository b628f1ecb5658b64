// `depthscale run JOB.yaml`: run (or resume) a sweep; under mpirun for N ranks.
#include <mpi.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "error/error.hpp"
#include "farm/run.hpp"
#include "log/log.hpp"

namespace depthscale::app {

namespace {

int exit_code(farm::RunOutcome outcome) {
  switch (outcome) {
    case farm::RunOutcome::Done:
    case farm::RunOutcome::DryRun:
      return kDone;
    case farm::RunOutcome::Stopped:
      return kStopped;
    case farm::RunOutcome::SomeFailed:
      return kSomeFailed;
  }
  return kError;
}

}  // namespace

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
  opt->deadline = env.deadline;
  opt->progress_seconds = env.progress_seconds;
  opt->fail_task = env.fail_task;
  const std::string level = env.log_level;
  return {cmd, [opt, level]() -> int {
            // Handlers first: a stop signal during start-up then stops the run at its first step
            // boundary instead of killing it.
            farm::install_signal_handlers(kStopped);
            int provided = 0;
            MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
            int rank = 0;
            MPI_Comm_rank(MPI_COMM_WORLD, &rank);
            log::init(rank, log::hostname(), level);
            int code = kDone;
            // Every rank ends with the same code; only rank 0 says why.
            try {
              code = exit_code(farm::run_sweep(*opt));
              if (rank == 0 && code == kStopped) {
                // The command that continues it, as this run was given it.
                std::string again = "depthscale run " + opt->job_path;
                if (!opt->out.empty()) again += " --out " + opt->out;
                for (const auto& o : opt->overrides) again += " --set '" + o + "'";
                spdlog::warn("stopped after checkpointing; resume with: {} --resume", again);
              }
              if (rank == 0 && code != kDone) spdlog::info("exit code {}", code);
            } catch (const farm::RankZeroFailed& e) {
              code = e.input ? kUsage : kError;
            } catch (const std::exception& e) {
              if (rank == 0) spdlog::error("{}", e.what());
              code = dynamic_cast<const InputError*>(&e) ? kUsage : kError;
            }
            MPI_Finalize();
            return code;
          }};
}

}  // namespace depthscale::app
