// The trajectory figures (trajectory_plots.hpp): per-input angles as grey lines under their mean.
// The toy figures read the small /tasks/<key>/hidden and /teachers/<key>/hidden arrays whole (the
// mean is over every input); the LLM figure reads only the first rows of /probe/<model>/theta (of
// possibly millions) and takes the mean over all sites from summary/.
#include "plot/trajectory_plots.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "plot/detail.hpp"
#include "plot/probe_plots.hpp"
#include "store/trust.hpp"

namespace depthscale::plot::detail {

namespace fs = std::filesystem;

namespace {

// ρ and T are grid parameters a job may leave out; kAbsent marks that (both are ≥ 0 otherwise).
constexpr double kAbsent = -1.0;
constexpr std::size_t kMaxRhos = 4;        // panels (trajectories) or rows (grid)
constexpr std::size_t kMaxGridDepths = 6;  // student columns of the grid, the teacher's beside them
constexpr std::size_t kMaxModels = 4;      // rows of the LLM figure

// Semi-transparent grey, so that where many inputs agree the line darkens.
const char* const kGreyStyle = "with lines lw 1 lc rgb '#60505050'";
const char* const kGreyPointStyle = "with points pt 7 ps 0.5 lc rgb '#60505050'";
const char* const kMeanColor = "#D55E00";

std::string mean_style(double lw = 2.5) {
  return fmt::format("with linespoints lw {} pt 7 ps 0.55 lc rgb '{}'", lw, kMeanColor);
}

// Selection values compare to the file's to 1e-9 relative (plot.hpp).
bool same(double a, double b) {
  return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b));
}
bool wanted(const std::vector<double>& list, double v) {
  return list.empty() ||
         std::any_of(list.begin(), list.end(), [&](double x) { return same(x, v); });
}
bool wanted(const std::vector<int64_t>& list, int64_t v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

std::string fmt_param(double v) {
  return fmt::format("{:.3g}", v);
}
// A grid parameter in a CSV cell: empty where the grid does not have it.
std::string param(double v) {
  return v == kAbsent ? std::string() : num(v);
}
std::string integer(int64_t v) {
  return num(static_cast<long long>(v));
}

// x tics at whole layers: every layer, or every 2nd, 5th, 10th, ... so that at most eight show.
std::string layer_axis(int64_t first, int64_t last) {
  int64_t step = 1;
  for (int64_t scale = 1; (last - first) / step + 1 > 8; scale *= 10) {
    for (int64_t m : {1, 2, 5}) {
      step = m * scale;
      if ((last - first) / step + 1 <= 8) break;
    }
  }
  return fmt::format("set xrange [{}:{}]\nset xtics {}\nset format x '%g'\n",
                     num(static_cast<double>(first) - 0.5), num(static_cast<double>(last) + 0.5),
                     step);
}

// Where a panel's lines lie in the CSV: rows [first, last] (counted after the header) per line.
// Each line is one contiguous block of rows, so the script plots it with `every ::first::last`:
// gnuplot stops reading at the block's end (a filter over every row would read the whole table
// once per line), and each line is a plot of its own (one plot would join an input's last layer
// to the next one's first).
struct Lines {
  std::vector<std::pair<std::size_t, std::size_t>> grey;  // the single inputs, in order
  std::optional<std::pair<std::size_t, std::size_t>> mean;
};
// Appends rows to `csv` through `add` and returns their block.
template <typename Add>
std::pair<std::size_t, std::size_t> block(const Csv& csv, Add add) {
  const std::size_t first = csv.rows();
  add();
  return {first, csv.rows() - 1};
}

// For the script's reader: how its plot commands address the CSV.
std::string blocks_note(const std::string& name) {
  return "# Each line below is one block of " + name +
         ".csv's rows (counted from 0 after the header), plotted with `every ::first::last`.\n";
}

// The plot command of one panel: the grey lines, then the mean on top. A single layer has no line
// to draw: its inputs show as points.
std::string panel_plot(const std::string& name, const Csv& csv, const Lines& lines,
                       bool single_layer) {
  const int c_x = csv.col("layer"), c_y = csv.col("angle");
  std::vector<std::string> plots;
  const auto clause = [&](std::pair<std::size_t, std::size_t> rows, const std::string& style) {
    plots.push_back(fmt::format("'{}.csv' skip 1 every ::{}::{} using {}:{} {} notitle", name,
                                rows.first, rows.second, c_x, c_y, style));
  };
  for (const auto& rows : lines.grey) clause(rows, single_layer ? kGreyPointStyle : kGreyStyle);
  if (lines.mean) clause(*lines.mean, mean_style());
  if (plots.empty()) return "plot NaN notitle\n";
  return "plot " + join(plots, ", \\\n     ") + "\n";
}

// "N" or "N–M" for counts that may differ between panels.
std::string count_range(std::size_t lo, std::size_t hi) {
  return lo == hi ? fmt::format("{}", lo) : fmt::format("{}–{}", lo, hi);
}

// ---- the toy sweep ---------------------------------------------------------------------------

struct Net {  // a complete task (student) or a teacher
  std::string key;
  double rho = kAbsent, temperature = kAbsent;
  int64_t depth = 0, teacher = 0;
  bool has_hidden = false;
  store::Group group;
};

struct Toy {
  std::vector<Net> tasks;     // status = complete, with or without hidden probes
  std::vector<Net> teachers;  // with hidden/theta
};

double attr_or(const store::Group& g, const char* name, double fallback) {
  return g.has_attr(name) ? g.attr_double(name) : fallback;
}
int64_t to_int(double v) {
  return static_cast<int64_t>(std::llround(v));
}

Toy load_toy(const store::Group& root, const std::string& path,
             const std::array<int64_t, 3>& axes) {
  Toy toy;
  const auto [groups, teacher_depth, width] = axes;
  if (root.has("tasks")) {
    const store::Group tasks = root.open_group("tasks");
    for (const auto& key : tasks.children()) {
      try {
        Net t;
        t.key = key;
        t.group = tasks.open_group(key);
        const store::Group& g = t.group;
        if (!g.has_attr("status") || g.attr_string("status") != "complete" ||
            !g.has_attr("depth")) {
          continue;  // failed, running or not a task (sweep_plots.cpp says so)
        }
        t.depth = to_int(g.attr_double("depth"));
        t.rho = attr_or(g, "rho", kAbsent);
        t.temperature = attr_or(g, "temperature", kAbsent);
        t.teacher = to_int(attr_or(g, "teacher", 0));
        if (to_int(attr_or(g, "teacher_groups", 0)) != groups ||
            to_int(attr_or(g, "teacher_depth", 0)) != teacher_depth ||
            to_int(attr_or(g, "width", 0)) != width)
          continue;  // another combination of the axes beyond the study (drawn on its own)
        t.has_hidden = g.has("hidden") && g.open_group("hidden").has("theta") &&
                       g.open_group("hidden").has("theta_dh");
        toy.tasks.push_back(std::move(t));
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/tasks/{} is unreadable and left out of the trajectory figures: {}", path,
                     key, e.what());
      }
    }
  }
  if (root.has("teachers")) {
    const store::Group teachers = root.open_group("teachers");
    for (const auto& key : teachers.children()) {
      try {
        Net t;
        t.key = key;
        t.group = teachers.open_group(key);
        const store::Group& g = t.group;
        if (g.has_attr("status") && g.attr_string("status") != "complete") continue;
        if (!g.has("hidden") || !g.open_group("hidden").has("theta")) continue;
        if (g.has_attr("status")) store::read_teacher(g);  // its checksum: damage is left out
        t.rho = attr_or(g, "rho", kAbsent);
        t.teacher = to_int(attr_or(g, "teacher", 0));
        t.depth = to_int(attr_or(g, "depth", 0));
        if ((groups && to_int(attr_or(g, "teacher_groups", 0)) != groups) ||
            (teacher_depth && t.depth != teacher_depth))
          continue;
        t.has_hidden = true;
        toy.teachers.push_back(std::move(t));
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/teachers/{} is unreadable and left out: {}", path, key, e.what());
      }
    }
  }
  return toy;
}

// A selected value the file does not have is an error naming it and the file.
template <typename T, typename Get>
void check_selected(const std::vector<T>& selected, const std::vector<Net>& tasks, Get get,
                    const char* what, const std::string& path) {
  if (selected.empty()) return;
  std::vector<T> have;
  for (const auto& t : tasks) have.push_back(get(t));
  have = sorted_unique(have);
  for (const T& v : selected) {
    const bool found = std::any_of(have.begin(), have.end(), [&](const T& h) {
      if constexpr (std::is_same_v<T, double>) {
        return same(h, v);
      } else {
        return h == v;
      }
    });
    if (found) continue;
    std::vector<std::string> listed;
    for (const T& h : have) {
      if constexpr (std::is_same_v<T, double>) {
        listed.push_back(h == kAbsent ? "none" : fmt::format("{:g}", h));
      } else {
        listed.push_back(fmt::format("{}", h));
      }
    }
    throw PlotError(fmt::format("selected {} {}: {} has no complete task with {} = {} (it has {})",
                                what, fmt::format("{}", v), path, what, fmt::format("{}", v),
                                listed.empty() ? "no complete tasks" : join(listed, ", ")));
  }
}

void check_toy_selection(const Toy& toy, const Selection& sel, const std::string& path) {
  check_selected(
      sel.rho, toy.tasks, [](const Net& t) { return t.rho; }, "rho", path);
  check_selected(
      sel.temperature, toy.tasks, [](const Net& t) { return t.temperature; }, "temperature", path);
  check_selected(
      sel.depth, toy.tasks, [](const Net& t) { return t.depth; }, "depth", path);
  check_selected(
      sel.teacher, toy.tasks, [](const Net& t) { return t.teacher; }, "teacher", path);
}

// One (ρ, T, teacher replicate) group of students with hidden probes, as a panel or a grid row.
struct Choice {
  double rho = kAbsent, temperature = kAbsent;
  int64_t teacher = 0;
  std::vector<const Net*> students;  // one per depth, by depth; only selected depths
  const Net* teacher_net = nullptr;  // the teacher network of this ρ and replicate, if probed
};

// "ρ = 0, T = 0.01" (the parameters the grid has); enhanced text.
std::string cell_label(double rho, double temperature) {
  std::vector<std::string> parts;
  if (rho != kAbsent) parts.push_back("ρ = " + fmt_param(rho));
  if (temperature != kAbsent) parts.push_back("T = " + fmt_param(temperature));
  return parts.empty() ? std::string("all tasks") : join(parts, ", ");
}

// The groups a figure shows (trajectory_plots.hpp): per selected ρ (up to kMaxRhos), the middle
// selected temperature, the lowest selected teacher replicate, its students of the selected
// depths. Empty (with a log line) when no task with hidden probes matches the selection.
// The selection has been checked (check_toy_selection).
std::vector<Choice> choose(const Toy& toy, const Selection& sel, const std::string& path,
                           const std::string& figure) {
  std::vector<const Net*> pool;
  bool any_hidden = false;
  for (const auto& t : toy.tasks) {
    if (!t.has_hidden) continue;
    any_hidden = true;
    if (wanted(sel.rho, t.rho) && wanted(sel.temperature, t.temperature) &&
        wanted(sel.depth, t.depth) && wanted(sel.teacher, t.teacher)) {
      pool.push_back(&t);
    }
  }
  if (!any_hidden) {
    spdlog::info("{} skipped: no complete task in {} has hidden-state probes (probe_hidden)",
                 figure, path);
    return {};
  }
  if (pool.empty()) {
    spdlog::info(
        "{} skipped: no complete task in {} with hidden-state probes matches the selection", figure,
        path);
    return {};
  }
  std::vector<double> rhos;
  for (const Net* t : pool) rhos.push_back(t->rho);
  rhos = sorted_unique(rhos);
  if (!sel.rho.empty() && rhos.size() > kMaxRhos) {
    spdlog::info("{}: {} values of ρ selected, showing {} spread over them", figure, rhos.size(),
                 kMaxRhos);
  }
  std::vector<Choice> out;
  for (double rho : spread(rhos, kMaxRhos)) {
    Choice c;
    c.rho = rho;
    std::vector<double> temps;
    for (const Net* t : pool)
      if (t->rho == rho) temps.push_back(t->temperature);
    temps = sorted_unique(temps);
    c.temperature = temps[(temps.size() - 1) / 2];
    c.teacher = INT64_MAX;
    for (const Net* t : pool)
      if (t->rho == rho && t->temperature == c.temperature)
        c.teacher = std::min(c.teacher, t->teacher);
    std::map<int64_t, const Net*> by_depth;
    for (const Net* t : pool) {
      if (t->rho != rho || t->temperature != c.temperature || t->teacher != c.teacher) continue;
      const auto [it, fresh] = by_depth.emplace(t->depth, t);
      if (!fresh) {
        spdlog::warn("{}: tasks {} and {} share ρ, T, teacher and depth; showing {}", path,
                     it->second->key, t->key, it->second->key);
      }
    }
    for (const auto& [_, t] : by_depth) c.students.push_back(t);
    for (const auto& t : toy.teachers) {
      if (t.rho == rho && t.teacher == c.teacher) {
        c.teacher_net = &t;
        break;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

// One network's hidden/<dataset> in the CSV: its first `grey` inputs (kind input) and the mean
// over all of them (kind mean), at layer first_layer + column.
struct Curves {
  std::size_t inputs = 0, grey = 0;  // rows of the dataset, lines drawn
  int64_t first_layer = 0, last_layer = -1;
  Extent y;
  Lines lines;
  bool drawn() const { return last_layer >= first_layer; }
  bool single_layer() const { return last_layer == first_layer; }
};
Curves add_curves(Csv& csv, std::size_t panel, const Choice& c, const Net& net, bool teacher,
                  const std::string& dataset, int64_t first_layer, int grey_lines) {
  std::vector<hsize_t> dims;
  const auto data = net.group.open_group("hidden").read_float(dataset, &dims);
  Curves out;
  out.first_layer = first_layer;
  if (dims.size() != 2 || dims[0] == 0 || dims[1] == 0) return out;
  const std::size_t rows = dims[0], cols = dims[1];
  out.inputs = rows;
  out.grey = std::min<std::size_t>(rows, static_cast<std::size_t>(std::max(grey_lines, 0)));
  const auto row = [&](const std::string& kind, const std::string& input, std::size_t j,
                       double angle) {
    csv.row({integer(static_cast<int64_t>(panel)), param(c.rho), param(c.temperature),
             integer(c.teacher), teacher ? "teacher" : "student", integer(net.depth), kind, input,
             integer(first_layer + static_cast<int64_t>(j)), num(angle)});
    out.y.add(angle);
  };
  for (std::size_t i = 0; i < out.grey; ++i) {
    out.lines.grey.push_back(block(csv, [&] {
      for (std::size_t j = 0; j < cols; ++j) {
        row("input", integer(static_cast<int64_t>(i)), j, static_cast<double>(data[i * cols + j]));
      }
    }));
  }
  const auto mean = column_means(data, rows, cols);
  out.lines.mean = block(csv, [&] {
    for (std::size_t j = 0; j < cols; ++j) row("mean", "", j, mean[j]);
  });
  out.last_layer = first_layer + static_cast<int64_t>(cols) - 1;
  return out;
}

Csv toy_csv() {
  return Csv({"panel", "rho", "temperature", "teacher", "network", "depth", "kind", "input",
              "layer", "angle"});
}

struct Metric {
  const char* dataset;
  const char* symbol;  // enhanced text
  int64_t first_layer;
};
Metric toy_metric(bool dh) {
  // hidden/theta column j: θ(h_j, h_{j+1}); hidden/theta_dh column j: θ(Δh_{j+1}, Δh_{j+2}) with
  // Δh_l = h_l − h_{l−1}, so its layers start at 1 (as hidden_dh_angles draws them).
  return dh ? Metric{"theta_dh", "θ(Δh_l, Δh_{l+1})", 1} : Metric{"theta", "θ(h_l, h_{l+1})", 0};
}

// hidden_trajectories / hidden_dh_trajectories (Figs 5a, 5c): per ρ the deepest chosen student.
bool toy_trajectories(const Toy& toy, const Selection& sel, const std::string& path,
                      const fs::path& dir, const std::string& gnuplot, bool dh) {
  const std::string name = dh ? "hidden_dh_trajectories" : "hidden_trajectories";
  const Metric metric = toy_metric(dh);
  const auto choices = choose(toy, sel, path, name);
  if (choices.empty()) return false;
  Csv csv = toy_csv();
  struct Panel {
    std::string title;
    Curves curves;
  };
  std::vector<Panel> panels;
  for (const auto& c : choices) {
    // The deepest student with at least one angle (a one-block student has no θ_dh).
    for (auto it = c.students.rbegin(); it != c.students.rend(); ++it) {
      const Net& t = **it;
      const Curves curves = add_curves(csv, panels.size(), c, t, false, metric.dataset,
                                       metric.first_layer, sel.inputs);
      if (!curves.drawn()) continue;
      panels.push_back({cell_label(c.rho, c.temperature) +
                            fmt::format(", replicate {}: student ℓ = {}", c.teacher, t.depth),
                        curves});
      break;
    }
  }
  if (panels.empty()) {
    spdlog::info("{} skipped: no chosen student in {} has a {} angle", name, path, metric.dataset);
    return false;
  }
  std::size_t grey_lo = SIZE_MAX, grey_hi = 0, in_lo = SIZE_MAX, in_hi = 0;
  for (const auto& p : panels) {
    grey_lo = std::min(grey_lo, p.curves.grey), grey_hi = std::max(grey_hi, p.curves.grey);
    in_lo = std::min(in_lo, p.curves.inputs), in_hi = std::max(in_hi, p.curves.inputs);
  }
  const std::string headline =
      dh ? "Angle between consecutive residual updates, input by input"
         : "Angle between consecutive hidden states h_l and h_{l+1}, input by input";
  std::string details = fmt::format(
      "grey: the first {} probe inputs, one line each;  bold: the mean over all {} inputs",
      count_range(grey_lo, grey_hi), count_range(in_lo, in_hi));
  if (dh) details += ";  Δh_l = h_l − h_{l−1}";
  PanelLayout layout;
  layout.panels = panels.size();
  layout.key_rows = 1;
  std::string body = blocks_note(name) + multiplot_begin(titled(headline, details));
  body += "set xlabel 'layer index l'\n";
  body += "set ylabel " + quote(std::string(metric.symbol) + "  (radians, log scale)") + "\n";
  body += "set logscale y\nset format y '%g'\n";
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const Panel& panel = panels[p];
    body += "set title " + quote(panel.title) + "\n";
    body += panel_margins(layout, p);
    body += log_axis("y", panel.curves.y.lo, panel.curves.y.hi);
    body += layer_axis(panel.curves.first_layer, panel.curves.last_layer);
    body += panel_plot(name, csv, panel.curves.lines, panel.curves.single_layer());
  }
  body += key_strip(
      layout, {{kGreyStyle, "single probe inputs"}, {mean_style(), "mean over all probe inputs"}});
  body += "unset multiplot\n";
  render(dir, name, csv, body, gnuplot);
  return true;
}

// hidden_grid / hidden_dh_grid (Figs 21, 22): rows ρ, columns the student depths and the teacher.
bool toy_grid(const Toy& toy, const Selection& sel, const std::string& path, const fs::path& dir,
              const std::string& gnuplot, bool dh) {
  const std::string name = dh ? "hidden_dh_grid" : "hidden_grid";
  const Metric metric = toy_metric(dh);
  const auto choices = choose(toy, sel, path, name);
  if (choices.empty()) return false;

  // Columns: the students' depths (a one-block student has no θ_dh), then the teacher.
  std::vector<int64_t> depths;
  bool any_teacher = false;
  for (const auto& c : choices) {
    for (const Net* t : c.students)
      if (!dh || t->depth >= 2) depths.push_back(t->depth);
    any_teacher = any_teacher || c.teacher_net != nullptr;
  }
  depths = sorted_unique(depths);
  if (!sel.depth.empty() && depths.size() > kMaxGridDepths) {
    spdlog::info("{}: {} depths selected, showing {} spread over them", name, depths.size(),
                 kMaxGridDepths);
  }
  depths = spread(depths, kMaxGridDepths);
  const std::size_t rows = choices.size(), cols = depths.size() + (any_teacher ? 1 : 0);
  if (cols == 0) {
    spdlog::info("{} skipped: no chosen student in {} has a {} angle", name, path, metric.dataset);
    return false;
  }

  Csv csv = toy_csv();
  struct Cell {
    const Net* net = nullptr;
    bool teacher = false;
    Curves curves;
  };
  std::vector<Cell> cells(rows * cols);
  std::vector<Extent> row_y(rows);
  std::vector<int64_t> col_last(cols, metric.first_layer);
  std::size_t grey_lo = SIZE_MAX, grey_hi = 0, in_lo = SIZE_MAX, in_hi = 0;
  int64_t teacher_depth = -1;
  bool drawn = false;
  for (std::size_t r = 0; r < rows; ++r) {
    const Choice& c = choices[r];
    for (std::size_t k = 0; k < cols; ++k) {
      Cell& cell = cells[r * cols + k];
      if (k < depths.size()) {
        for (const Net* t : c.students)
          if (t->depth == depths[k]) cell.net = t;
      } else {
        cell.net = c.teacher_net;
        cell.teacher = true;
      }
      if (cell.net == nullptr) continue;
      try {
        cell.curves = add_curves(csv, r * cols + k, c, *cell.net, cell.teacher, metric.dataset,
                                 metric.first_layer, sel.inputs);
      } catch (const store::StoreError& e) {
        spdlog::warn("{}: {} unreadable, panel left empty: {}", name, cell.net->key, e.what());
        continue;
      }
      if (!cell.curves.drawn()) continue;
      drawn = true;
      if (cell.teacher) teacher_depth = cell.net->depth;
      row_y[r].add(cell.curves.y);
      col_last[k] = std::max(col_last[k], cell.curves.last_layer);
      grey_lo = std::min(grey_lo, cell.curves.grey), grey_hi = std::max(grey_hi, cell.curves.grey);
      in_lo = std::min(in_lo, cell.curves.inputs), in_hi = std::max(in_hi, cell.curves.inputs);
    }
  }
  if (!drawn) {
    spdlog::info("{} skipped: no chosen network in {} has a {} angle", name, path, metric.dataset);
    return false;
  }

  // The geometry in pixels: panels of at least 200×170 with the y tic labels and the row's
  // label in the left margin (the rows share a y range, so only the first column labels it).
  const int title_lines = 3, key_rows = 1;
  const double top_px = 10 + 30 + 17 * (title_lines - 1) + 38;  // titles, then column headers
  const double key_px = 19 * key_rows + 12, xlabel_px = 52;
  const double left_px = 112, right_px = 20, gap_x = 14, gap_y = 36;
  double col_w = 200, row_h = 170;
  const auto width_for = [&](double w) {
    return left_px + right_px + static_cast<double>(cols) * w + gap_x * (cols - 1);
  };
  const auto height_for = [&](double h) {
    return top_px + key_px + xlabel_px + static_cast<double>(rows) * h + gap_y * (rows - 1);
  };
  if (width_for(col_w) < kWidth) col_w = (kWidth - width_for(0)) / static_cast<double>(cols);
  if (height_for(row_h) < kHeight) row_h = (kHeight - height_for(0)) / static_cast<double>(rows);
  const int W = static_cast<int>(std::lround(width_for(col_w)));
  const int H = static_cast<int>(std::lround(height_for(row_h)));
  const auto margins = [&](std::size_t r, std::size_t k) {
    const double x0 = left_px + static_cast<double>(k) * (col_w + gap_x);
    const double y0 = top_px + static_cast<double>(r) * (row_h + gap_y);
    return fmt::format(
        "set lmargin at screen {:.4f}\nset rmargin at screen {:.4f}\nset tmargin at screen "
        "{:.4f}\nset bmargin at screen {:.4f}\n",
        x0 / W, (x0 + col_w) / W, 1 - y0 / H, 1 - (y0 + row_h) / H);
  };

  std::vector<std::string> replicates;
  for (const auto& c : choices) replicates.push_back(fmt::format("{}", c.teacher));
  replicates = sorted_unique(replicates);
  const std::string headline =
      dh ? "Angle between consecutive residual updates per input, across ρ and depth"
         : "Angle between consecutive hidden states per input, across ρ and depth";
  std::string details = fmt::format(
      "{}  (radians, log scale; a shared range per row) against the layer index l{}\ngrey: the "
      "first {} probe inputs;  bold: the mean over all {};  teacher replicate {}",
      metric.symbol, dh ? ",  Δh_l = h_l − h_{l−1}" : "", count_range(grey_lo, grey_hi),
      count_range(in_lo, in_hi), join(replicates, ", "));
  std::string body = blocks_note(name) + multiplot_begin(titled(headline, details));
  body += "set logscale y\n";
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t k = 0; k < cols; ++k) {
      const std::size_t p = r * cols + k;
      const Cell& cell = cells[p];
      std::string header;
      if (r == 0) {
        header = k < depths.size() ? fmt::format("student ℓ = {}", depths[k])
                                   : fmt::format("teacher ℓ* = {}", teacher_depth);
      }
      body += "set title " + quote(header) + "\n";
      body += margins(r, k);
      body += k == 0 ? "set ylabel " +
                           quote_lines(cell_label(choices[r].rho, choices[r].temperature),
                                       metric.symbol) +
                           "\nset format y '%g'\n"
                     : "unset ylabel\nset format y ''\n";
      body += r + 1 == rows ? "set xlabel 'layer l'\n" : "unset xlabel\n";
      body += log_axis("y", row_y[r].lo, row_y[r].hi);
      body += layer_axis(metric.first_layer, col_last[k]);
      if (cell.net == nullptr || !cell.curves.drawn()) {
        body +=
            "set label 1 'no probed network' at graph 0.5, graph 0.5 center tc rgb '#777777'\n"
            "plot NaN notitle\nunset label 1\n";
        continue;
      }
      body += panel_plot(name, csv, cell.curves.lines, cell.curves.single_layer());
    }
  }
  PanelLayout layout;
  layout.key_rows = key_rows;
  layout.width = W;
  layout.height = H;
  body += key_strip(
      layout, {{kGreyStyle, "single probe inputs"}, {mean_style(), "mean over all probe inputs"}});
  body += "unset multiplot\n";
  render(dir, name, csv, body, gnuplot, W, H);
  return true;
}

// ---- the LLM probe ---------------------------------------------------------------------------

// probe_token_trajectories (Figs 2a, 2e): rows models, columns θ and θ_dh.
bool token_trajectories(const store::Group& root, const std::string& path, const fs::path& dir,
                        const std::string& gnuplot, const Selection& sel) {
  const std::string name = "probe_token_trajectories";
  const std::vector<ProbeModel> models = load_models(root, path);
  for (const auto& m : sel.model) {
    if (std::none_of(models.begin(), models.end(),
                     [&](const ProbeModel& p) { return p.name == m; })) {
      std::vector<std::string> names;
      for (const auto& p : models) names.push_back(p.name);
      throw PlotError(
          fmt::format("selected model {}: {} has no complete probed model /probe/{} (it has {})", m,
                      path, m, names.empty() ? "none" : join(names, ", ")));
    }
  }
  if (models.empty()) return false;  // probe_figures says so
  std::vector<const ProbeModel*> shown;
  if (sel.model.empty()) {
    // The deepest model with per-site data.
    for (auto it = models.rbegin(); it != models.rend(); ++it) {
      if (it->group.has("theta")) {
        shown.push_back(&*it);
        break;
      }
      spdlog::info(
          "{}: {}:/probe/{} has no per-site theta (store_per_token was false); looking at the "
          "next deepest model",
          name, path, it->name);
    }
  } else {
    for (const auto& m : models) {
      if (std::find(sel.model.begin(), sel.model.end(), m.name) == sel.model.end()) continue;
      if (m.group.has("theta")) {
        shown.push_back(&m);
      } else {
        spdlog::info("{}: {}:/probe/{} has no per-site theta (store_per_token was false); left out",
                     name, path, m.name);
      }
    }
    if (shown.size() > kMaxModels) {
      spdlog::info("{}: {} models selected, showing the first {} by depth", name, shown.size(),
                   kMaxModels);
      shown.resize(kMaxModels);
    }
  }
  if (shown.empty()) {
    spdlog::info(
        "{} skipped: no {}model under {}:/probe has per-site theta (store_per_token: false)", name,
        sel.model.empty() ? "complete " : "selected ", path);
    return false;
  }

  struct MetricPanel {
    const char* dataset;
    const char* symbol;
  };
  const MetricPanel metrics[] = {{"theta", "θ(h_l, h_{l+1})"}, {"theta_dh", "θ(Δh_l, Δh_{l+1})"}};
  Csv csv({"panel", "model", "num_layers", "metric", "kind", "site", "layer", "angle"});
  struct Panel {
    std::size_t index = 0;
    std::string title;
    std::size_t grey = 0;
    int64_t last_layer = 0;
    Extent y;
    Lines lines;
  };
  std::vector<Panel> panels;
  bool any_dh = false;
  for (const ProbeModel* m : shown) any_dh = any_dh || m->group.has("theta_dh");
  const std::size_t cols = any_dh ? 2 : 1;
  for (std::size_t r = 0; r < shown.size(); ++r) {
    const ProbeModel& m = *shown[r];
    for (std::size_t k = 0; k < cols; ++k) {
      const MetricPanel& metric = metrics[k];
      if (!m.group.has(metric.dataset)) continue;
      Panel panel;
      panel.index = r * cols + k;
      const auto add = [&](const std::string& kind, const std::string& site, std::size_t l,
                           double angle) {
        csv.row({integer(static_cast<int64_t>(panel.index)), m.name, integer(m.layers),
                 metric.dataset, kind, site, integer(static_cast<int64_t>(l)), num(angle)});
        panel.y.add(angle);
      };
      // Only the rows drawn are read: the first `inputs` sites.
      const store::StridedRows first = store::read_first_rows(
          m.group, metric.dataset, static_cast<std::size_t>(std::max(sel.inputs, 0)));
      if (first.cols == 0) continue;
      panel.grey = first.rows;
      panel.title = literal(m.name) + fmt::format(" (L = {}, {} sites): ", m.layers, first.total) +
                    metric.symbol;
      for (hsize_t i = 0; i < first.rows; ++i) {
        panel.lines.grey.push_back(block(csv, [&] {
          for (hsize_t l = 0; l < first.cols; ++l) {
            add("site", integer(static_cast<int64_t>(i)), l,
                static_cast<double>(first.data[i * first.cols + l]));
          }
        }));
      }
      // The mean over every site, as the run summarised it.
      std::vector<double> mean;
      if (m.group.has("summary") && m.group.open_group("summary").has(metric.dataset)) {
        mean = m.group.open_group("summary").read_double(metric.dataset);
      }
      if (mean.size() == first.cols) {
        panel.lines.mean = block(csv, [&] {
          for (std::size_t l = 0; l < mean.size(); ++l) add("mean", "", l, mean[l]);
        });
      } else {
        spdlog::warn("{}: {}:/probe/{}/summary/{} is missing or of another length: no mean drawn",
                     name, path, m.name, metric.dataset);
      }
      panel.last_layer = static_cast<int64_t>(first.cols) - 1;
      panels.push_back(std::move(panel));
    }
  }
  if (panels.empty()) {
    spdlog::info("{} skipped: the per-site angles under {}:/probe are empty", name, path);
    return false;
  }

  std::size_t grey_lo = SIZE_MAX, grey_hi = 0;
  for (const auto& p : panels)
    grey_lo = std::min(grey_lo, p.grey), grey_hi = std::max(grey_hi, p.grey);
  PanelLayout layout;
  layout.panels = shown.size() * cols;
  layout.columns = cols;
  layout.key_rows = 1;
  layout.title_lines = any_dh ? 3 : 2;
  if (shown.size() > 2) layout.height = kHeight + 260 * static_cast<int>(shown.size() - 2);
  std::string body =
      blocks_note(name) +
      multiplot_begin(titled(
          "Angles between consecutive hidden states of a language model, token by token",
          fmt::format("grey: the first {} prediction sites{}, one line each;  bold: the mean over "
                      "all sites (summary/){}",
                      grey_hi, grey_lo == grey_hi ? "" : " (all of them where fewer)",
                      any_dh ? "\nΔh_l = h_{l+1} − h_l" : "")));
  body += "set xlabel 'layer index l'\n";
  body += "set ylabel 'radians (log scale)'\n";
  body += "set logscale y\nset format y '%g'\n";
  for (const Panel& panel : panels) {
    body += "set title " + quote(panel.title) + "\n";
    body += panel_margins(layout, panel.index);
    body += log_axis("y", panel.y.lo, panel.y.hi);
    body += layer_axis(0, panel.last_layer);
    body += panel_plot(name, csv, panel.lines, panel.last_layer == 0);
  }
  body += key_strip(layout, {{kGreyStyle, "single prediction sites (tokens)"},
                             {mean_style(), "mean over all sites"}});
  body += "unset multiplot\n";
  render(dir, name, csv, body, gnuplot, layout.width, layout.height);
  return true;
}

}  // namespace

void trajectory_figures(const store::Group& root, const std::string& path, const fs::path& dir,
                        const std::string& gnuplot, const Selection& select,
                        const std::function<void(const std::function<bool()>&)>& attempt,
                        const std::array<int64_t, 3>& axes) {
  // A selected value the file lacks fails once (as one figure), not once per figure.
  const Toy toy = load_toy(root, path, axes);
  const bool toy_selected = !select.rho.empty() || !select.temperature.empty() ||
                            !select.depth.empty() || !select.teacher.empty();
  if (!toy.tasks.empty() || toy_selected) {
    bool valid = false;
    attempt([&] {
      check_toy_selection(toy, select, path);
      valid = true;
      return false;
    });
    if (valid) {
      for (bool dh : {false, true})
        attempt([&] { return toy_trajectories(toy, select, path, dir, gnuplot, dh); });
      for (bool dh : {false, true})
        attempt([&] { return toy_grid(toy, select, path, dir, gnuplot, dh); });
    }
  }
  if (root.has("probe") || !select.model.empty()) {
    attempt([&] { return token_trajectories(root, path, dir, gnuplot, select); });
  }
}

}  // namespace depthscale::plot::detail
