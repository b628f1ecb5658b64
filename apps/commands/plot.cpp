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
  // plot_sweep logs its errors and says whether every figure was drawn (0) or not.
  return {cmd, [opt]() -> int { return plot::plot_sweep(*opt) == 0 ? kDone : kError; }};
}

}  // namespace depthscale::app
