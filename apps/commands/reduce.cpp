// `depthscale reduce FILE.h5`: depth fits per group and step into /fits; prints the α table.
// `depthscale reduce FILE.h5 --decompose`: the study's width × depth × data decomposition per cell
// of a toy sweep (fit/reduce.hpp), with CSVs and the leftover-loss figures per cell.
#include <cstdio>
#include <iostream>
#include <memory>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "fit/reduce.hpp"
#include "plot/plot.hpp"
#include "store/lock.hpp"

namespace depthscale::app {

void add_reduce_options(CLI::App& cmd, ReduceCommandOptions& o) {
  cmd.add_option("file", o.reduce.path, "sweep file")->required()->check(CLI::ExistingFile);
  cmd.add_option("--depth-offset", o.reduce.depth_offset, "fit (depth - offset)");
  auto* floor =
      cmd.add_option("--L0-floor", o.reduce.L0_floor,
                     "where a free fit's L0 falls below this (e.g. 0), refit with L0 held at it; "
                     "the table and /fits/<group>/L0_held say which");
  auto* decompose = cmd.add_flag(
      "--decompose", o.decompose,
      "instead of the depth fits: fit L = c_m/m^alpha_m + c_l/l^alpha_l + c_D/D^alpha_D + L0 "
      "across student width m, depth l and data D = step * train.batch, separately per cell "
      "(teacher structure, teacher depth, temperature; replicates averaged); CSVs and figures "
      "per cell in --out, nothing written to the file");
  floor->excludes(decompose);
  cmd.add_flag("--no-lock", o.no_lock,
               "write /fits without the file's lock FILE.h5.lock (only for file systems that "
               "cannot lock, and only when nothing else writes the file)")
      ->excludes(decompose);
  auto only = [decompose](CLI::Option* opt) { opt->needs(decompose); };
  only(cmd.add_option("--min-step", o.decomposition.min_step,
                      "with --decompose: skip evaluated steps below this (default 1: only step 0)")
           ->check(CLI::PositiveNumber));
  only(cmd.add_option("--bootstrap", o.decomposition.bootstrap,
                      "with --decompose: bootstrap resamples over points per cell (0: none)")
           ->check(CLI::NonNegativeNumber));
  only(cmd.add_option("--holdout", o.decomposition.holdout,
                      "with --decompose: repeats of the 80/20 held-out validation (0: none)")
           ->check(CLI::NonNegativeNumber));
  only(cmd.add_option("--out", o.decomposition.out_dir,
                      "with --decompose: output folder (default: <file stem>_decompose/ beside "
                      "the file), one subfolder per cell"));
  only(cmd.add_option("--seed", o.decomposition.seed,
                      "with --decompose: seed of the bootstrap and held-out splits"));
  only(add_format_option(cmd, o.formats));
}

Command add_reduce(CLI::App& app, const Environment& env) {
  auto opt = std::make_shared<ReduceCommandOptions>();
  auto* cmd = app.add_subcommand(
      "reduce", "fit L(depth) per group and step into /fits (--decompose: width x depth x data)");
  add_reduce_options(*cmd, *opt);
  const std::string gnuplot = env.gnuplot;
  return {cmd, [opt, gnuplot]() -> int {
            if (!opt->decompose) {
              // It writes /fits: the one-writer lock, refused while a run writes the file.
              store::WriterLock lock;
              if (!opt->no_lock) lock = store::WriterLock::acquire(opt->reduce.path, "reduce");
              std::fputs(fit::reduce_sweep(opt->reduce).c_str(), stdout);
              return kDone;
            }
            fit::DecomposeOptions d = opt->decomposition;
            d.path = opt->reduce.path;
            d.depth_offset = opt->reduce.depth_offset;
            const fit::DecomposeResult r = fit::decompose_sweep(d, std::cout);
            for (const auto& cell : r.cells) {
              plot::plot_scaling_parts(cell.dir + "/parts.csv", cell.dir, gnuplot);
              // Per cell: the folder may hold figures of cells this run did not fit.
              if (!opt->formats.empty()) plot::draw_vector_formats(cell.dir, opt->formats, gnuplot);
            }
            std::cout << "figures: <cell>/scaling_parts.png";
            for (const auto& f : opt->formats) std::cout << ", <cell>/scaling_parts." << f;
            std::cout << "\n";
            return kDone;
          }};
}

}  // namespace depthscale::app
