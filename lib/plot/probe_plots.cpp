// The probe figures (probe_plots.hpp). Each reads only what it draws from /probe/<model>/: the
// O(L) summaries, and for the PCA scatter an evenly strided subsample of theta's rows, so a file
// of millions of sites plots in the time of a few thousand.
#include "plot/probe_plots.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "plot/detail.hpp"

namespace depthscale::plot::detail {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPcaPanels = 4;
constexpr std::size_t kMaxSites = 5000;  // scatter points per panel: enough to show the clusters

std::string label(const ProbeModel& m) {
  return literal(m.name) + fmt::format(" (L = {})", m.layers);
}

std::string model_color(std::size_t i, std::size_t n) {
  return n <= 7 ? category_color(i) : ramp_color(i, n);
}

// Up to k of the indices 0..n−1, evenly spread, first and last included.
std::vector<std::size_t> spread_indices(std::size_t n, std::size_t k) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < std::min(n, k); ++i) {
    out.push_back(n <= k ? i
                         : static_cast<std::size_t>(std::llround(static_cast<double>(i) * (n - 1) /
                                                                 static_cast<double>(k - 1))));
  }
  return out;
}

// ---- probe_layer_means -----------------------------------------------------------------------

struct MetricPanel {
  const char* dataset;  // summary/<dataset>, named as probe::metric_name
  const char* title;    // enhanced text
  const char* ylabel;
  bool log;
};
const MetricPanel kMetricPanels[] = {
    {"theta", "θ(h_l, h_{l+1})", "radians", false},
    {"theta_dh", "θ(Δh_l, Δh_{l+1})", "radians", false},
    {"angle_to_end", "θ(h_l, h_L)", "radians", false},
    {"cross_entropy", "cross-entropy of the readout of h_l", "nats (log scale)", true},
    {"norms", "‖h_l‖", "norm (log scale)", true},
};

bool layer_means(const std::vector<ProbeModel>& models, const std::string& path,
                 const fs::path& dir, const std::string& gnuplot) {
  Csv csv({"series", "model", "num_layers", "metric", "layer", "relative_depth", "mean"});
  struct Panel {
    const MetricPanel* metric;
    std::vector<std::size_t> series;  // models with this metric
    Extent y;
  };
  std::vector<Panel> panels;
  std::vector<bool> used(models.size(), false);
  for (const auto& metric : kMetricPanels) {
    Panel panel{&metric, {}, {}};
    for (std::size_t i = 0; i < models.size(); ++i) {
      const ProbeModel& m = models[i];
      if (!m.group.has("summary") || !m.group.open_group("summary").has(metric.dataset)) continue;
      const auto means = m.group.open_group("summary").read_double(metric.dataset);
      if (means.empty()) continue;
      for (std::size_t l = 0; l < means.size(); ++l) {
        // Column l of every metric belongs to layer l (probe/metrics.hpp), so l/L puts models
        // of different depth on one axis from 0 (the embedding) to 1 (the last block).
        csv.row({num(static_cast<long long>(i)), m.name, num(static_cast<long long>(m.layers)),
                 metric.dataset, num(static_cast<long long>(l)),
                 num(static_cast<double>(l) / static_cast<double>(m.layers)), num(means[l])});
        panel.y.add(means[l]);
      }
      panel.series.push_back(i);
      used[i] = true;
    }
    if (!panel.series.empty()) panels.push_back(panel);
  }
  if (panels.empty()) {
    spdlog::info("probe_layer_means skipped: no complete model under {}:/probe has summary/", path);
    return false;
  }

  PanelLayout layout;
  layout.panels = panels.size();
  layout.columns = panels.size() <= 3 ? panels.size() : 3;
  std::vector<KeyEntry> key;
  const auto style = [&](std::size_t i) {
    return "with linespoints lw 1.5 pt 7 ps 0.45 lc rgb '" + model_color(i, models.size()) + "'";
  };
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (used[i]) key.push_back({style(i), label(models[i])});
  }
  layout.key_rows = key.size() > 4 ? 2 : 1;
  std::string body = multiplot_begin(
      titled("Hidden-state metrics per layer, mean over prediction sites",
             "one line per model; layer l of L at relative depth l/L (0: embedding output, 1: "
             "last block)"));
  body += "set xlabel 'relative depth l/L'\nset xrange [-0.03:1.03]\nset xtics 0.25\n";
  const int c_series = csv.col("series"), c_metric = csv.col("metric"),
            c_x = csv.col("relative_depth"), c_y = csv.col("mean");
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const Panel& panel = panels[p];
    body += "set title " + quote(panel.metric->title) + "\n";
    body += "set ylabel " + quote(panel.metric->ylabel) + "\n";
    body += panel_margins(layout, p);
    if (panel.metric->log) {
      body += "set logscale y\nset format y '%g'\n" + log_axis("y", panel.y.lo, panel.y.hi);
    } else {
      body += "unset logscale y\nset format y '%g'\nset autoscale y\nset ytics autofreq\n";
    }
    std::vector<std::string> plots;
    for (std::size_t i : panel.series) {
      plots.push_back(fmt::format(
          "'probe_layer_means.csv' skip 1 using {x}:(${s}=={i} && strcol({m})eq'{metric}' ? "
          "${y} : NaN) {style} notitle",
          fmt::arg("x", c_x), fmt::arg("s", c_series), fmt::arg("i", i), fmt::arg("m", c_metric),
          fmt::arg("metric", panel.metric->dataset), fmt::arg("y", c_y),
          fmt::arg("style", style(i))));
    }
    body += "plot " + join(plots, ", \\\n     ") + "\n";
  }
  body += key_strip(layout, key);
  body += "unset multiplot\n";
  render(dir, "probe_layer_means", csv, body, gnuplot);
  return true;
}

// ---- probe_pca -------------------------------------------------------------------------------

bool pca_figure(const std::vector<ProbeModel>& models, const std::string& path, const fs::path& dir,
                const std::string& gnuplot) {
  struct Panel {
    const ProbeModel* model;
    std::vector<double> mean, c0, c1, early, even;
    double early_fraction = NAN, pc1 = NAN, pc2 = NAN;
  };
  std::vector<Panel> candidates;
  for (const auto& m : models) {
    if (!m.group.has("theta")) {
      spdlog::info(
          "probe_pca: {}:/probe/{} has no theta dataset (store_per_token was false), so no "
          "sites to project; model left out",
          path, m.name);
      continue;
    }
    if (!m.group.has("pca") || !m.group.open_group("pca").has("components") ||
        !m.group.open_group("pca").has("mean")) {
      spdlog::info(
          "probe_pca: {}:/probe/{}/pca has no components (fewer than 2 sites); model "
          "left out",
          path, m.name);
      continue;
    }
    const store::Group pg = m.group.open_group("pca");
    Panel p;
    p.model = &m;
    std::vector<hsize_t> dims;
    const auto comps = pg.read_double("components", &dims);
    p.mean = pg.read_double("mean");
    const std::size_t L = p.mean.size();
    if (L < 2 || dims.size() != 2 || dims[0] < 2 || dims[1] != L) {
      spdlog::warn(
          "probe_pca: {}:/probe/{}/pca: components and mean disagree in shape; model "
          "left out",
          path, m.name);
      continue;
    }
    p.c0.assign(comps.begin(), comps.begin() + static_cast<std::ptrdiff_t>(L));
    p.c1.assign(comps.begin() + static_cast<std::ptrdiff_t>(L),
                comps.begin() + static_cast<std::ptrdiff_t>(2 * L));
    if (pg.has("early_stop_reference")) p.early = pg.read_double("early_stop_reference");
    if (pg.has("even_reference")) p.even = pg.read_double("even_reference");
    if (pg.has("explained")) {
      const auto ratio = pg.read_double("explained");
      if (ratio.size() >= 2) {
        p.pc1 = ratio[0];
        p.pc2 = ratio[1];
      }
    }
    if (pg.has_attr("early_stop_fraction"))
      p.early_fraction = pg.attr_double("early_stop_fraction");
    candidates.push_back(std::move(p));
  }
  if (candidates.empty()) {
    spdlog::info("probe_pca skipped: no complete model under {}:/probe has theta and pca/", path);
    return false;
  }
  std::vector<Panel> panels;
  for (std::size_t i : spread_indices(candidates.size(), kMaxPcaPanels)) {
    panels.push_back(std::move(candidates[i]));
  }

  Csv csv({"panel", "model", "kind", "row", "pc1", "pc2"});
  const auto project = [](const float* theta, const std::vector<double>& mean,
                          const std::vector<double>& c) {
    double s = 0;
    for (std::size_t l = 0; l < mean.size(); ++l)
      s += (static_cast<double>(theta[l]) - mean[l]) * c[l];
    return s;
  };
  const auto project_ref = [](const std::vector<double>& ref, const std::vector<double>& mean,
                              const std::vector<double>& c) {
    double s = 0;
    for (std::size_t l = 0; l < mean.size(); ++l) s += (ref[l] - mean[l]) * c[l];
    return s;
  };
  std::size_t shown_min = SIZE_MAX, shown_max = 0;
  std::vector<std::string> titles;
  std::vector<bool> has_early(panels.size()), has_even(panels.size());
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const Panel& panel = panels[p];
    const ProbeModel& m = *panel.model;
    const std::size_t L = panel.mean.size();
    const store::StridedRows sampled = store::read_strided_rows(m.group, "theta", kMaxSites);
    const auto& theta = sampled.data;
    const hsize_t rows = sampled.rows, cols = sampled.cols, stride = sampled.stride;
    if (cols != L) {
      throw PlotError(fmt::format("{}:/probe/{}/theta has {} columns but pca/mean has {}", path,
                                  m.name, cols, L));
    }
    std::size_t shown = 0;
    for (hsize_t r = 0; r < rows; ++r) {
      const float* t = theta.data() + r * L;
      if (!std::all_of(t, t + L, [](float v) { return std::isfinite(v); })) continue;
      csv.row({num(static_cast<long long>(p)), m.name, "site",
               num(static_cast<long long>(r * stride)), num(project(t, panel.mean, panel.c0)),
               num(project(t, panel.mean, panel.c1))});
      ++shown;
    }
    shown_min = std::min(shown_min, shown);
    shown_max = std::max(shown_max, shown);
    for (const auto& [ref, kind, flag] :
         {std::make_tuple(&panel.early, "early_stop_reference", &has_early),
          std::make_tuple(&panel.even, "even_reference", &has_even)}) {
      if (ref->size() != L) continue;
      csv.row({num(static_cast<long long>(p)), m.name, kind, "",
               num(project_ref(*ref, panel.mean, panel.c0)),
               num(project_ref(*ref, panel.mean, panel.c1))});
      (*flag)[p] = true;
    }
    // Short enough for a half-width panel: name, early-stop share, explained variance.
    std::string title = literal(m.name);
    if (std::isfinite(panel.early_fraction)) {
      title += fmt::format(": {:.1f}% early stop", 100 * panel.early_fraction);
    }
    if (std::isfinite(panel.pc1)) {
      title += fmt::format("; PC1 {:.0f}%, PC2 {:.0f}%", 100 * panel.pc1, 100 * panel.pc2);
    }
    titles.push_back(title);
  }

  PanelLayout layout;
  layout.panels = panels.size();
  layout.columns = panels.size() <= 2 ? panels.size() : 2;  // room for the long panel titles
  layout.key_rows = 2;  // gnuplot wraps these three long entries onto two rows
  layout.title_lines = 3;
  const std::string sites = shown_min == shown_max ? fmt::format("{}", shown_max)
                                                   : fmt::format("{}–{}", shown_min, shown_max);
  std::string body = multiplot_begin(titled(
      "PCA of the per-site θ vectors θ_l = θ(h_l, h_{l+1}), l = 0..L−1",
      fmt::format("{} sites per model (evenly spaced rows) and the two reference trajectories, "
                  "projected as (θ − mean)·PC;\npanel titles: share of sites nearer the "
                  "early-stop reference, variance explained by PC1 and PC2",
                  sites)));
  body += "set xlabel 'PC1'\nset ylabel 'PC2'\n";
  body += "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n";
  const int c_panel = csv.col("panel"), c_kind = csv.col("kind"), c_x = csv.col("pc1"),
            c_y = csv.col("pc2");
  const std::string site_style = "with points pt 7 ps 0.35 lc rgb '#B00072B2'";
  const std::string early_style = "with points pt 5 ps 2.2 lc rgb '#D55E00'";
  const std::string even_style = "with points pt 9 ps 2.4 lc rgb '#009E73'";
  for (std::size_t p = 0; p < panels.size(); ++p) {
    body += "set title " + quote(titles[p]) + "\n";
    body += panel_margins(layout, p);
    const auto sel = [&](const char* kind) {
      return fmt::format("${}=={} && strcol({})eq'{}'", c_panel, p, c_kind, kind);
    };
    std::vector<std::string> plots;
    plots.push_back(fmt::format("'probe_pca.csv' skip 1 using {}:({} ? ${} : NaN) {} notitle", c_x,
                                sel("site"), c_y, site_style));
    for (const auto& [kind, style, text, on] :
         {std::make_tuple("early_stop_reference", early_style, "early stop", bool(has_early[p])),
          std::make_tuple("even_reference", even_style, "even", bool(has_even[p]))}) {
      if (!on) continue;
      plots.push_back(fmt::format("'probe_pca.csv' skip 1 using {}:({} ? ${} : NaN) {} notitle",
                                  c_x, sel(kind), c_y, style));
      plots.push_back(fmt::format(
          "'probe_pca.csv' skip 1 using {}:({} ? ${} : NaN):('{}') with labels left offset "
          "char 1.3,0.6 font ',10' tc rgb '#222222' notitle",
          c_x, sel(kind), c_y, text));
    }
    body += "plot " + join(plots, ", \\\n     ") + "\n";
  }
  // Smaller markers in the key than on the panels, so its rows stay compact.
  body += key_strip(layout,
                    {{"with points pt 7 ps 0.8 lc rgb '#0072B2'", "sites"},
                     {"with points pt 5 ps 1.3 lc rgb '#D55E00'", "early-stop reference"},
                     {"with points pt 9 ps 1.4 lc rgb '#009E73'", "even-in-the-middle reference"}});
  body += "unset multiplot\n";
  render(dir, "probe_pca", csv, body, gnuplot);
  return true;
}

// ---- probe_theta_middle_vs_depth -------------------------------------------------------------

bool theta_middle_vs_depth(const std::vector<ProbeModel>& models, const std::string& path,
                           const fs::path& dir, const std::string& gnuplot) {
  Csv csv({"series", "model", "family", "num_layers", "hidden_size", "sites", "theta_middle_mean"});
  std::map<std::string, std::size_t> families;  // family → series (colour)
  struct Point {
    std::string model;
    double layers, theta;
    std::size_t series;
  };
  std::vector<Point> points;
  Extent x;
  for (const auto& m : models) {
    if (!m.group.has("summary") || !m.group.open_group("summary").has_attr("theta_middle_mean")) {
      spdlog::info(
          "probe_theta_middle_vs_depth: {}:/probe/{}/summary has no theta_middle_mean; "
          "model left out",
          path, m.name);
      continue;
    }
    const double v = m.group.open_group("summary").attr_double("theta_middle_mean");
    if (!std::isfinite(v)) {
      spdlog::info(
          "probe_theta_middle_vs_depth: {}:/probe/{} has no middle layers (L < 3) or no "
          "sites; model left out",
          path, m.name);
      continue;
    }
    const std::string family = m.family.empty() ? "unknown family" : m.family;
    const std::size_t series = families.emplace(family, families.size()).first->second;
    csv.row({num(static_cast<long long>(series)), m.name, family,
             num(static_cast<long long>(m.layers)), num(static_cast<long long>(m.hidden)),
             num(static_cast<long long>(m.sites)), num(v)});
    x.add(static_cast<double>(m.layers));
    points.push_back({m.name, static_cast<double>(m.layers), v, series});
  }
  if (csv.rows() == 0) {
    spdlog::info(
        "probe_theta_middle_vs_depth skipped: no complete model under {}:/probe has a "
        "finite summary theta_middle_mean",
        path);
    return false;
  }

  PanelLayout layout;
  layout.panel_titles = false;
  layout.key_rows = families.size() + 1 > 2 ? 2 : 1;  // the families and the 1/L guide
  Extent y;
  for (const auto& p : points) y.add(p.theta);
  std::string body = multiplot_begin(
      titled("Mean angle ⟨θ⟩_{D,l} between consecutive hidden states against model depth",
             "averaged over prediction sites and the middle layers l = 1..L−2;  lines: fitted "
             "power law per family;  dashed: 1/L"));
  body += panel_margins(layout, 0);
  body += "set xlabel 'number of layers L (log scale)'\n";
  body += "set ylabel '⟨θ⟩_{D,l}  (radians, log scale)'\n";
  body += "set logscale xy\nset format x '%g'\nset format y '%g'\n";
  // Extra room on the right for the name labels written beside the points.
  body += log_axis("x", x.lo / 1.15, x.hi * 1.5);
  body += log_axis("y", y.lo, y.hi);  // the fitted lines and the guide do not stretch it
  body += "set offsets 0, 0, graph 0.12, graph 0.12\n";
  const int c_series = csv.col("series"), c_model = csv.col("model"), c_l = csv.col("num_layers"),
            c_y = csv.col("theta_middle_mean");
  std::vector<std::string> plots;
  std::vector<KeyEntry> key;
  for (const auto& [family, series] : families) {
    const std::string style =
        "with points pt 7 ps 1.6 lc rgb '" + model_color(series, families.size()) + "'";
    plots.push_back(fmt::format(
        "'probe_theta_middle_vs_depth.csv' skip 1 using {}:(${}=={} ? ${} : NaN) {} notitle", c_l,
        c_series, series, c_y, style));
    // The claim is the exponent: ⟨θ⟩ ∝ L^slope, slope ≈ −1, fitted per family across sizes.
    std::vector<double> xs, ys;
    for (const auto& p : points)
      if (p.series == series) xs.push_back(p.layers), ys.push_back(p.theta);
    const auto fit = detail::log_log_slope(xs, ys);
    std::string label = family;
    if (std::isfinite(fit.slope)) {
      const std::string line =
          "with lines lw 2 lc rgb '" + model_color(series, families.size()) + "'";
      plots.push_back(fmt::format("{} * x**({}) {} notitle", num(std::exp(fit.log_intercept)),
                                  num(fit.slope), line));
      label += std::isfinite(fit.se) ? fmt::format(": slope {:.2f} ± {:.2f}", fit.slope, fit.se)
                                     : fmt::format(": slope {:.2f}", fit.slope);
    }
    key.push_back({style, literal(label)});
  }
  plots.push_back(fmt::format("{} / x with lines lw 1.2 dt 2 lc rgb '#777777' notitle",
                              num(points[0].layers * points[0].theta)));
  key.push_back({"with lines lw 1.2 dt 2 lc rgb '#777777'", "1/L"});
  // Names beside their points, as plain text (noenhanced: names carry '_' and '.'). Models of
  // about the same depth and angle (e.g. two 24-layer models) would print their names on top of
  // each other, so each such name is moved one line below the one before.
  double y_lo = points[0].theta, y_hi = points[0].theta;
  for (const auto& p : points) {
    y_lo = std::min(y_lo, p.theta);
    y_hi = std::max(y_hi, p.theta);
  }
  const double near_y = 0.04 * std::max(y_hi - y_lo, 0.05 * std::abs(y_hi));
  std::vector<int> line(points.size(), 0);
  for (std::size_t i = 0; i < points.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (std::abs(std::log(points[i].layers / points[j].layers)) < 0.08 &&
          std::abs(points[i].theta - points[j].theta) < near_y) {
        line[i] = std::max(line[i], line[j] + 1);
      }
    }
    plots.push_back(
        fmt::format("'probe_theta_middle_vs_depth.csv' skip 1 using {}:(strcol({})eq{} ? ${} : "
                    "NaN):(strcol({}))"
                    " with labels left offset char 1,{} font ',10' noenhanced notitle",
                    c_l, c_model, quote(points[i].model), c_y, c_model, num(0.5 - 1.1 * line[i])));
  }
  body += "plot " + join(plots, ", \\\n     ") + "\n";
  body += key_strip(layout, key);
  body += "unset multiplot\n";
  render(dir, "probe_theta_middle_vs_depth", csv, body, gnuplot);
  return true;
}

}  // namespace

std::vector<ProbeModel> load_models(const store::Group& root, const std::string& path) {
  std::vector<ProbeModel> out;
  if (!root.has("probe")) return out;
  const store::Group probe = root.open_group("probe");
  for (const auto& name : complete_probe_models(root)) {
    try {
      ProbeModel m;
      m.name = name;
      m.group = probe.open_group(name);
      if (!m.group.has_attr("num_layers") || m.group.attr_int("num_layers") < 1) {
        spdlog::warn("{}:/probe/{} has no num_layers attribute; left out of the probe figures",
                     path, name);
        continue;
      }
      m.layers = m.group.attr_int("num_layers");
      if (m.group.has_attr("family") && m.group.attr_is_string("family")) {
        m.family = m.group.attr_string("family");
      }
      if (m.group.has_attr("hidden_size")) m.hidden = m.group.attr_int("hidden_size");
      if (m.group.has_attr("sites")) m.sites = m.group.attr_int("sites");
      out.push_back(std::move(m));
    } catch (const store::StoreError& e) {
      spdlog::warn("{}:/probe/{} is unreadable and left out of the probe figures: {}", path, name,
                   e.what());
    }
  }
  std::sort(out.begin(), out.end(), [](const ProbeModel& a, const ProbeModel& b) {
    return a.layers != b.layers ? a.layers < b.layers : a.name < b.name;
  });
  return out;
}

std::vector<std::string> complete_probe_models(const store::Group& root) {
  std::vector<std::string> out;
  if (!root.has("probe")) return out;
  const store::Group probe = root.open_group("probe");
  for (const auto& name : probe.children()) {
    try {
      const store::Group g = probe.open_group(name);
      // status is written last: anything else is still running or failed.
      if (g.has_attr("status") && g.attr_is_string("status") &&
          g.attr_string("status") == "complete") {
        out.push_back(name);
      }
    } catch (const store::StoreError&) {
      // Not a group (or unreadable): not a finished model.
    }
  }
  return out;
}

void probe_figures(const store::Group& root, const std::string& path, const fs::path& dir,
                   const std::string& gnuplot,
                   const std::function<void(const std::function<bool()>&)>& attempt,
                   const std::vector<std::string>& selected) {
  std::vector<ProbeModel> models = load_models(root, path);
  if (!selected.empty()) {
    models.erase(std::remove_if(models.begin(), models.end(),
                                [&](const ProbeModel& m) {
                                  return std::find(selected.begin(), selected.end(), m.name) ==
                                         selected.end();
                                }),
                 models.end());
  }
  if (models.empty()) {
    spdlog::info("{} has no usable complete /probe/<model> groups: probe figures skipped", path);
    return;
  }
  attempt([&] { return layer_means(models, path, dir, gnuplot); });
  attempt([&] { return pca_figure(models, path, dir, gnuplot); });
  attempt([&] { return theta_middle_vs_depth(models, path, dir, gnuplot); });
}

}  // namespace depthscale::plot::detail
