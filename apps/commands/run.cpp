// `depthscale run JOB.yaml`: run (or resume) a sweep; under mpirun for N ranks, or with -n N,
// which starts mpirun itself (launch.hpp).
#include <mpi.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "commands/launch.hpp"
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

// The command line every launched rank runs: this one without the launcher's own options.
std::vector<std::string> rank_command(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "-n" || a == "--ranks" || a == "--mpirun-arg") {
      ++i;  // and its value
      continue;
    }
    if (a.rfind("--ranks=", 0) == 0 || a.rfind("--mpirun-arg=", 0) == 0 ||
        (a.rfind("-n", 0) == 0 && a.size() > 2 && a[2] != '-'))
      continue;
    out.push_back(a);
  }
  return out;
}

struct LaunchOptions {
  int ranks = 0;  // 0: not launching (this process is a rank, or the only process)
  std::vector<std::string> mpirun_args;
};

}  // namespace

Command add_run(CLI::App& app, const Environment& env, const std::vector<std::string>& argv) {
  auto opt = std::make_shared<farm::RunOptions>();
  auto launch = std::make_shared<LaunchOptions>();
  auto* cmd = app.add_subcommand("run", "run (or resume) a sweep; use under mpirun for N ranks");
  cmd->add_option("job", opt->job_path, "job file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", opt->out, "sweep file (default results/<job name>.h5)")
      ->check(non_empty_path());
  cmd->add_option("--set", opt->overrides, "override a job key: --set train.steps=2000");
  cmd->add_flag("--resume", opt->resume, "continue an existing sweep file");
  cmd->add_flag("--retry-failed", opt->retry_failed, "also rerun failed tasks");
  cmd->add_flag("--dry-run", opt->dry_run, "print the task list, states and cost; run nothing");
  cmd->add_flag("--no-lock", opt->no_lock,
                "write the sweep file without its lock FILE.h5.lock (only for file systems that "
                "cannot lock, and only when nothing else writes the file)");
  cmd->add_option("--gflops-per-core", opt->gflops_per_core,
                  "one core's rate for the cost estimate and the wall-time guard "
                  "(default: measured on the development machine; see docs/performance.md)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-n,--ranks", launch->ranks,
                  "start mpirun with N ranks and pass its exit code on unchanged (instead of "
                  "`mpirun -np N depthscale run ...`)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--mpirun-arg", launch->mpirun_args,
                  "with -n: one more mpirun option, e.g. --mpirun-arg=--oversubscribe (repeat)")
      ->allow_extra_args(false);
  opt->deadline = env.deadline;
  opt->progress_seconds = env.progress_seconds;
  opt->fail_task = env.fail_task;
  const std::string level = env.log_level;
  const LaunchedRun launched{env.exit_file, env.launcher_host};
  const std::string mpirun = env.mpirun;
  return {cmd, [opt, launch, level, launched, mpirun, argv]() -> int {
            if (launch->ranks > 0) {
              if (inside_mpi_launch())
                throw InputError(
                    "-n/--ranks starts mpirun itself: under mpirun or srun, leave "
                    "it out");
              LaunchRequest r;
              r.ranks = launch->ranks;
              r.mpirun = mpirun;
              r.mpirun_args = launch->mpirun_args;
              r.command = rank_command(argv);
              r.command[0] = self_executable(r.command[0]);
              r.log_level = level;
              return launch_ranks(r);
            }
            if (!launch->mpirun_args.empty())
              throw InputError("--mpirun-arg needs -n N (depthscale then starts mpirun)");
            // Handlers first: a stop signal during start-up then stops the run at its first step
            // boundary instead of killing it.
            farm::install_signal_handlers(kStopped);
            int provided = 0;
            MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
            int rank = 0;
            MPI_Comm_rank(MPI_COMM_WORLD, &rank);
            log::init(rank, log::hostname(), level);
            int code = kDone;
            // The command that continues the run, as this run was given it.
            auto again = [&] {
              std::string s = "depthscale run " + opt->job_path;
              if (!opt->out.empty()) s += " --out " + opt->out;
              for (const auto& o : opt->overrides) s += " --set '" + o + "'";
              if (opt->no_lock) s += " --no-lock";
              return s + " --resume";
            };
            // Every rank ends with the same code; only rank 0 says why.
            try {
              code = exit_code(farm::run_sweep(*opt));
              if (rank == 0 && code == kStopped)
                spdlog::warn("stopped after checkpointing; resume with: {}", again());
              if (rank == 0 && code != kDone) spdlog::info("exit code {}", code);
            } catch (const farm::RunFailed& e) {
              // Every worker has stopped and what was recorded is kept.
              if (rank == 0) {
                spdlog::error("{}", e.what());
                spdlog::error(
                    "the run stopped on this error; every recorded result and checkpoint is "
                    "kept: once it is fixed, resume with: {}",
                    again());
              }
              code = kError;
            } catch (const farm::RankZeroFailed& e) {
              code = e.input ? kUsage : kError;
            } catch (const std::exception& e) {
              if (rank == 0) spdlog::error("{}", e.what());
              code = dynamic_cast<const InputError*>(&e) ? kUsage : kError;
            }
            MPI_Finalize();
            return hand_exit_code_to_launcher(launched, rank, code);
          }};
}

}  // namespace depthscale::app
