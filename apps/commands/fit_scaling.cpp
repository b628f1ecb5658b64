// `depthscale fit-scaling DATA.csv`: the LLM scaling-law decomposition (tables, CSVs, figure).
#include <iostream>
#include <memory>
#include <stdexcept>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "fit/fit.hpp"
#include "plot/plot.hpp"

namespace depthscale::app {

void add_fit_scaling_options(CLI::App& cmd, FitScalingCommandOptions& options) {
  fit::FitScalingOptions& o = options.fit;
  cmd.add_option("data", o.data_path,
                 "scaling-law CSV (model_size, FLOP, loss, num_tokens, "
                 "d_model, n_layers)")
      ->required();
  cmd.add_option("--depth-offset", o.depth_offset,
                 "fit the depth term in (n_layers - offset); 2 excludes first and last layers")
      ->capture_default_str();
  cmd.add_option("--bootstrap", o.bootstrap, "bootstrap resamples over points (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--holdout", o.holdout, "repeats of the 80/20 held-out validation (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option_function<std::string>(
         "--exclude-top",
         [&o](const std::string& text) {
           try {
             o.exclude_top = fit::parse_int_list(text);
           } catch (const std::invalid_argument& e) {
             throw CLI::ValidationError("--exclude-top", e.what());
           }
         },
         "drop the K highest losses (default 40); a comma list (40,0,20,60) also runs the "
         "exclusion scan, the first value is the main fit")
      ->type_name("K[,K...]");
  auto* out = cmd.add_option("--out", o.out_dir,
                             "write the CSVs and figures into this folder (default: none written)");
  cmd.add_option("--shapes", o.shapes_path,
                 "CSV of real model shapes (d_model, n_layers; optional name, family) to set "
                 "beside the fit's optimum")
      ->check(CLI::ExistingFile);
  cmd.add_option("--seed", o.seed, "seed of the bootstrap and held-out splits")
      ->capture_default_str();
  add_format_option(cmd, options.formats)->needs(out);  // the figures exist only with --out
}

Command add_fit_scaling(CLI::App& app, const Environment& env) {
  auto opt = std::make_shared<FitScalingCommandOptions>();
  auto* cmd = app.add_subcommand("fit-scaling", "fit the LLM scaling-law decomposition");
  add_fit_scaling_options(*cmd, *opt);
  const std::string gnuplot = env.gnuplot;
  return {cmd, [opt, gnuplot]() -> int {
            const fit::FitScalingOptions& o = opt->fit;
            fit::fit_scaling_report(o, std::cout);
            if (o.out_dir.empty()) return kDone;
            plot::plot_scaling_parts(o.out_dir + "/parts.csv", o.out_dir, gnuplot);
            plot::plot_model_shapes(o.out_dir, gnuplot);
            if (!opt->formats.empty()) plot::draw_vector_formats(o.out_dir, opt->formats, gnuplot);
            return kDone;
          }};
}

}  // namespace depthscale::app
