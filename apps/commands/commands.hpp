// The `depthscale` subcommands, one file each under apps/commands/. Each add_* function declares
// its CLI11 options on a new subcommand and returns how to run it; main.cpp parses, runs the one
// given and maps what it throws to an exit code (exit_code_for).
#pragma once

#include <CLI/CLI.hpp>

#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "fit/fit.hpp"
#include "fit/reduce.hpp"

namespace depthscale::plot {
struct PlotOptions;
}

namespace depthscale::app {

// Settings the library takes as parameters, read from the environment once, here.
struct Environment {
  std::string log_level;  // DEPTHSCALE_LOG: an spdlog level name; empty: info
  std::string gnuplot;    // DEPTHSCALE_GNUPLOT: the gnuplot program; empty: the configured one
  // DEPTHSCALE_DEADLINE: the allocation's end as Unix seconds (the sbatch scripts set it); 0: none
  double deadline = 0;
  double progress_seconds = 10;  // DEPTHSCALE_PROGRESS_SECONDS: how often progress is logged
  std::string fail_task;         // DEPTHSCALE_FAIL_TASK=<key>[@step]: test hook (docs/commands.md)
  std::string
      slurm_templates;  // DEPTHSCALE_SLURM_TEMPLATES: sbatch templates; empty: <source>/slurm
  std::string mpirun = "mpirun";  // DEPTHSCALE_MPIRUN: the mpirun that `run -n N` starts
  // Set by `run -n N` for its ranks (launch.hpp): where rank 0 leaves the exit code, and the
  // launcher's host.
  std::string exit_file, launcher_host;
};
Environment read_environment();

struct Command {
  Command(CLI::App* cli_, std::function<int()> run_, std::string error_prefix_ = "")
      : cli(cli_), run(std::move(run_)), error_prefix(std::move(error_prefix_)) {}
  CLI::App* cli = nullptr;
  // Runs the command once its options are parsed; returns an exit code (exit_codes.hpp) or
  // throws.
  std::function<int()> run;
  // Printed before "error: " when `run` throws ("tokenize: "); "" for none.
  std::string error_prefix;
};

// For a path option that must not be empty: `--out ""` is refused (exit 2) rather than taken as
// "not given" and so the default results/<job name>.h5.
inline CLI::Validator non_empty_path() {
  return CLI::Validator(
      [](std::string& s) {
        return s.empty() ? std::string(
                               "an empty path: give a file name, or leave the option out "
                               "for its default")
                         : std::string();
      },
      "PATH", "non-empty path");
}

// `argv`: the whole command line, which `run -n N` hands to every rank it launches.
Command add_run(CLI::App& app, const Environment& env, const std::vector<std::string>& argv);
Command add_status(CLI::App& app);
Command add_reduce(CLI::App& app, const Environment& env);
Command add_plot(CLI::App& app, const Environment& env);
Command add_fit_scaling(CLI::App& app, const Environment& env);
Command add_tokenize(CLI::App& app);
Command add_submit(CLI::App& app, const Environment& env);
Command add_merge(CLI::App& app);
Command add_convert(CLI::App& app);
Command add_report(CLI::App& app, const Environment& env);

// `depthscale reduce`: the depth fits' options, or with --decompose the decomposition's.
struct ReduceCommandOptions {
  fit::ReduceOptions reduce;  // path and depth_offset serve both
  bool decompose = false;
  fit::DecomposeOptions decomposition;  // its path and depth_offset come from `reduce`
  bool no_lock = false;  // write /fits without the file's one-writer lock (store/lock.hpp)
  std::vector<std::string> formats;  // with --decompose: vector copies of the figures
};
void add_reduce_options(CLI::App& command, ReduceCommandOptions& options);

// `depthscale fit-scaling`: the fit's options and the vector formats of its figures.
struct FitScalingCommandOptions {
  fit::FitScalingOptions fit;
  std::vector<std::string> formats;  // with --out: vector copies of the figures
};

// The fit-scaling and plot options alone (apps/tests parse command lines with them).
void add_fit_scaling_options(CLI::App& command, FitScalingCommandOptions& options);
void add_plot_options(CLI::App& command, plot::PlotOptions& options);

// --format pdf,svg (repeat or comma list): vector copies of every figure beside its PNG, the one
// option of plot, fit-scaling and reduce --decompose (drawn by plot::draw_vector_formats).
CLI::Option* add_format_option(CLI::App& command, std::vector<std::string>& formats);

// The one mapping of exceptions to exit codes: depthscale::InputError → 2 (usage, invalid job
// file), any other exception → 1. Prints "<prefix>error: <what>" on stderr first.
int exit_code_for(const std::exception& e, const std::string& prefix = "");

}  // namespace depthscale::app
