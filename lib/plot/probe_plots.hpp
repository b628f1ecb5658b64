// Figures of the LLM hidden-state probe (docs/experiments.md §2) from the /probe/<model>/ groups of
// a sweep file (layout: probe/runner.hpp), drawn by `depthscale plot` beside the toy-sweep figures:
//   probe_layer_means           per-layer means of summary/ against relative depth l/L
//   probe_pca                   sites and the two reference trajectories on PC1 and PC2
//   probe_theta_middle_vs_depth ⟨θ⟩_{D,l} against the number of layers L
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace depthscale::plot::detail {

// Names of the /probe/<model> groups with status=complete (unfinished runs have only batches/).
std::vector<std::string> complete_probe_models(const store::Group& root);

// A complete /probe/<model> group and its attributes.
struct ProbeModel {
  std::string name, family;
  int64_t layers = 0, hidden = 0, sites = 0;  // num_layers, hidden_size, sites (0: unknown)
  store::Group group;
};
// The complete models with a usable num_layers, sorted by depth then name (the order of sizes);
// the others are left out with a warning naming them in `path`.
std::vector<ProbeModel> load_models(const store::Group& root, const std::string& path);

// Draws each probe figure through `attempt`, which runs it, counts it when it returns true and
// reports its PlotError / StoreError. Figures without data log why and return false. A non-empty
// `models` restricts them to those /probe/<model> names (the selection was checked before).
void probe_figures(const store::Group& root, const std::string& path,
                   const std::filesystem::path& dir, const std::string& gnuplot,
                   const std::function<void(const std::function<bool()>&)>& attempt,
                   const std::vector<std::string>& models = {});

}  // namespace depthscale::plot::detail
