// `depthscale submit JOB.yaml`: write the sbatch scripts of a sweep and submit them.
#include <memory>

#include "commands/commands.hpp"
#include "farm/submit.hpp"

namespace depthscale::app {

Command add_submit(CLI::App& app) {
  auto opt = std::make_shared<farm::SubmitOptions>();
  auto* cmd = app.add_subcommand("submit", "write the sbatch scripts of a sweep and submit them");
  cmd->add_option("job", opt->job_path, "job file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", opt->out, "sweep file (default results/<job name>.h5)");
  cmd->add_option("--set", opt->overrides, "override a job key: --set train.steps=2000");
  cmd->add_option("--ntasks", opt->ntasks, "MPI ranks (array: per element; default 1 per node)");
  cmd->add_option("--nodes", opt->nodes, "spread the farm's ranks over N nodes");
  cmd->add_option("--time", opt->time, "wall time per job, HH:MM:SS or D-HH:MM:SS")
      ->capture_default_str();
  cmd->add_option("--reduce-time", opt->reduce_time, "wall time of the reduction job")
      ->capture_default_str();
  cmd->add_option("--signal-seconds", opt->signal_seconds,
                  "SIGUSR1 (checkpoint, requeue) this long before the wall time ends")
      ->capture_default_str();
  cmd->add_option("--array", opt->array, "job array of N slices instead of one allocation");
  cmd->add_option("--partition", opt->partition, "SLURM partition");
  cmd->add_flag("--dry-run", opt->dry_run, "print the scripts; write and submit nothing");
  cmd->add_option("--sbatch", opt->sbatch, "the sbatch program")->capture_default_str();
  return {cmd, [opt]() -> int { return farm::submit_command(*opt); }};
}

}  // namespace depthscale::app
