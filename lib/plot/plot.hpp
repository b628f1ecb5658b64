// Figures for depthscale: PNGs drawn by gnuplot from a sweep file (`depthscale plot`) and from the
// scaling-law fit's parts.csv (`depthscale fit-scaling --out DIR`). Every figure NAME.png comes
// with NAME.csv (exactly the numbers it shows) and NAME.gp (the gnuplot script, rerunnable in its
// folder with `gnuplot NAME.gp`), so users can check the numbers and restyle the figure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "error/error.hpp"

namespace depthscale::plot {

// Anything that stops a figure; the message names the file concerned.
class PlotError : public depthscale::Error {
 public:
  using depthscale::Error::Error;
};

// Which part of a file a figure shows (`depthscale plot --rho ... --model ...`). An empty list
// means the figure's default choice (e.g. the middle temperature, the lowest teacher replicate,
// every depth); a non-empty one restricts the figures to the listed values, and a value the file
// does not have is an error naming it. Values compare to the file's attributes to 1e-9 relative.
struct Selection {
  std::vector<double> rho, temperature;
  std::vector<int64_t> depth, teacher;
  std::vector<std::string> model;  // /probe/<model> names
  int inputs = 20;                 // grey per-input (per-token) lines in trajectory figures
  bool any() const {
    return !rho.empty() || !temperature.empty() || !depth.empty() || !teacher.empty() ||
           !model.empty();
  }
};

struct PlotOptions {
  // The sweep files: `path` (if set), then `paths`. Several files are drawn together in every
  // figure (a series or panel per file and ρ; labels name the file where two files share a
  // (ρ, T)), and then out_dir is required.
  std::string path;
  std::vector<std::string> paths;
  std::string out_dir;  // empty: <path without .h5>-figures (one file only)
  std::string gnuplot;  // the gnuplot program; empty: the one found at configure time, or PATH's
  Selection select;
  // Vector copies of every figure beside its PNG: "pdf", "svg" (empty: PNG only).
  std::vector<std::string> formats;
  std::vector<std::string> files() const;  // path, then paths
};

// Draws every figure the files have data for (docs/fits-and-figures.md, `depthscale plot`):
//   alpha_vs_temperature, alpha_vs_step, loss_vs_depth  (need /fits: `depthscale reduce` first),
//   alpha_vs_temperature_by_step  (fits at several steps and temperatures),
//   training_curves, hidden_angles, hidden_dh_angles, theta_vs_depth, test_loss_vs_step
//                                                        (need complete tasks / hidden probes),
//   test_loss_by_temperature  (a panel per temperature; one figure per (file, ρ), named
//                              test_loss_by_temperature_<file>_rho<ρ> when there are several).
//   probe_layer_means, probe_pca, probe_theta_middle_vs_depth  (need complete /probe/<model>
//   groups of an LLM probe run; probe_pca needs their theta, i.e. store_per_token: true; with
//   several probe files, each file's in a subfolder named after it).
// `select` restricts every figure to the chosen values before each makes its default choice; a
// selected value that no file has is a PlotError naming it and listing what each file has.
// Figures without data are skipped with a log line saying why. Returns the figures drawn; throws
// PlotError naming the file (unreadable or not a sweep, nothing to plot, gnuplot failed; a
// figure that fails is logged and the others are still drawn before the throw).
int plot_sweep(const PlotOptions& options);

// scaling_parts.png (+ .csv, .gp) in out_dir from the scaling fit's parts.csv (columns m, l, D,
// loss, depth_part, width_part, data_part, L0, predicted in any order, other columns ignored;
// m, l, D may also be called d_model, n_layers, num_tokens as `fit-scaling` writes them, and then
// l is shifted by the depth_offset found in the fit.csv beside parts.csv, if any): the depth,
// width and data parts against ℓ, m and D, and predicted against observed loss.
// Throws PlotError naming the file, line and column.
// model_shapes.png (+ .csv, .gp) in dir from the shapes.csv and shapes_fit.csv that
// `fit-scaling --out dir` writes: depth against width of the fitting data's shapes and of any
// supplied ones (--shapes), with the fitted slopes and the fit's implied optimum ℓ*(m) (the
// study's Figs 11 and 15). Throws PlotError naming the file.
void plot_model_shapes(const std::string& dir, const std::string& gnuplot = "");

void plot_scaling_parts(const std::string& parts_csv, const std::string& out_dir,
                        const std::string& gnuplot = "");

// The figures under `dir` (subfolders too: every NAME.gp with its NAME.png beside it) drawn again
// as NAME.pdf and/or NAME.svg (`formats`: "pdf", "svg") with the PNG's layout: the `--format` of
// plot, fit-scaling and reduce --decompose. Returns the files written; throws PlotError for an
// unknown format or a figure gnuplot did not draw.
int draw_vector_formats(const std::string& dir, const std::vector<std::string>& formats,
                        const std::string& gnuplot = "");

}  // namespace depthscale::plot
