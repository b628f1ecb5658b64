// `depthscale report FILE.h5... [--out DIR] [--scaling DATA.csv] [--shapes SHAPES.csv]`: one
// Markdown document with the study's published numbers beside ours, the α tables and the figures.
#include <iostream>
#include <memory>

#include "commands/commands.hpp"
#include "commands/exit_codes.hpp"
#include "report/report.hpp"

#ifndef DEPTHSCALE_PUBLISHED_VALUES
#define DEPTHSCALE_PUBLISHED_VALUES ""
#endif

namespace depthscale::app {

Command add_report(CLI::App& app, const Environment& env) {
  auto opt = std::make_shared<report::ReportOptions>();
  opt->gnuplot = env.gnuplot;
  opt->published = DEPTHSCALE_PUBLISHED_VALUES;
  auto* cmd = app.add_subcommand(
      "report", "a Markdown report: the study's published numbers beside ours, and the figures");
  cmd->add_option("files", opt->files, "sweep files (toy or probe)")->check(CLI::ExistingFile);
  cmd->add_option("--out", opt->out_dir, "folder for report.md and its figures")->required();
  cmd->add_option("--scaling", opt->scaling_csv,
                  "scaling-law CSV (the Chinchilla table): adds the §3 fit (ℓ and ℓ − 2)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--shapes", opt->shapes_csv,
                  "model shapes (d_model, n_layers) beside the fit's optimum (needs --scaling)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--published", opt->published, "the study's published values (YAML)")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  return {cmd, [opt, cmd]() -> int {
            if (opt->files.empty() && opt->scaling_csv.empty())
              throw CLI::ValidationError("report", "give sweep files and/or --scaling DATA.csv");
            if (!opt->shapes_csv.empty() && opt->scaling_csv.empty())
              throw CLI::ValidationError("--shapes", "needs --scaling DATA.csv");
            opt->command_line = "depthscale report";
            for (const auto& f : opt->files) opt->command_line += " " + f;
            opt->command_line += " --out " + opt->out_dir;
            if (!opt->scaling_csv.empty()) opt->command_line += " --scaling " + opt->scaling_csv;
            if (!opt->shapes_csv.empty()) opt->command_line += " --shapes " + opt->shapes_csv;
            const auto r = report::write_report(*opt);
            std::cout << r.document << ": " << r.figures << " figures, " << r.comparisons.size()
                      << " comparisons with the study\n";
            for (const auto& c : r.comparisons)
              std::cout << "  " << c.published.id << ": "
                        << (c.ours ? c.ours->where + ": " : std::string())
                        << report::verdict_text(c.verdict) << "\n";
            (void)cmd;
            return kDone;
          }};
}

}  // namespace depthscale::app
