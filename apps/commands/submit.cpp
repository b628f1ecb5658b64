// `depthscale submit JOB.yaml`: write the sbatch scripts of a sweep and submit them (or, with
// --dry-run, print them).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "farm/submit.hpp"

namespace depthscale::app {

namespace {

// The sbatch commands that submit the plan's scripts, the reduction after every sweep job.
void print_commands(const farm::SubmitPlan& plan, const std::string& sbatch) {
  std::vector<std::string> vars;
  for (size_t k = 0; k < plan.sweep.size(); ++k) {
    vars.push_back("$j" + std::to_string(k));
    std::printf("#   j%zu=$(%s --parsable %s)\n", k, sbatch.c_str(), plan.sweep[k].path.c_str());
  }
  std::printf("#   %s --parsable --dependency=afterok:%s %s\n", sbatch.c_str(),
              farm::join_ids(vars, ":").c_str(), plan.reduce.path.c_str());
}

void print_dry_run(const farm::SubmitPlan& plan, const std::string& sbatch) {
  for (const auto& s : plan.sweep) std::printf("# ==== %s\n%s\n", s.path.c_str(), s.text.c_str());
  std::printf("# ==== %s\n%s\n", plan.reduce.path.c_str(), plan.reduce.text.c_str());
  std::printf("# dry run: nothing written or submitted. Would run:\n");
  print_commands(plan, sbatch);
}

void print_submitted(const farm::SubmitPlan& plan, const farm::Submitted& jobs, int array) {
  const auto& ids = jobs.sweep_ids;
  for (const auto& id : ids) std::printf("sweep job: %s\n", id.c_str());
  std::printf("reduce job: %s\n", jobs.reduce_id.c_str());
  std::printf(
      "\n%s: %s into %s\n", array ? "job array" : "task farm",
      (array ? std::to_string(array) + " slices of " + std::to_string(plan.ntasks) + " rank(s)"
             : std::to_string(plan.ntasks) + " MPI rank(s)")
          .c_str(),
      plan.out.c_str());
  std::printf("  scripts   %s/\n", plan.script_dir.c_str());
  std::printf("  logs      %s/\n", plan.log_dir.c_str());
  std::printf("  figures   %s/ (after the reduction job)\n", plan.plot_dir.c_str());
  std::printf("watch:\n");
  std::printf("  squeue -j %s,%s\n", farm::join_ids(ids, ",").c_str(), jobs.reduce_id.c_str());
  if (array)
    std::printf("  depthscale status %s-slice<i>.h5   (the merged %s after the reduction)\n",
                farm::stem_of(plan.out).c_str(), plan.out.c_str());
  else
    std::printf("  depthscale status %s\n", plan.out.c_str());
  std::printf("  tail -f %s/%s\n", plan.log_dir.c_str(), array ? "*_*.out" : "*.out");
  std::printf("stop early (checkpoint, requeue, resume): scancel --batch --signal=USR1 %s\n",
              farm::join_ids(ids, " ").c_str());
  std::printf("cancel: scancel %s %s\n", farm::join_ids(ids, " ").c_str(), jobs.reduce_id.c_str());
}

}  // namespace

Command add_submit(CLI::App& app, const Environment& env) {
  auto opt = std::make_shared<farm::SubmitOptions>();
  auto* cmd = app.add_subcommand("submit", "write the sbatch scripts of a sweep and submit them");
  cmd->add_option("job", opt->job_path, "job file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", opt->out, "sweep file (default results/<job name>.h5)")
      ->check(non_empty_path());
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
  cmd->add_option("--account", opt->account, "SLURM account (every job)");
  cmd->add_option("--qos", opt->qos, "SLURM quality of service (every job)");
  cmd->add_option("--mem", opt->mem, "memory per node of the sweep jobs, e.g. 16G");
  cmd->add_option("--constraint", opt->constraint, "node features of the sweep jobs");
  cmd->add_option("--cpus-per-task", opt->cpus_per_task, "CPUs per rank of the sweep jobs");
  cmd->add_option("--sbatch-option", opt->sbatch_options,
                  "any further sbatch option, whole, on every job (repeatable): "
                  "--sbatch-option=--mail-type=END");
  cmd->add_flag("--dry-run", opt->dry_run, "print the scripts; write and submit nothing");
  cmd->add_flag("--write-only", opt->write_only,
                "write the scripts and print the sbatch commands that submit them; submit nothing")
      ->excludes("--dry-run");
  cmd->add_option("--sbatch", opt->sbatch, "the sbatch program")->capture_default_str();
  opt->templates = env.slurm_templates;
  return {cmd, [opt]() -> int {
            const std::string binary = std::filesystem::read_symlink("/proc/self/exe").string();
            const int max_array = opt->array > 0 ? farm::cluster_max_array_size() : 1001;
            const auto plan =
                farm::plan_submission(*opt, binary, farm::template_dir(opt->templates), max_array);
            for (const auto& n : plan.notes) spdlog::info("{}", n);
            if (opt->dry_run) {
              print_dry_run(plan, opt->sbatch);
              return kDone;
            }
            farm::write_scripts(plan);
            if (opt->write_only) {
              std::printf("# scripts written to %s/; nothing submitted. To submit:\n",
                          plan.script_dir.c_str());
              print_commands(plan, opt->sbatch);
              return kDone;
            }
            print_submitted(plan, farm::submit_plan(plan, opt->sbatch), opt->array);
            return kDone;
          }};
}

}  // namespace depthscale::app
