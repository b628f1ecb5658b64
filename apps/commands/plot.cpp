// `depthscale plot FILE.h5 [--out DIR]`: PNG figures (and their CSVs and gnuplot scripts).
#include <memory>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "plot/plot.hpp"

namespace depthscale::app {

Command add_plot(CLI::App& app, const Environment& env) {
  auto opt = std::make_shared<plot::PlotOptions>();
  opt->gnuplot = env.gnuplot;
  auto* cmd = app.add_subcommand("plot", "PNG figures (and CSV tables) from a sweep file");
  cmd->add_option("file", opt->path, "sweep file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", opt->out_dir, "folder for the figures (default <file>-figures)");
  return {cmd, [opt]() -> int {
            plot::plot_sweep(*opt);
            return kDone;
          }};
}

}  // namespace depthscale::app
