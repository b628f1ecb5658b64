// scaling_parts.png for `depthscale fit-scaling --out DIR` (docs/experiments.md §3), from
// DIR/parts.csv: the study's leftover-loss figures (its Figs 2f, 9, 10, 12–14) — per data point the
// loss minus the other fitted terms, e.g. L − c_m/m^α_m − c_D/D^α_D − L0 against ℓ, with the fitted
// power law as a line — for depth, width and data, and predicted against observed loss.
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "plot/detail.hpp"
#include "plot/plot.hpp"

namespace depthscale::plot {

namespace fs = std::filesystem;
using detail::Csv;
using detail::Extent;
using detail::num;
using detail::PlotError;
using detail::quote;

namespace {

// The columns plotted, each under its short name, the name `depthscale fit-scaling` writes (its
// parts.csv keeps the data file's names: d_model, n_layers, num_tokens) or the one `depthscale
// reduce --decompose` writes for toy sweeps (width, depth).
struct Column {
  const char* name;
  const char* alias;
  const char* toy_alias;
};
constexpr std::array<Column, 9> kColumns = {{{"m", "d_model", "width"},
                                             {"l", "n_layers", "depth"},
                                             {"D", "num_tokens", nullptr},
                                             {"loss", nullptr, nullptr},
                                             {"depth_part", nullptr, nullptr},
                                             {"width_part", nullptr, nullptr},
                                             {"data_part", nullptr, nullptr},
                                             {"L0", nullptr, nullptr},
                                             {"predicted", nullptr, nullptr}}};

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    out.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

struct Parts {
  std::map<std::string, std::vector<double>> values;  // short column name → values, file order
  bool raw_depth = false;  // l came from n_layers or depth: the depth before any offset
  bool toy = false;        // the columns of a toy sweep's decomposition (width, depth, D)
};

Parts read_parts(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw PlotError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  std::string line;
  if (!std::getline(in, line)) throw PlotError(path + " is empty (expected a header line)");
  const auto header = split(line);
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < header.size(); ++i) index[header[i]] = i;
  Parts parts;
  std::map<std::string, std::size_t> where;  // short name → field
  for (const auto& c : kColumns) {
    if (index.count(c.name)) {
      where[c.name] = index[c.name];
    } else if (c.alias != nullptr && index.count(c.alias)) {
      where[c.name] = index[c.alias];
      parts.raw_depth = parts.raw_depth || std::string(c.name) == "l";
    } else if (c.toy_alias != nullptr && index.count(c.toy_alias)) {
      where[c.name] = index[c.toy_alias];
      parts.raw_depth = parts.raw_depth || std::string(c.name) == "l";
      parts.toy = true;
    } else {
      std::vector<std::string> need;
      for (const auto& k : kColumns) need.push_back(k.name);
      throw PlotError(fmt::format("{}:1: no column '{}'{}{} (need {})", path, c.name,
                                  c.alias ? fmt::format(" or '{}'", c.alias) : "",
                                  c.toy_alias ? fmt::format(" or '{}'", c.toy_alias) : "",
                                  detail::join(need, ",")));
    }
  }
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const auto cells = split(line);
    if (cells.size() != header.size()) {
      throw PlotError(fmt::format("{}:{}: {} fields where the header has {}", path, line_no,
                                  cells.size(), header.size()));
    }
    for (const auto& [name, field] : where) {
      const std::string& cell = cells[field];
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(cell.c_str(), &end);
      if (cell.empty() || end != cell.c_str() + cell.size() || errno == ERANGE) {
        throw PlotError(fmt::format("{}:{}: column '{}': '{}' is not a number", path, line_no,
                                    header[field], cell));
      }
      parts.values[name].push_back(v);
    }
  }
  if (parts.values["loss"].empty()) throw PlotError(path + " has a header but no rows");
  return parts;
}

// The depth offset of the fit (`depth_offset,<value>,` in the fit.csv that fit-scaling writes
// beside parts.csv); 0 when there is none.
double depth_offset_beside(const std::string& parts_csv) {
  std::ifstream in(fs::path(parts_csv).parent_path() / "fit.csv");
  std::string line;
  while (std::getline(in, line)) {
    const auto cells = split(line);
    if (cells.size() >= 2 && cells[0] == "depth_offset") {
      char* end = nullptr;
      const double v = std::strtod(cells[1].c_str(), &end);
      if (end != cells[1].c_str() && std::isfinite(v)) return v;
    }
  }
  return 0;
}

// A CSV that fit-scaling writes, as text cells by column name (shapes.csv, shapes_fit.csv).
struct TextTable {
  std::string path;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::size_t col(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    throw PlotError(fmt::format("{}:1: no column '{}'", path, name));
  }
  double number(std::size_t row, const std::string& name) const {
    const std::string& cell = rows[row][col(name)];
    char* end = nullptr;
    const double v = std::strtod(cell.c_str(), &end);
    if (cell.empty() || end != cell.c_str() + cell.size())
      throw PlotError(
          fmt::format("{}:{}: column '{}': '{}' is not a number", path, row + 2, name, cell));
    return v;
  }
};

TextTable read_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw PlotError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  TextTable t;
  t.path = path;
  std::string line;
  if (!std::getline(in, line)) throw PlotError(path + " is empty (expected a header line)");
  t.header = split(line);
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    t.rows.push_back(split(line));
    if (t.rows.back().size() != t.header.size())
      throw PlotError(fmt::format("{}:{}: {} fields where the header has {}", path, line_no,
                                  t.rows.back().size(), t.header.size()));
  }
  return t;
}

}  // namespace

void plot_scaling_parts(const std::string& parts_csv, const std::string& out_dir,
                        const std::string& gnuplot) {
  try {
    Parts read = read_parts(parts_csv);
    auto& parts = read.values;
    // The depth part is c_ℓ/(ℓ − offset)^α_ℓ: draw it against the depth the fit used.
    const double offset = read.raw_depth ? depth_offset_beside(parts_csv) : 0.0;
    for (double& l : parts["l"]) l -= offset;
    const std::string depth_label =
        offset != 0 ? fmt::format("depth used in the fit ℓ − {:g} (layers, log scale)", offset)
                    : "depth ℓ used in the fit (layers, log scale)";
    const std::string depth_term =
        offset != 0 ? fmt::format("c_ℓ/(ℓ − {:g})^{{α_ℓ}}", offset) : "c_ℓ/ℓ^{α_ℓ}";
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec)
      throw PlotError(fmt::format("cannot create the figure folder {}: {}", out_dir, ec.message()));

    // Leftover of a part: the observed loss minus every other fitted term, so the points scatter
    // about the fitted part (the line) by the fit's residuals.
    const std::size_t n = parts["loss"].size();
    double mre = 0;
    for (const char* part : {"depth", "width", "data"}) {
      auto& left = parts[std::string(part) + "_leftover"];
      for (std::size_t i = 0; i < n; ++i)
        left.push_back(parts["loss"][i] -
                       (parts["predicted"][i] - parts[std::string(part) + "_part"][i]));
    }
    for (std::size_t i = 0; i < n; ++i)
      mre += std::fabs(parts["predicted"][i] - parts["loss"][i]) / parts["loss"][i] / double(n);
    const std::vector<std::string> columns = {
        "m",          "l",         "D",  "loss",           "predicted",      "depth_part",
        "width_part", "data_part", "L0", "depth_leftover", "width_leftover", "data_leftover"};
    Csv csv(columns);
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<std::string> cells;
      for (const auto& c : columns) cells.push_back(num(parts[c][i]));
      csv.row(std::move(cells));
    }
    const double L0 = parts["L0"][0];
    const auto extent = [&](const char* c) {
      double lo = NAN, hi = NAN;
      for (double v : parts[c]) {
        if (!(v > 0) || !std::isfinite(v)) continue;
        lo = std::isnan(lo) ? v : std::min(lo, v);
        hi = std::isnan(hi) ? v : std::max(hi, v);
      }
      return std::make_pair(lo, hi);
    };

    const auto col = [&](const std::string& c) { return csv.col(c); };
    detail::PanelLayout layout;
    layout.panels = 4;
    layout.title_lines = 3;
    layout.key_rows = 0;
    std::string body = detail::multiplot_begin(detail::titled(
        "Scaling-law fit  L = c_m/m^{α_m} + " + depth_term + " + c_D/D^{α_D} + L_0",
        fmt::format("points: loss minus the other fitted terms ({} points); line: the fitted term"
                    "\nL_0 = {:.4g};  mean relative error of the fit {:.2f}%",
                    n, L0, 100 * mre)));
    body += "set logscale xy\nset format x '%g'\nset format y '%g'\n";
    body += "set style line 1 lc rgb '#0072B2' pt 7 ps 0.6\n";
    body += "set style line 2 lc rgb '#D55E00' lw 2\n";
    std::size_t index = 0;
    const auto panel = [&](const std::string& title, const std::string& xlabel,
                           const std::string& ylabel, const char* x, const std::string& part) {
      const std::string leftover = part + "_leftover", fitted = part + "_part";
      // A leftover at or below 0 (a residual larger than the term) has no place on a log axis.
      std::size_t hidden = 0;
      for (double v : parts[leftover]) hidden += !(v > 0);
      body += "set title " +
              quote(hidden ? fmt::format("{} ({} ≤ 0 hidden)", title, hidden) : title) + "\n";
      body += "set xlabel " + quote(xlabel) + "\nset ylabel " + quote(ylabel) + "\n";
      body += detail::panel_margins(layout, index++);
      const auto [xlo, xhi] = extent(x);
      auto [ylo, yhi] = extent(leftover.c_str());
      const auto [flo, fhi] = extent(fitted.c_str());
      ylo = std::isnan(ylo) ? flo : std::min(ylo, flo);
      yhi = std::isnan(yhi) ? fhi : std::max(yhi, fhi);
      body += detail::log_axis("x", xlo, xhi) + detail::log_axis("y", ylo, yhi);
      // The fitted term depends on x alone: `smooth unique` sorts it into a line.
      body += fmt::format(
          "plot 'scaling_parts.csv' skip 1 using {0}:(${1} > 0 ? ${1} : NaN) with points ls 1 "
          "notitle, '' skip 1 using {0}:{2} smooth unique with lines ls 2 notitle\n",
          col(x), col(leftover), col(fitted));
    };
    panel("depth:  L − c_m/m^{α_m} − c_D/D^{α_D} − L_0", depth_label, "leftover loss (log scale)",
          "l", "depth");
    panel("width:  L − " + depth_term + " − c_D/D^{α_D} − L_0",
          read.toy ? "student width m (log scale)" : "width m = d_{model} (log scale)",
          "leftover loss (log scale)", "m", "width");
    body += "set format x '%.0s%c'\n";  // 2G, 10G, 100G: token counts read at a glance
    panel("data:  L − c_m/m^{α_m} − " + depth_term + " − L_0",
          read.toy ? "inputs seen D = step × batch (log scale; k = 10^3, M = 10^6)"
                   : "training tokens D (log scale; G = 10^9)",
          "leftover loss (log scale)", "D", "data");
    // Predicted against observed on equal axes: points on the dashed diagonal are fitted exactly.
    const auto [olo, ohi] = extent("loss");
    const auto [plo, phi] = extent("predicted");
    const double lo = std::min(olo, plo), hi = std::max(ohi, phi);
    body += "set title 'predicted against observed loss (dashed: equal)'\n";
    body += "set format x '%g'\nset format y '%g'\n";
    body += detail::panel_margins(layout, index++);
    // Log axes, as the losses of a toy sweep span decades; the same tics on both.
    body += detail::log_axis("x", lo, hi) + detail::log_axis("y", lo, hi);
    body += "set xlabel 'observed loss L'\nset ylabel 'predicted loss L̂'\n";
    body += fmt::format(
        "plot 'scaling_parts.csv' skip 1 using {}:{} with points ls 1 notitle, x with lines lc "
        "rgb '#555555' dt 2 notitle\n",
        col("loss"), col("predicted"));
    body += "unset multiplot\n";
    detail::render(out_dir, "scaling_parts", csv, body, gnuplot);
  } catch (const PlotError&) {
    throw;
  } catch (const std::exception& e) {
    throw PlotError("plotting " + parts_csv + ": " + e.what());
  }
}

void plot_model_shapes(const std::string& dir, const std::string& gnuplot) {
  const std::string shapes_path = (fs::path(dir) / "shapes.csv").string();
  const std::string fits_path = (fs::path(dir) / "shapes_fit.csv").string();
  try {
    const TextTable shapes = read_table(shapes_path);
    const TextTable fits = read_table(fits_path);
    if (shapes.rows.empty()) throw PlotError(shapes_path + " has a header but no rows");
    const double offset = fits.rows.empty() ? 0.0 : fits.number(0, "depth_offset");
    // Points: the fitting data in grey, each family of the supplied shapes in its own colour.
    std::vector<std::string> groups;  // "fitting data", then the families (or "shapes")
    Csv csv({"kind", "series", "name", "d_model", "n_layers"});
    Extent x, y;
    const std::size_t c_src = shapes.col("source"), c_fam = shapes.col("family"),
                      c_name = shapes.col("name");
    std::size_t own_rows = 0;
    for (std::size_t r = 0; r < shapes.rows.size(); ++r) {
      const auto& row = shapes.rows[r];
      own_rows += row[c_src] == "fitting data";
      std::string series = row[c_src] == "fitting data" ? "fitting data" : row[c_fam];
      if (series.empty()) series = "shapes";
      if (std::find(groups.begin(), groups.end(), series) == groups.end()) groups.push_back(series);
      const double m = shapes.number(r, "d_model"), l = shapes.number(r, "n_layers");
      csv.row({"point", series, row[c_name], num(m), num(l)});
      x.add(m);
      y.add(l);
    }
    // Lines: each fitted slope, and the fit's optimum ℓ*(m), over the width range, as
    // ℓ = offset + exp(b)·m^slope.
    struct Line {
      std::string label;
      double slope, se;
      int n;
      bool optimum;
    };
    std::vector<Line> lines;
    const double m_lo = x.lo, m_hi = x.hi;
    for (std::size_t r = 0; r < fits.rows.size(); ++r) {
      const std::string label = fits.rows[r][fits.col("shapes")];
      if (label != "fitting data" && label != "shapes: all" && label != "the fit's optimum")
        continue;  // per-family slopes are in the CSV and the table, not drawn
      const double slope = fits.number(r, "slope"), b = fits.number(r, "log_intercept");
      if (!std::isfinite(slope) || !std::isfinite(b)) continue;
      const double se = fits.number(r, "slope_se");
      const int n = label == "the fit's optimum" ? 0 : static_cast<int>(fits.number(r, "n"));
      lines.push_back({label, slope, se, n, label == "the fit's optimum"});
      for (int k = 0; k <= 40; ++k) {
        const double m = m_lo * std::pow(m_hi / m_lo, k / 40.0);
        const double l = offset + std::exp(b) * std::pow(m, slope);
        csv.row({"line", label, "", num(m), num(l)});
        y.add(l);
      }
    }
    const std::string ell = offset != 0 ? fmt::format("ℓ − {:g}", offset) : "ℓ";
    std::string body = detail::multiplot_begin(detail::titled(
        "Depth against width of real model shapes (the study's Figs 11, 15)",
        fmt::format("lines (key: slope ± SE): least squares of log({}) on log m; the scaling "
                    "fit's optimum ℓ*(m) ∝ m^γ at fixed N = m²ℓ, γ = α_m/α_ℓ",
                    ell)));
    detail::PanelLayout layout;
    layout.panels = 1;
    layout.panel_titles = false;
    layout.key_rows = 4;
    body += detail::panel_margins(layout, 0);
    body += "set logscale xy\nset format x '%g'\nset format y '%g'\n";
    body += detail::log_axis("x", x.lo, x.hi) + detail::log_axis("y", y.lo, y.hi);
    body += "set xlabel 'width m = d_{model} (log scale)'\n";
    body += "set ylabel 'depth ℓ = number of layers (log scale)'\n";
    const int c_kind = csv.col("kind"), c_series = csv.col("series"), c_m = csv.col("d_model"),
              c_l = csv.col("n_layers");
    std::vector<std::string> plots;
    std::vector<detail::KeyEntry> key;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const bool own = groups[g] == "fitting data";
      const std::string style = own ? "with points pt 7 ps 0.6 lc rgb '#aaaaaa'"
                                    : fmt::format("with points pt {} ps 1.3 lc rgb '{}'",
                                                  5 + 2 * (g % 4), detail::category_color(g));
      plots.push_back(fmt::format(
          "'model_shapes.csv' skip 1 using {}:(strcol({})eq'point' && strcol({})eq{} ? ${} : NaN) "
          "{} notitle",
          c_m, c_kind, c_series, quote(groups[g]), c_l, style));
      key.push_back({style, (own ? fmt::format("Chinchilla fitting data ({} rows)", own_rows)
                                 : detail::literal(groups[g]))});
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto& ln = lines[i];
      const std::string style =
          ln.optimum ? "with lines lw 2.5 dt 2 lc rgb '#000000'"
                     : fmt::format("with lines lw 2 lc rgb '{}'",
                                   ln.label == "fitting data" ? "#666666" : "#D55E00");
      plots.push_back(fmt::format(
          "'model_shapes.csv' skip 1 using {}:(strcol({})eq'line' && strcol({})eq{} ? ${} : NaN) "
          "{} notitle",
          c_m, c_kind, c_series, quote(ln.label), c_l, style));
      const std::string what = ln.optimum                   ? "fit's optimum ℓ*(m), γ"
                               : ln.label == "fitting data" ? "Chinchilla shapes"
                                                            : "supplied shapes";
      key.push_back({style, fmt::format("{}: {:.3f} ± {:.3f}", what, ln.slope, ln.se)});
    }
    body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
    body += detail::key_strip(layout, key);
    body += "unset multiplot\n";
    detail::render(dir, "model_shapes", csv, body, gnuplot);
  } catch (const PlotError&) {
    throw;
  } catch (const std::exception& e) {
    throw PlotError("plotting " + shapes_path + ": " + e.what());
  }
}

}  // namespace depthscale::plot
