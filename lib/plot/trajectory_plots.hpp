// Trajectories of single inputs: the angle between consecutive hidden states against the layer,
// one thin grey line per probe input (or LLM prediction site) under the bold mean over all of
// them, as the study draws them. Drawn by `depthscale plot` beside the other figures:
//   hidden_trajectories, hidden_dh_trajectories   θ(h_l, h_{l+1}) and θ(Δh_l, Δh_{l+1}) of one
//       student per ρ (the study's Figs 5a, 5c)
//   hidden_grid, hidden_dh_grid   the same for ρ (rows) × every student depth and the teacher
//       (columns) (Figs 21, 22)
//   probe_token_trajectories      θ and θ_dh per token of one LLM (Figs 2a, 2e; needs the per-site
//       arrays of store_per_token: true)
//
// The choice (Selection): a non-empty list restricts the candidates to its values, a value the
// file does not have is a PlotError naming it and the file; then the default rule picks within
// what is left: per ρ (up to four, spread over the range) the middle temperature and the lowest
// teacher replicate; the deepest student for the trajectories, up to six depths spread over the
// range for the grid; the deepest model with per-site data for the LLM. Selection::inputs grey
// lines per panel: the first rows of the dataset, read alone.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "plot/plot.hpp"
#include "store/store.hpp"

namespace depthscale::plot::detail {

// Draws each trajectory figure the file has data for through `attempt` (as probe_figures does):
// the toy ones when /tasks has complete tasks with hidden-state probes, the LLM one when /probe
// has complete models. Figures without data log why and are not counted. `axes` (teacher groups
// K, teacher depth ℓ*, width m) keeps the tasks with exactly those attributes (0: the attribute
// is absent) and the teachers of that K and ℓ*: one combination of a sweep's axes beyond the study.
void trajectory_figures(const store::Group& root, const std::string& path,
                        const std::filesystem::path& dir, const std::string& gnuplot,
                        const Selection& select,
                        const std::function<void(const std::function<bool()>&)>& attempt,
                        const std::array<int64_t, 3>& axes = {});

}  // namespace depthscale::plot::detail
