// `depthscale plot FILE.h5... [--out DIR] [--rho R,...] [--temperature T,...] [--depth L,...]
// [--teacher K,...] [--model NAME,...] [--inputs N]`: PNG figures (and their CSVs and gnuplot
// scripts) of one sweep file or of several drawn together.
#include <memory>
#include <string>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "plot/plot.hpp"

namespace depthscale::app {

namespace {

// A repeatable option that also takes a comma list: --rho 0 --rho 1, or --rho 0,1. One value per
// occurrence, so a file name after it stays a file name.
template <typename T>
CLI::Option* add_list(CLI::App& cmd, const std::string& name, std::vector<T>& values,
                      const std::string& help) {
  return cmd.add_option(name, values, help)->delimiter(',')->allow_extra_args(false);
}

}  // namespace

CLI::Option* add_format_option(CLI::App& cmd, std::vector<std::string>& formats) {
  return add_list(cmd, "--format", formats,
                  "vector copies of every figure beside its PNG: pdf, svg (repeat or comma list)")
      ->type_name("pdf|svg[,...]")
      ->check(CLI::IsMember({"pdf", "svg"}));
}

void add_plot_options(CLI::App& cmd, plot::PlotOptions& o) {
  cmd.add_option("files", o.paths,
                 "sweep file(s); several are drawn together in each figure (--out required)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd.add_option("--out", o.out_dir,
                 "folder for the figures (default <file>-figures; required with several files)");
  add_list(cmd, "--rho", o.select.rho, "only these ρ (repeat or comma list)")
      ->type_name("R[,R...]");
  add_list(cmd, "--temperature", o.select.temperature,
           "only these temperatures; figures of one temperature take the middle one of these")
      ->type_name("T[,T...]");
  add_list(cmd, "--depth", o.select.depth, "only these student depths")
      ->type_name("L[,L...]")
      ->check(CLI::PositiveNumber);
  add_list(cmd, "--teacher", o.select.teacher,
           "only these teacher replicates; figures of one replicate take the lowest of these")
      ->type_name("K[,K...]")
      ->check(CLI::NonNegativeNumber);
  add_list(cmd, "--model", o.select.model, "only these probed models (/probe/<model> names)")
      ->type_name("NAME[,NAME...]");
  add_format_option(cmd, o.formats);
  cmd.add_option("--inputs", o.select.inputs,
                 "grey per-input (per-token) lines in the trajectory figures")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.callback([&o] {
    if (o.paths.size() > 1 && o.out_dir.empty())
      throw CLI::ValidationError("--out",
                                 "several sweep files are drawn into one folder: give it with "
                                 "--out DIR");
  });
}

Command add_plot(CLI::App& app, const Environment& env) {
  auto opt = std::make_shared<plot::PlotOptions>();
  opt->gnuplot = env.gnuplot;
  auto* cmd = app.add_subcommand("plot", "PNG figures (and CSV tables) from sweep files");
  add_plot_options(*cmd, *opt);
  return {cmd, [opt]() -> int {
            plot::plot_sweep(*opt);
            return kDone;
          }};
}

}  // namespace depthscale::app
