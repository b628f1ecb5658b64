// `depthscale plot FILE.h5`: figures of a toy sweep (SPEC.md §1) from its /tasks, /teachers and
// /fits groups (DESIGN.md). Each figure reads what it needs, writes the numbers it draws to
// NAME.csv and renders NAME.gp; a figure without data is skipped with a log line saying why.
// The figures of an LLM probe run's /probe groups (SPEC.md §2) are in probe_plots.cpp.
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/job.hpp"
#include "plot/detail.hpp"
#include "plot/plot.hpp"
#include "plot/probe_plots.hpp"
#include "plot/trajectory_plots.hpp"
#include "store/store.hpp"

namespace depthscale::plot {

namespace fs = std::filesystem;
using detail::Csv;
using detail::num;
using detail::PlotError;
using detail::quote;
using detail::titled;

namespace {

// ρ and T are grid parameters a job may leave out (the MSE experiments have no temperature);
// kAbsent marks that, and labels leave such a parameter out. Both are ≥ 0 when present.
constexpr double kAbsent = -1.0;
constexpr std::size_t kMaxSeries = 6;  // lines per figure before it stops reading at a glance
constexpr std::size_t kMaxPanels = 4;

struct TaskInfo {
  std::string key;
  double rho = kAbsent, temperature = kAbsent;
  int64_t depth = 0, teacher = 0;
  std::vector<int64_t> eval_step;
  std::vector<float> test_loss;
  bool has_hidden = false;
};

struct FitInfo {
  std::string name;
  double rho = kAbsent, temperature = kAbsent;
  int64_t teacher = 0;
  double depth_offset = 0;
  std::vector<int64_t> step;
  std::vector<double> alpha, alpha_se, c, L0;
};

struct TeacherInfo {
  std::string key;
  double rho = kAbsent;
  int64_t teacher = 0, depth = 0;
};

// (ρ, T): the level at which replicates are averaged.
using Cell = std::pair<double, double>;

struct Sweep {
  std::string path;
  store::File file;
  std::vector<TaskInfo> tasks;  // status = complete only
  std::vector<FitInfo> fits;
  std::vector<TeacherInfo> teachers;
  bool has_fits_group = false;
  std::string gnuplot;  // PlotOptions::gnuplot
  // The student block of the job that wrote the file (its effective job text), for the theory
  // guides; unknown when that text no longer parses.
  std::optional<config::Block> block;
};

// The study's theory lines for α_ℓ: ensemble averaging gives 1; a first-order (Euler) procedural
// student 2 or 3; an RK2 (midpoint) one 4 or 5. Dashed grey lines across the whole graph (arrows,
// so they do not depend on the x range), for the block the sweep trained (both procedural pairs
// when it is unknown), with key entries; the y range stretches to show them.
struct Guides {
  std::string setup;                 // gnuplot commands before `plot`
  std::vector<std::string> entries;  // key entries to append to the plot
};
Guides theory_guides(const Sweep& s) {
  Guides g;
  double top = 1;
  const auto line = [&](std::vector<double> alphas, const std::string& title, int dash) {
    for (double a : alphas) {
      g.setup += fmt::format(
          "set arrow from graph 0, first {0} to graph 1, first {0} nohead dt {1} lw 1.2 lc rgb "
          "'#777777' back\n",
          a, dash);
      top = std::max(top, a);
    }
    g.entries.push_back(
        fmt::format("NaN with lines lw 1.2 dt {} lc rgb '#777777' title {}", dash, quote(title)));
  };
  line({1}, "theory: ensemble averaging, α = 1", 2);
  if (!s.block || *s.block == config::Block::Plain)
    line({2, 3}, "theory: first-order procedural, α = 2, 3", 3);
  if (!s.block || *s.block == config::Block::Rk2)
    line({4, 5}, "theory: RK2 procedural, α = 4, 5", 4);
  g.setup += fmt::format("set yrange [*:{}<*]\n", top + 0.2);
  return g;
}

std::string fmt_param(double v) {
  return fmt::format("{:.3g}", v);
}

// "ρ = 0, T = 0.01" (only the parameters the grid has); gnuplot enhanced text.
std::string cell_label(const Cell& cell) {
  std::vector<std::string> parts;
  if (cell.first != kAbsent) parts.push_back("ρ = " + fmt_param(cell.first));
  if (cell.second != kAbsent) parts.push_back("T = " + fmt_param(cell.second));
  if (parts.empty()) return "all tasks";
  std::string out = parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) out += ", " + parts[i];
  return out;
}

std::string rho_label(double rho) {
  return rho == kAbsent ? std::string("all tasks") : "ρ = " + fmt_param(rho);
}

// A grid parameter in a CSV cell: empty where the grid does not have it.
std::string param(double v) {
  return v == kAbsent ? std::string() : num(v);
}

double optional_attr(const store::Group& g, const char* name, double fallback) {
  return g.has_attr(name) ? g.attr_double(name) : fallback;
}

int64_t to_int(double v) {
  return static_cast<int64_t>(std::llround(v));
}

// Mean of each column of a row-major [rows, cols] array, over its finite entries.
std::vector<double> column_means(const std::vector<float>& data, const std::vector<hsize_t>& dims) {
  if (dims.size() != 2) return {};
  const std::size_t rows = dims[0], cols = dims[1];
  std::vector<double> sum(cols, 0.0);
  std::vector<std::size_t> count(cols, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = data[r * cols + c];
      if (std::isfinite(v)) {
        sum[c] += v;
        ++count[c];
      }
    }
  }
  std::vector<double> mean(cols);
  for (std::size_t c = 0; c < cols; ++c) mean[c] = count[c] ? sum[c] / count[c] : NAN;
  return mean;
}

// ---- reading ---------------------------------------------------------------------------------

// Whether `path` carries the HDF5 signature (at 0, or 512, 1024, ... after a user block). Checked
// first so a file of another kind gets a plain answer instead of the reader's retries and its
// advice for a damaged sweep.
bool looks_like_hdf5(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return true;  // let the reader report why it cannot open the file
  static const char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return true;
  for (std::uintmax_t at = 0; at + 8 <= size; at = at == 0 ? 512 : at * 2) {
    char buf[8];
    in.seekg(static_cast<std::streamoff>(at));
    if (!in.read(buf, 8)) return false;
    if (std::equal(buf, buf + 8, kSignature)) return true;
  }
  return false;
}

Sweep load(const std::string& path) {
  Sweep s;
  s.path = path;
  if (!looks_like_hdf5(path)) {
    throw PlotError(fmt::format(
        "{} is not an HDF5 file (no HDF5 signature), so not a depthscale sweep file", path));
  }
  try {
    s.file = store::open_sweep(path);
  } catch (const store::StoreError& e) {
    throw PlotError(fmt::format("cannot read {}: {}", path, e.what()));
  }
  const store::Group root = s.file.root();
  try {
    if (root.has_attr("job_effective"))
      s.block = config::parse_job(root.attr_string("job_effective"), path).model.block;
  } catch (const std::exception& e) {
    spdlog::info("{}: its job text does not parse ({}); theory guides for both block kinds", path,
                 e.what());
  }

  if (root.has("tasks")) {
    const store::Group tasks = root.open_group("tasks");
    for (const auto& key : tasks.children()) {
      try {
        const store::Group g = tasks.open_group(key);
        // status is written last: anything else is failed or still being written.
        if (!g.has_attr("status") || g.attr_string("status") != "complete") continue;
        TaskInfo t;
        t.key = key;
        if (!g.has_attr("depth")) {
          spdlog::warn("{}:/tasks/{} has no depth attribute; left out of the figures", path, key);
          continue;
        }
        t.depth = to_int(g.attr_double("depth"));
        t.rho = optional_attr(g, "rho", kAbsent);
        t.temperature = optional_attr(g, "temperature", kAbsent);
        t.teacher = to_int(optional_attr(g, "teacher", 0));
        if (g.has("eval_step") && g.has("test_loss")) {
          t.eval_step = g.read_int64("eval_step");
          t.test_loss = g.read_float("test_loss");
          if (t.eval_step.size() != t.test_loss.size()) {
            spdlog::warn("{}:/tasks/{}: eval_step and test_loss differ in length; test loss unused",
                         path, key);
            t.eval_step.clear();
            t.test_loss.clear();
          }
        }
        t.has_hidden = g.has("hidden") && g.open_group("hidden").has("theta") &&
                       g.open_group("hidden").has("theta_dh");
        s.tasks.push_back(std::move(t));
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/tasks/{} is unreadable and left out of the figures: {}", path, key,
                     e.what());
      }
    }
  }

  if (root.has("fits")) {
    s.has_fits_group = true;
    const store::Group fits = root.open_group("fits");
    for (const auto& name : fits.children()) {
      try {
        const store::Group g = fits.open_group(name);
        FitInfo f;
        f.name = name;
        f.rho = optional_attr(g, "rho", kAbsent);
        f.temperature = optional_attr(g, "temperature", kAbsent);
        f.teacher = to_int(optional_attr(g, "teacher", 0));
        f.depth_offset = optional_attr(g, "depth_offset", 0.0);
        f.step = g.read_int64("step");
        f.alpha = g.read_double("alpha");
        f.alpha_se = g.read_double("alpha_se");
        f.c = g.read_double("c");
        f.L0 = g.read_double("L0");
        const std::size_t k = f.step.size();
        if (k == 0 || f.alpha.size() != k || f.alpha_se.size() != k || f.c.size() != k ||
            f.L0.size() != k) {
          spdlog::warn("{}:/fits/{}: datasets are empty or differ in length; fit left out", path,
                       name);
          continue;
        }
        s.fits.push_back(std::move(f));
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/fits/{} is unreadable and left out of the figures: {}", path, name,
                     e.what());
      }
    }
  }

  if (root.has("teachers")) {
    const store::Group teachers = root.open_group("teachers");
    for (const auto& key : teachers.children()) {
      try {
        const store::Group g = teachers.open_group(key);
        if (g.has_attr("status") && g.attr_string("status") != "complete") continue;
        if (!g.has("hidden")) continue;
        TeacherInfo t;
        t.key = key;
        t.rho = optional_attr(g, "rho", kAbsent);
        t.teacher = to_int(optional_attr(g, "teacher", 0));
        t.depth = to_int(optional_attr(g, "depth", 0));
        s.teachers.push_back(std::move(t));
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/teachers/{} is unreadable and left out: {}", path, key, e.what());
      }
    }
  }
  return s;
}

std::vector<float> read_train_loss(const Sweep& s, const std::string& key) {
  return s.file.root().open_group("tasks").open_group(key).read_float("train_loss");
}

// Per-layer means over inputs of hidden/<which> for a group (task or teacher).
std::vector<double> hidden_means(const store::Group& g, const std::string& which) {
  std::vector<hsize_t> dims;
  const auto data = g.open_group("hidden").read_float(which, &dims);
  return column_means(data, dims);
}

// ---- choosing what to show -------------------------------------------------------------------

// Up to `k` items spread evenly over a sorted list (first and last included).
template <typename T>
std::vector<T> spread(const std::vector<T>& sorted, std::size_t k) {
  if (sorted.size() <= k) return sorted;
  std::vector<T> out;
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t idx = static_cast<std::size_t>(
        std::llround(static_cast<double>(i) * (sorted.size() - 1) / static_cast<double>(k - 1)));
    if (out.empty() || !(out.back() == sorted[idx])) out.push_back(sorted[idx]);
  }
  return out;
}

template <typename T>
std::vector<T> sorted_unique(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// One (ρ, T, teacher) group per ρ whose tasks satisfy `usable`: the middle temperature of that
// ρ, its lowest teacher replicate. Up to kMaxPanels ρ values, spread over the range.
struct Representative {
  double rho, temperature;
  int64_t teacher;
};
std::vector<Representative> representatives(const Sweep& s,
                                            const std::function<bool(const TaskInfo&)>& usable) {
  std::map<double, std::vector<double>> temps;
  for (const auto& t : s.tasks) {
    if (usable(t)) temps[t.rho].push_back(t.temperature);
  }
  std::vector<double> rhos;
  for (const auto& [rho, _] : temps) rhos.push_back(rho);
  std::vector<Representative> out;
  for (double rho : spread(rhos, kMaxPanels)) {
    const auto ts = sorted_unique(temps[rho]);
    const double temperature = ts[(ts.size() - 1) / 2];
    int64_t teacher = INT64_MAX;
    for (const auto& t : s.tasks) {
      if (usable(t) && t.rho == rho && t.temperature == temperature) {
        teacher = std::min(teacher, t.teacher);
      }
    }
    out.push_back({rho, temperature, teacher});
  }
  return out;
}

// The group's tasks sorted by depth, one per depth (a repeated depth means the grid has another
// parameter this figure does not separate; the first key wins, with a warning).
std::vector<const TaskInfo*> group_tasks(const Sweep& s, double rho, double temperature,
                                         int64_t teacher,
                                         const std::function<bool(const TaskInfo&)>& usable) {
  std::map<int64_t, const TaskInfo*> by_depth;
  for (const auto& t : s.tasks) {
    if (!usable(t) || t.rho != rho || t.temperature != temperature || t.teacher != teacher) {
      continue;
    }
    auto [it, fresh] = by_depth.emplace(t.depth, &t);
    if (!fresh) {
      spdlog::warn("{}: tasks {} and {} share ρ, T, teacher and depth; showing {}", s.path,
                   it->second->key, t.key, it->second->key);
    }
  }
  std::vector<const TaskInfo*> out;
  for (const auto& [_, t] : by_depth) out.push_back(t);
  return out;
}

// Smallest and largest positive finite value seen (NaN, NaN when none): the data extent of a
// log-scale axis, for log_axis.
struct Extent {
  double lo = NAN, hi = NAN;
  void add(double v) {
    if (!(v > 0) || !std::isfinite(v)) return;
    lo = std::isnan(lo) ? v : std::min(lo, v);
    hi = std::isnan(hi) ? v : std::max(hi, v);
  }
};

// ---- figures from /fits ----------------------------------------------------------------------

struct AlphaPoint {
  double alpha = NAN, err = NAN;
  int n = 0;
  bool sem = false;  // err is the SEM across replicates (else the single fit's SE)
};

// Mean ± SEM across replicates (n − 1 sample sd / √n), or the fit SE when one replicate.
AlphaPoint combine(const std::vector<std::pair<double, double>>& alpha_and_se) {
  std::vector<std::pair<double, double>> ok;
  for (const auto& p : alpha_and_se) {
    if (std::isfinite(p.first)) ok.push_back(p);
  }
  AlphaPoint out;
  out.n = static_cast<int>(ok.size());
  if (ok.empty()) return out;
  if (ok.size() == 1) {
    out.alpha = ok[0].first;
    out.err = ok[0].second;
    return out;
  }
  double sum = 0;
  for (const auto& p : ok) sum += p.first;
  const double mean = sum / ok.size();
  double ss = 0;
  for (const auto& p : ok) ss += (p.first - mean) * (p.first - mean);
  out.alpha = mean;
  out.err = std::sqrt(ss / (ok.size() - 1)) / std::sqrt(static_cast<double>(ok.size()));
  out.sem = true;
  return out;
}

// What the error bars of the plotted points are, in words.
struct ErrorKinds {
  bool sem = false, fit_se = false;
  int min_n = 0, max_n = 0;
  void add(const AlphaPoint& p) {
    (p.sem ? sem : fit_se) = true;
    min_n = min_n == 0 ? p.n : std::min(min_n, p.n);
    max_n = std::max(max_n, p.n);
  }
  std::string note(const std::string& what) const {
    if (sem && fit_se) {
      return fmt::format("{}: SEM over up to {} teacher replicates (fit SE where only one)", what,
                         max_n);
    }
    if (sem && min_n == max_n) {
      return fmt::format("{}: SEM over {} teacher replicates", what, max_n);
    }
    if (sem) return fmt::format("{}: SEM over {}–{} teacher replicates", what, min_n, max_n);
    return what + ": standard error of the fit (one teacher replicate)";
  }
};

bool alpha_vs_temperature(const Sweep& s, const fs::path& dir) {
  std::map<Cell, std::vector<std::pair<double, double>>> finals;
  for (const auto& f : s.fits) {
    if (f.temperature == kAbsent) continue;
    finals[{f.rho, f.temperature}].push_back({f.alpha.back(), f.alpha_se.back()});
  }
  if (finals.empty()) {
    spdlog::info("alpha_vs_temperature skipped: the fits in {} have no temperature", s.path);
    return false;
  }
  Csv csv({"series", "rho", "temperature", "alpha", "alpha_err", "error_kind", "n_replicates"});
  std::vector<double> rhos;
  for (const auto& [cell, _] : finals) rhos.push_back(cell.first);
  rhos = sorted_unique(rhos);
  std::vector<bool> drawn(rhos.size(), false);
  ErrorKinds kinds;
  for (const auto& [cell, values] : finals) {  // map order: by ρ, then T ascending
    const AlphaPoint p = combine(values);
    if (p.n == 0) {
      spdlog::warn("{}: every fit for {} failed (α is NaN); point left out", s.path,
                   cell_label(cell));
      continue;
    }
    const std::size_t series =
        std::lower_bound(rhos.begin(), rhos.end(), cell.first) - rhos.begin();
    drawn[series] = true;
    kinds.add(p);
    csv.row({num(static_cast<long long>(series)), param(cell.first), param(cell.second),
             num(p.alpha), num(p.err), p.sem ? "sem" : "fit_se", num(static_cast<long long>(p.n))});
  }
  if (csv.rows() == 0) {
    spdlog::warn("alpha_vs_temperature skipped: every fit in {} failed", s.path);
    return false;
  }

  std::string body;
  body += "set title " +
          titled("Depth-scaling exponent α_ℓ at the end of training",
                 "α_ℓ from fitting L(ℓ) = c·ℓ^{-α_ℓ} + L_0 over the student depths ℓ;  " +
                     kinds.note("error bars")) +
          " font ',13'\n";
  body += "set xlabel 'temperature T of the teacher targets (log scale)'\n";
  body += "set ylabel 'depth-scaling exponent α_ℓ'\n";
  body += "set logscale x\nset format x '%g'\n";
  body += "set key outside right top\n";
  body += "set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05\n";
  const int c_series = csv.col("series"), c_t = csv.col("temperature"), c_a = csv.col("alpha"),
            c_e = csv.col("alpha_err");
  std::vector<std::string> plots;
  for (std::size_t i = 0; i < rhos.size(); ++i) {
    if (!drawn[i]) continue;
    const std::string sel = fmt::format("${}=={}", c_series, i);
    // A NaN error (singular fit) draws the point without a bar rather than dropping it.
    plots.push_back(fmt::format(
        "'alpha_vs_temperature.csv' skip 1 using {t}:({sel} ? ${a} : NaN):({sel} ? (${e}==${e} ? "
        "${e} : 0) : NaN) with yerrorlines lw 2 pt 7 ps 1.2 lc rgb '{color}' title {title}",
        fmt::arg("t", c_t), fmt::arg("sel", sel), fmt::arg("a", c_a), fmt::arg("e", c_e),
        fmt::arg("color", detail::category_color(i)),
        fmt::arg("title", quote(rho_label(rhos[i])))));
  }
  const Guides guides = theory_guides(s);
  body += guides.setup;
  plots.insert(plots.end(), guides.entries.begin(), guides.entries.end());
  body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  detail::render(dir, "alpha_vs_temperature", csv, body, s.gnuplot);
  return true;
}

bool alpha_vs_step(const Sweep& s, const fs::path& dir) {
  // (ρ, T) → step → per-replicate (α, SE)
  std::map<Cell, std::map<int64_t, std::vector<std::pair<double, double>>>> series_data;
  for (const auto& f : s.fits) {
    auto& by_step = series_data[{f.rho, f.temperature}];
    for (std::size_t i = 0; i < f.step.size(); ++i) {
      by_step[f.step[i]].push_back({f.alpha[i], f.alpha_se[i]});
    }
  }
  std::size_t longest = 0;
  for (const auto& [_, by_step] : series_data) longest = std::max(longest, by_step.size());
  if (longest < 2) {
    spdlog::info(
        "alpha_vs_step skipped: the fits in {} have one evaluated step per group (the job "
        "evaluates only at the end; set train.eval.every to see α during training)",
        s.path);
    return false;
  }

  std::vector<double> rhos, temps;
  for (const auto& [cell, _] : series_data) {
    rhos.push_back(cell.first);
    temps.push_back(cell.second);
  }
  rhos = sorted_unique(rhos);
  temps = sorted_unique(temps);
  // Temperatures get the colours, ρ the dash patterns: about kMaxSeries lines in all, but at
  // least two temperatures per ρ so the trend shows.
  const std::vector<double> shown_rhos = spread(rhos, kMaxPanels);
  const std::size_t per_rho =
      std::clamp<std::size_t>((kMaxSeries + 2) / shown_rhos.size(), 2, kMaxSeries);
  const std::vector<double> shown_temps = spread(temps, per_rho);

  Csv csv({"series", "rho", "temperature", "step", "alpha", "alpha_err", "n_replicates"});
  struct Line {
    std::size_t series;
    std::string title, color;
    int dash;
  };
  std::vector<Line> lines;
  ErrorKinds kinds;
  for (std::size_t ri = 0; ri < shown_rhos.size(); ++ri) {
    for (std::size_t ti = 0; ti < shown_temps.size(); ++ti) {
      const Cell cell{shown_rhos[ri], shown_temps[ti]};
      auto it = series_data.find(cell);
      if (it == series_data.end()) continue;
      const std::size_t series = lines.size();
      std::size_t points = 0;
      for (const auto& [step, values] : it->second) {
        const AlphaPoint p = combine(values);
        if (p.n == 0) continue;
        kinds.add(p);
        csv.row({num(static_cast<long long>(series)), param(cell.first), param(cell.second),
                 num(static_cast<long long>(step)), num(p.alpha), num(p.err),
                 num(static_cast<long long>(p.n))});
        ++points;
      }
      if (points == 0) continue;
      lines.push_back({series, cell_label(cell), detail::ramp_color(ti, shown_temps.size()),
                       static_cast<int>(ri) + 1});
    }
  }
  if (lines.empty()) {
    spdlog::warn("alpha_vs_step skipped: every fit in {} failed", s.path);
    return false;
  }

  std::string shown;
  if (shown_temps.size() < temps.size()) {
    shown += fmt::format("{} of {} temperatures shown, spread over the range", shown_temps.size(),
                         temps.size());
  }
  if (shown_rhos.size() < rhos.size()) {
    shown += fmt::format("{}{} of {} ρ shown", shown.empty() ? "" : "; ", shown_rhos.size(),
                         rhos.size());
  }
  std::string detail_line = "line: α_ℓ of the fit at that step;  " + kinds.note("band");
  if (!shown.empty()) detail_line = shown + "\n" + detail_line;
  std::string body;
  body += "set title " + titled("Depth-scaling exponent α_ℓ during training", detail_line) +
          " font ',13'\n";
  body += "set xlabel 'training step'\n";
  body += "set ylabel 'depth-scaling exponent α_ℓ'\n";
  body += "set key outside right top\n";
  body += "set style fill transparent solid 0.15 noborder\n";
  const int c_series = csv.col("series"), c_step = csv.col("step"), c_a = csv.col("alpha"),
            c_e = csv.col("alpha_err");
  std::vector<std::string> plots;
  for (const auto& l : lines) {
    const std::string sel = fmt::format("${}=={}", c_series, l.series);
    plots.push_back(fmt::format(
        "'alpha_vs_step.csv' skip 1 using {x}:({sel} && ${e}==${e} ? ${a}-${e} : NaN):({sel} && "
        "${e}==${e} ? ${a}+${e} : NaN) with filledcurves lc rgb '{c}' notitle",
        fmt::arg("x", c_step), fmt::arg("sel", sel), fmt::arg("a", c_a), fmt::arg("e", c_e),
        fmt::arg("c", l.color)));
    plots.push_back(fmt::format(
        "'alpha_vs_step.csv' skip 1 using {x}:({sel} ? ${a} : NaN) with lines lw 2 dt {d} lc "
        "rgb '{c}' title {t}",
        fmt::arg("x", c_step), fmt::arg("sel", sel), fmt::arg("a", c_a), fmt::arg("d", l.dash),
        fmt::arg("c", l.color), fmt::arg("t", quote(l.title))));
  }
  const Guides guides = theory_guides(s);
  body += guides.setup;
  plots.insert(plots.end(), guides.entries.begin(), guides.entries.end());
  body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  detail::render(dir, "alpha_vs_step", csv, body, s.gnuplot);
  return true;
}

bool loss_vs_depth(const Sweep& s, const fs::path& dir) {
  // One fit group per (ρ, T): its lowest teacher replicate; then up to kMaxSeries spread over
  // the temperatures of each ρ.
  std::map<Cell, const FitInfo*> first;
  for (const auto& f : s.fits) {
    auto [it, fresh] = first.emplace(Cell{f.rho, f.temperature}, &f);
    if (!fresh && f.teacher < it->second->teacher) it->second = &f;
  }
  std::map<double, std::vector<double>> temps_of;
  for (const auto& [cell, _] : first) temps_of[cell.first].push_back(cell.second);
  std::vector<double> rhos;
  for (const auto& [rho, _] : temps_of) rhos.push_back(rho);
  rhos = spread(rhos, kMaxSeries);
  const std::size_t per_rho = std::max<std::size_t>(1, kMaxSeries / rhos.size());
  std::vector<const FitInfo*> chosen;
  for (double rho : rhos) {
    for (double t : spread(temps_of[rho], per_rho)) chosen.push_back(first[{rho, t}]);
  }

  Csv csv({"series", "rho", "temperature", "teacher", "kind", "depth", "loss"});
  struct Series {
    std::size_t index;
    std::string title;
  };
  std::vector<Series> series;
  std::vector<int64_t> all_depths;
  Extent x_extent, y_extent;
  bool offset = false;
  const auto has_test_loss = [](const TaskInfo& t) { return !t.test_loss.empty(); };
  for (const FitInfo* f : chosen) {
    const auto tasks = group_tasks(s, f->rho, f->temperature, f->teacher, has_test_loss);
    if (tasks.empty()) continue;
    const std::size_t index = series.size();
    const auto row = [&](const char* kind, double depth, double loss) {
      csv.row({num(static_cast<long long>(index)), param(f->rho), param(f->temperature),
               num(static_cast<long long>(f->teacher)), kind, num(depth), num(loss)});
      x_extent.add(depth);
      y_extent.add(loss);
    };
    for (const TaskInfo* t : tasks) {
      row("data", static_cast<double>(t->depth), static_cast<double>(t->test_loss.back()));
      all_depths.push_back(t->depth);
    }
    std::string title = cell_label({f->rho, f->temperature});
    const double alpha = f->alpha.back(), c = f->c.back(), L0 = f->L0.back();
    if (std::isfinite(alpha) && std::isfinite(c) && std::isfinite(L0)) {
      // The fitted curve, sampled evenly in log depth over the depths it was fitted to.
      const double lo = static_cast<double>(tasks.front()->depth);
      const double hi = static_cast<double>(tasks.back()->depth);
      constexpr int kSamples = 60;
      for (int i = 0; i < kSamples; ++i) {
        const double depth = lo * std::pow(hi / lo, static_cast<double>(i) / (kSamples - 1));
        const double x = depth - f->depth_offset;
        row("fit", depth, x > 0 ? c * std::pow(x, -alpha) + L0 : NAN);
      }
      offset = offset || f->depth_offset != 0;
      title += fmt::format(":  α_ℓ = {:.2f}", alpha);
      if (std::isfinite(f->alpha_se.back())) title += fmt::format(" ± {:.2f}", f->alpha_se.back());
    } else {
      title += ":  fit failed";
    }
    series.push_back({index, title});
  }
  if (series.empty()) {
    spdlog::info("loss_vs_depth skipped: no complete task with a test loss matches a fit in {}",
                 s.path);
    return false;
  }

  std::string detail_line = "points: test loss of each trained student;  lines: fit at the end";
  if (series.size() < first.size()) {
    detail_line += fmt::format(
        "\n{} of {} (ρ, T) groups shown, each with its lowest teacher replicate (± is the fit SE)",
        series.size(), first.size());
  } else {
    detail_line += "\nlowest teacher replicate of each (ρ, T) group; ± is the fit SE";
  }
  detail::PanelLayout layout;
  layout.panels = 1;
  layout.title_lines = 3;
  layout.panel_titles = false;
  layout.key_rows = static_cast<int>((series.size() + 1) / 2);
  std::string body = detail::multiplot_begin(
      titled("Final test loss against student depth, with fits c·ℓ^{-α_ℓ} + L_0", detail_line));
  body += detail::panel_margins(layout, 0);
  body += offset
              ? "set xlabel 'student depth ℓ (residual blocks, log scale; fits use ℓ − offset)'\n"
              : "set xlabel 'student depth ℓ (residual blocks, log scale)'\n";
  body += "set ylabel 'test loss after training (log scale)'\n";
  body += "set logscale xy\nset format y '%g'\n";
  body += detail::log_axis("y", y_extent.lo, y_extent.hi);
  all_depths = sorted_unique(all_depths);
  std::vector<std::string> tics;
  for (int64_t d : all_depths) tics.push_back(std::to_string(d));
  body += fmt::format("set xrange [{}:{}]\n", num(x_extent.lo / 1.12), num(x_extent.hi * 1.12));
  body += "set xtics (" + detail::join(tics, ", ") + ")\nset mxtics default\n";
  const int c_series = csv.col("series"), c_kind = csv.col("kind"), c_d = csv.col("depth"),
            c_l = csv.col("loss");
  std::vector<std::string> plots;
  std::vector<detail::KeyEntry> key;
  for (const auto& se : series) {
    const std::string color = series.size() <= 7 ? detail::category_color(se.index)
                                                 : detail::ramp_color(se.index, series.size());
    for (const char* kind : {"fit", "data"}) {
      const std::string sel =
          fmt::format("${}=={} && strcol({})eq'{}'", c_series, se.index, c_kind, kind);
      const bool data = std::string(kind) == "data";
      plots.push_back(fmt::format(
          "'loss_vs_depth.csv' skip 1 using {d}:({sel} ? ${l} : NaN) {how} lc rgb '{c}' notitle",
          fmt::arg("d", c_d), fmt::arg("sel", sel), fmt::arg("l", c_l),
          fmt::arg("how", data ? "with points pt 7 ps 1.3" : "with lines lw 2"),
          fmt::arg("c", color)));
    }
    key.push_back({"with linespoints pt 7 ps 1.3 lw 2 lc rgb '" + color + "'", se.title});
  }
  body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  body += detail::key_strip(layout, key);
  body += "unset multiplot\n";
  detail::render(dir, "loss_vs_depth", csv, body, s.gnuplot);
  return true;
}

// ---- figures from /tasks ---------------------------------------------------------------------

std::string group_title(const Representative& r) {
  return cell_label({r.rho, r.temperature}) + fmt::format(", teacher replicate {}", r.teacher);
}

bool training_curves(const Sweep& s, const fs::path& dir) {
  const auto usable = [](const TaskInfo&) { return true; };
  const auto reps = representatives(s, usable);
  if (reps.empty()) return false;

  std::vector<int64_t> depths;
  for (const auto& t : s.tasks) depths.push_back(t.depth);
  depths = sorted_unique(depths);

  Csv csv({"panel", "rho", "temperature", "teacher", "depth", "step", "train_loss_smoothed"});
  struct Panel {
    std::size_t index;  // the panel column in the CSV
    std::string title;
    std::vector<int64_t> curves;  // depths
    Extent y;
    std::size_t steps = 0;
  };
  std::vector<Panel> panels;
  std::size_t window_shown = 0;
  for (const auto& r : reps) {
    Panel panel{panels.size(), group_title(r), {}, {}, 0};
    for (const TaskInfo* t : group_tasks(s, r.rho, r.temperature, r.teacher, usable)) {
      std::vector<float> loss;
      try {
        loss = read_train_loss(s, t->key);
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/tasks/{}: train_loss unreadable, curve left out: {}", s.path, t->key,
                     e.what());
        continue;
      }
      if (loss.empty()) continue;
      // A trailing running mean over about 1% of training, ignoring non-finite steps; then at
      // most ~500 points per curve, which is all a 900-pixel figure can show.
      const std::size_t n = loss.size();
      const std::size_t window = std::max<std::size_t>(1, n / 100);
      window_shown = std::max(window_shown, window);
      std::vector<double> sum(n + 1, 0.0);
      std::vector<std::size_t> count(n + 1, 0);
      for (std::size_t i = 0; i < n; ++i) {
        const bool ok = std::isfinite(loss[i]);
        sum[i + 1] = sum[i] + (ok ? loss[i] : 0.0);
        count[i + 1] = count[i] + (ok ? 1 : 0);
      }
      const std::size_t stride = std::max<std::size_t>(1, (n + 499) / 500);
      for (std::size_t i = 0; i < n; ++i) {
        if ((i + 1) % stride != 0 && i + 1 != n) continue;
        const std::size_t lo = i + 1 >= window ? i + 1 - window : 0;
        const std::size_t k = count[i + 1] - count[lo];
        const double mean = k ? (sum[i + 1] - sum[lo]) / k : NAN;
        csv.row({num(static_cast<long long>(panel.index)), param(r.rho), param(r.temperature),
                 num(static_cast<long long>(r.teacher)), num(static_cast<long long>(t->depth)),
                 num(static_cast<long long>(i + 1)), num(mean)});
        panel.y.add(mean);
      }
      panel.steps = std::max(panel.steps, n);
      panel.curves.push_back(t->depth);
    }
    if (!panel.curves.empty()) panels.push_back(panel);
  }
  if (panels.empty()) {
    spdlog::info("training_curves skipped: no complete task in {} has a train_loss", s.path);
    return false;
  }

  const std::string headline = "Training loss against step, one line per student depth ℓ";
  std::string detail_line = fmt::format("running mean over the last {} steps", window_shown);
  if (panels.size() == 1) detail_line = panels[0].title + ";  " + detail_line;
  std::vector<int64_t> shown;
  for (const auto& panel : panels)
    shown.insert(shown.end(), panel.curves.begin(), panel.curves.end());
  shown = sorted_unique(shown);
  detail::PanelLayout layout;
  layout.panels = panels.size();
  layout.panel_titles = panels.size() > 1;
  layout.key_rows = shown.size() > 8 ? 2 : 1;
  std::string body = detail::multiplot_begin(titled(headline, detail_line));
  body += "set ylabel 'train loss (log scale)'\n";
  body += "set xlabel 'training step'\n";
  body += "set logscale y\nset format y '%g'\n";
  const int c_panel = csv.col("panel"), c_depth = csv.col("depth"), c_step = csv.col("step"),
            c_loss = csv.col("train_loss_smoothed");
  const auto style = [&](int64_t d) {
    const std::size_t di = std::lower_bound(depths.begin(), depths.end(), d) - depths.begin();
    return "with lines lw 1.5 lc rgb '" + detail::ramp_color(di, depths.size()) + "'";
  };
  for (const auto& panel : panels) {
    body += "set title " + quote(panels.size() > 1 ? panel.title : "") + "\n";
    body += detail::panel_margins(layout, panel.index);
    body += detail::log_axis("y", panel.y.lo, panel.y.hi);
    body += fmt::format("set xrange [0:{}]\n", panel.steps);
    std::vector<std::string> plots;
    for (int64_t d : panel.curves) {
      plots.push_back(fmt::format(
          "'training_curves.csv' skip 1 using {x}:(${pc}=={p} && ${dc}=={d} ? ${l} : NaN) {s} "
          "notitle",
          fmt::arg("x", c_step), fmt::arg("pc", c_panel), fmt::arg("p", panel.index),
          fmt::arg("dc", c_depth), fmt::arg("d", d), fmt::arg("l", c_loss),
          fmt::arg("s", style(d))));
    }
    body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  }
  std::vector<detail::KeyEntry> key;
  for (int64_t d : shown) key.push_back({style(d), fmt::format("ℓ = {}", d)});
  body += detail::key_strip(layout, key);
  body += "unset multiplot\n";
  detail::render(dir, "training_curves", csv, body, s.gnuplot);
  return true;
}

// hidden_angles (θ(h_l, h_{l+1}), dataset theta, layers 0..ℓ−1) or hidden_dh_angles
// (θ(Δh_l, Δh_{l+1}), dataset theta_dh, layers 1..ℓ−1).
bool hidden_figure(const Sweep& s, const fs::path& dir, bool dh) {
  const std::string name = dh ? "hidden_dh_angles" : "hidden_angles";
  const std::string dataset = dh ? "theta_dh" : "theta";
  const int64_t first_layer = dh ? 1 : 0;
  const auto usable = [](const TaskInfo& t) { return t.has_hidden; };
  const auto reps = representatives(s, usable);
  if (reps.empty()) {
    spdlog::info("{} skipped: no complete task in {} has hidden-state probes (probe_hidden)", name,
                 s.path);
    return false;
  }
  std::vector<int64_t> depths;
  for (const auto& t : s.tasks) {
    if (t.has_hidden) depths.push_back(t.depth);
  }
  depths = sorted_unique(depths);

  Csv csv({"panel", "rho", "temperature", "teacher", "network", "depth", "layer", "mean_angle"});
  struct Curve {
    std::string title, color;
    int64_t depth;
    bool teacher;
  };
  struct Panel {
    std::size_t index;
    std::string title;
    std::vector<Curve> curves;
    Extent y;
    int64_t last_layer = 0;
  };
  std::vector<Panel> panels;
  const store::Group root = s.file.root();
  for (const auto& r : reps) {
    Panel panel{panels.size(), group_title(r), {}, {}, 0};
    const auto add = [&](const store::Group& g, const char* network, int64_t depth) {
      const auto means = hidden_means(g, dataset);
      for (std::size_t j = 0; j < means.size(); ++j) {
        const int64_t layer = first_layer + static_cast<int64_t>(j);
        csv.row({num(static_cast<long long>(panel.index)), param(r.rho), param(r.temperature),
                 num(static_cast<long long>(r.teacher)), network,
                 num(static_cast<long long>(depth)), num(static_cast<long long>(layer)),
                 num(means[j])});
        panel.y.add(means[j]);
        panel.last_layer = std::max(panel.last_layer, layer);
      }
      return !means.empty();
    };
    for (const TaskInfo* t : group_tasks(s, r.rho, r.temperature, r.teacher, usable)) {
      try {
        if (add(root.open_group("tasks").open_group(t->key), "student", t->depth)) {
          const std::size_t di =
              std::lower_bound(depths.begin(), depths.end(), t->depth) - depths.begin();
          panel.curves.push_back({fmt::format("student ℓ = {}", t->depth),
                                  detail::ramp_color(di, depths.size()), t->depth, false});
        }
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/tasks/{}/hidden unreadable, curve left out: {}", s.path, t->key,
                     e.what());
      }
    }
    for (const auto& t : s.teachers) {
      if (t.rho != r.rho || t.teacher != r.teacher) continue;
      try {
        const auto g = root.open_group("teachers").open_group(t.key);
        if (add(g, "teacher", t.depth)) {
          panel.curves.push_back(
              {fmt::format("teacher ℓ* = {}", t.depth), "#000000", t.depth, true});
        }
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/teachers/{}/hidden unreadable, curve left out: {}", s.path, t.key,
                     e.what());
      }
      break;
    }
    if (!panel.curves.empty()) panels.push_back(panel);
  }
  if (panels.empty()) {
    spdlog::info("{} skipped: the hidden-state probes in {} could not be read", name, s.path);
    return false;
  }

  const std::string what = dh ? "⟨θ(Δh_l, Δh_{l+1})⟩" : "⟨θ(h_l, h_{l+1})⟩";
  const std::string headline =
      dh ? "Angle between consecutive residual updates Δh_l = h_l − h_{l−1}"
         : "Angle between consecutive hidden states h_l and h_{l+1}";
  std::string detail_line = "mean over probe inputs, trained students and their teacher";
  if (panels.size() == 1) detail_line = panels[0].title + ";  " + detail_line;
  std::set<std::pair<bool, int64_t>> distinct;  // (teacher?, depth)
  for (const auto& panel : panels) {
    for (const auto& c : panel.curves) distinct.insert({c.teacher, c.depth});
  }
  detail::PanelLayout layout;
  layout.panels = panels.size();
  layout.panel_titles = panels.size() > 1;
  layout.key_rows = distinct.size() > 5 ? 2 : 1;
  std::string body = detail::multiplot_begin(titled(headline, detail_line));
  body += "set xlabel 'layer index l'\n";
  body += "set ylabel " + quote(what + "  (radians, log scale)") + "\n";
  body += "set logscale y\nset format y '%g'\n";
  const int c_panel = csv.col("panel"), c_net = csv.col("network"), c_depth = csv.col("depth"),
            c_layer = csv.col("layer"), c_angle = csv.col("mean_angle");
  const auto style = [](const Curve& c) {
    return fmt::format("with linespoints lw {} pt 7 ps 0.5 lc rgb '{}'", c.teacher ? 2.5 : 1.5,
                       c.color);
  };
  std::map<std::pair<bool, int64_t>, detail::KeyEntry> key_by_curve;  // students first, by depth
  for (const auto& panel : panels) {
    body += "set title " + quote(panels.size() > 1 ? panel.title : "") + "\n";
    body += detail::panel_margins(layout, panel.index);
    body += detail::log_axis("y", panel.y.lo, panel.y.hi);
    body += fmt::format("set xrange [{}:{}]\n", first_layer - 1, panel.last_layer + 1);
    std::vector<std::string> plots;
    for (const auto& c : panel.curves) {
      plots.push_back(fmt::format(
          "'{f}.csv' skip 1 using {x}:(${pc}=={p} && strcol({nc})eq'{net}' && ${dc}=={d} ? ${a} : "
          "NaN) {s} notitle",
          fmt::arg("f", name), fmt::arg("x", c_layer), fmt::arg("pc", c_panel),
          fmt::arg("p", panel.index), fmt::arg("nc", c_net),
          fmt::arg("net", c.teacher ? "teacher" : "student"), fmt::arg("dc", c_depth),
          fmt::arg("d", c.depth), fmt::arg("a", c_angle), fmt::arg("s", style(c))));
      key_by_curve.emplace(std::make_pair(c.teacher, c.depth), detail::KeyEntry{style(c), c.title});
    }
    body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  }
  std::vector<detail::KeyEntry> key;
  for (const auto& [_, entry] : key_by_curve) key.push_back(entry);
  body += detail::key_strip(layout, key);
  body += "unset multiplot\n";
  detail::render(dir, name, csv, body, s.gnuplot);
  return true;
}

// test_loss_vs_step (the study's Fig 4c): the test loss against training step at one student
// depth — the deepest every temperature has — with one line per temperature and a panel per ρ,
// averaged over teacher replicates at the steps they share.
bool test_loss_vs_step(const Sweep& s, const fs::path& dir) {
  std::map<double, std::map<double, std::set<int64_t>>> depths_of;  // ρ → T → depths
  std::vector<double> temps;
  for (const auto& t : s.tasks)
    if (t.eval_step.size() >= 2 && t.eval_step.size() == t.test_loss.size()) {
      depths_of[t.rho][t.temperature].insert(t.depth);
      temps.push_back(t.temperature);
    }
  if (depths_of.empty()) {
    spdlog::info(
        "test_loss_vs_step skipped: no complete task in {} was evaluated at two steps or "
        "more (train.eval.every)",
        s.path);
    return false;
  }
  temps = sorted_unique(temps);
  Csv csv({"panel", "rho", "temperature", "depth", "step", "test_loss", "n_replicates"});
  struct Panel {
    std::size_t index;
    double rho;
    int64_t depth;
    std::vector<double> temps;
    Extent y;
    int64_t last_step = 0;
  };
  std::vector<Panel> panels;
  for (const auto& [rho, by_t] : depths_of) {
    // The deepest depth that every temperature of this ρ evaluated.
    std::set<int64_t> common = by_t.begin()->second;
    for (const auto& [T, ds] : by_t) {
      std::set<int64_t> both;
      for (int64_t d : ds)
        if (common.count(d)) both.insert(d);
      common.swap(both);
    }
    if (common.empty()) continue;
    Panel panel{panels.size(), rho, *common.rbegin(), {}, {}, 0};
    for (const auto& [T, ds] : by_t) {
      std::map<int64_t, std::vector<double>> at_step;
      int replicates = 0;
      for (const auto& t : s.tasks) {
        if (t.rho != rho || t.temperature != T || t.depth != panel.depth ||
            t.eval_step.size() != t.test_loss.size())
          continue;
        ++replicates;
        for (std::size_t i = 0; i < t.eval_step.size(); ++i)
          at_step[t.eval_step[i]].push_back(t.test_loss[i]);
      }
      bool any = false;
      for (const auto& [step, v] : at_step) {
        if (int(v.size()) != replicates) continue;  // a step not every replicate has
        double m = 0;
        for (double x : v) m += x / double(v.size());
        csv.row({num(static_cast<long long>(panel.index)), param(rho), param(T),
                 num(static_cast<long long>(panel.depth)), num(static_cast<long long>(step)),
                 num(m), num(static_cast<long long>(replicates))});
        panel.y.add(m);
        panel.last_step = std::max(panel.last_step, step);
        any = true;
      }
      if (any) panel.temps.push_back(T);
    }
    if (!panel.temps.empty()) panels.push_back(panel);
  }
  if (panels.empty()) {
    spdlog::info("test_loss_vs_step skipped: no ρ of {} has a depth every temperature evaluated",
                 s.path);
    return false;
  }
  detail::PanelLayout layout;
  layout.panels = panels.size();
  layout.panel_titles = panels.size() > 1;
  layout.key_rows = temps.size() > 8 ? 2 : 1;
  std::string detail_line = "mean over teacher replicates;  one line per temperature T";
  if (panels.size() == 1)
    detail_line =
        fmt::format("{}, ℓ = {};  ", rho_label(panels[0].rho), panels[0].depth) + detail_line;
  std::string body = detail::multiplot_begin(
      titled("Test loss against training step at a fixed depth", detail_line));
  body += "set ylabel 'test loss (log scale)'\nset xlabel 'training step'\n";
  body += "set logscale y\nset format y '%g'\n";
  const int c_panel = csv.col("panel"), c_t = csv.col("temperature"), c_step = csv.col("step"),
            c_loss = csv.col("test_loss");
  const auto style = [&](double T) {
    const std::size_t ti = std::lower_bound(temps.begin(), temps.end(), T) - temps.begin();
    return "with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '" + detail::ramp_color(ti, temps.size()) +
           "'";
  };
  std::set<double> shown;
  for (const auto& panel : panels) {
    body += "set title " +
            quote(panels.size() > 1 ? fmt::format("{}, ℓ = {}", rho_label(panel.rho), panel.depth)
                                    : "") +
            "\n";
    body += detail::panel_margins(layout, panel.index);
    body += detail::log_axis("y", panel.y.lo, panel.y.hi);
    body += fmt::format("set xrange [0:{}]\n", panel.last_step);
    std::vector<std::string> plots;
    for (double T : panel.temps) {
      // A grid without temperature (the MSE experiments): one line per panel.
      const std::string same_t =
          T == kAbsent ? "1" : fmt::format("abs(${}-({}))<=1e-12*abs({})", c_t, param(T), param(T));
      plots.push_back(fmt::format(
          "'test_loss_vs_step.csv' skip 1 using {}:(${}=={} && {} ? ${} : NaN) {} notitle", c_step,
          c_panel, panel.index, same_t, c_loss, style(T)));
      shown.insert(T);
    }
    body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  }
  std::vector<detail::KeyEntry> key;
  for (double T : shown)
    key.push_back({style(T), T == kAbsent ? "test loss" : "T = " + fmt_param(T)});
  body += detail::key_strip(layout, key);
  body += "unset multiplot\n";
  detail::render(dir, "test_loss_vs_step", csv, body, s.gnuplot);
  return true;
}

// theta_vs_depth (the study's Fig 5b): ⟨θ⟩_{D,l}, the angle between consecutive hidden states
// averaged over probe inputs and the middle layers 1..ℓ−2, against the student depth ℓ, log-log,
// with the fitted slope ± SE per (ρ, T) and a 1/ℓ guide: the claim is slope ≈ −1. Teacher
// replicates are averaged at each depth; depths below 3 have no middle layer.
bool theta_vs_depth(const Sweep& s, const fs::path& dir) {
  std::vector<double> rhos, temps;
  for (const auto& t : s.tasks)
    if (t.has_hidden && t.depth >= 3) {
      rhos.push_back(t.rho);
      temps.push_back(t.temperature);
    }
  if (rhos.empty()) {
    spdlog::info(
        "theta_vs_depth skipped: no complete task in {} of depth >= 3 has hidden-state "
        "probes (probe_hidden)",
        s.path);
    return false;
  }
  rhos = sorted_unique(rhos);
  temps = spread(sorted_unique(temps), 3);
  const store::Group tasks = s.file.root().open_group("tasks");
  struct Series {
    double rho, temperature;
    std::vector<double> depth, theta;
    detail::LogLogSlope fit;
  };
  std::vector<Series> series;
  Csv csv({"series", "rho", "temperature", "depth", "theta_middle", "n_replicates"});
  for (double rho : rhos)
    for (double T : temps) {
      std::map<int64_t, std::vector<double>> by_depth;
      for (const auto& t : s.tasks) {
        if (!t.has_hidden || t.depth < 3 || t.rho != rho || t.temperature != T) continue;
        try {
          const auto means = hidden_means(tasks.open_group(t.key), "theta");
          if (int64_t(means.size()) != t.depth) continue;
          double m = 0;
          for (int64_t l = 1; l + 1 < t.depth; ++l) m += means[size_t(l)] / double(t.depth - 2);
          by_depth[t.depth].push_back(m);
        } catch (const store::StoreError& e) {
          spdlog::warn("{}:/tasks/{}/hidden unreadable, left out: {}", s.path, t.key, e.what());
        }
      }
      if (by_depth.size() < 2) continue;
      Series sr{rho, T, {}, {}, {}};
      for (const auto& [depth, v] : by_depth) {
        double m = 0;
        for (double x : v) m += x / double(v.size());
        sr.depth.push_back(double(depth));
        sr.theta.push_back(m);
        csv.row({num(static_cast<long long>(series.size())), param(rho), param(T),
                 num(static_cast<long long>(depth)), num(m),
                 num(static_cast<long long>(v.size()))});
      }
      sr.fit = detail::log_log_slope(sr.depth, sr.theta);
      series.push_back(std::move(sr));
    }
  if (series.empty()) {
    spdlog::info("theta_vs_depth skipped: no (ρ, T) of {} has two depths >= 3 with probes", s.path);
    return false;
  }
  std::string body;
  body += "set title " +
          titled("Mean angle between consecutive hidden states against depth",
                 "mean over probe inputs and middle layers 1..ℓ−2;  lines: fitted power law") +
          " font ',13'\n";
  body +=
      "set xlabel 'student depth ℓ (log scale)'\nset ylabel '⟨θ⟩_{D,l}  (radians, log scale)'\n";
  body += "set logscale xy\nset format x '%g'\nset format y '%g'\n";
  body += "set key outside right top\n";
  Extent xs, ys;
  for (const auto& sr : series) {
    for (double d : sr.depth) xs.add(d);
    for (double t : sr.theta) ys.add(t);
  }
  // The depths themselves as x tics; the y axis as the other log figures draw it.
  std::vector<std::string> xt;
  for (double d : series[0].depth) xt.push_back(num(d));
  body += "set xtics (" + detail::join(xt, ", ") + ")\n";
  body += fmt::format("set xrange [{}:{}]\n", num(xs.lo / 1.15), num(xs.hi * 1.15));
  body += detail::log_axis("y", ys.lo, ys.hi);
  const int c_s = csv.col("series"), c_d = csv.col("depth"), c_t = csv.col("theta_middle");
  std::vector<std::string> plots;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& sr = series[i];
    const std::string color = detail::category_color(i);
    std::string label = temps.size() > 1 || sr.temperature == kAbsent
                            ? cell_label({sr.rho, sr.temperature})
                            : rho_label(sr.rho);
    plots.push_back(fmt::format(
        "'theta_vs_depth.csv' skip 1 using {}:(${}=={} ? ${} : NaN) with points pt 7 ps 1.2 lc "
        "rgb '{}' title {}",
        c_d, c_s, i, c_t, color, quote(label)));
    if (std::isfinite(sr.fit.slope))
      plots.push_back(
          fmt::format("{} * x**({}) with lines lw 2 lc rgb '{}' title {}",
                      num(std::exp(sr.fit.log_intercept)), num(sr.fit.slope), color,
                      quote(std::isfinite(sr.fit.se)
                                ? fmt::format("slope {:.2f} ± {:.2f}", sr.fit.slope, sr.fit.se)
                                : fmt::format("slope {:.2f}", sr.fit.slope))));
  }
  // 1/ℓ through the first series' shallowest point.
  const double x0 = series[0].depth.front(), y0 = series[0].theta.front();
  plots.push_back(
      fmt::format("{} / x with lines lw 1.2 dt 2 lc rgb '#777777' title '1/ℓ'", num(x0 * y0)));
  body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  detail::render(dir, "theta_vs_depth", csv, body, s.gnuplot);
  return true;
}

std::string default_out_dir(const std::string& path) {
  std::string base = path;
  if (base.size() > 3 && base.compare(base.size() - 3, 3, ".h5") == 0) {
    base.resize(base.size() - 3);
  }
  return base + "-figures";
}

}  // namespace

int plot_sweep(const PlotOptions& options) {
  const std::string out = options.out_dir.empty() ? default_out_dir(options.path) : options.out_dir;
  Sweep s;
  try {
    s = load(options.path);
  } catch (const PlotError&) {
    throw;
  } catch (const std::exception& e) {
    throw PlotError("plotting " + options.path + ": " + e.what());
  }
  s.gnuplot = options.gnuplot;
  // An LLM probe run (SPEC.md §2) writes /probe/<model> groups and leaves /tasks empty.
  const bool has_probe = !detail::complete_probe_models(s.file.root()).empty();
  if (s.tasks.empty() && s.fits.empty() && !has_probe)
    throw PlotError(options.path +
                    " has no complete tasks or probed models yet (status=complete): nothing to "
                    "plot");
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw PlotError("cannot create the figure folder " + out + ": " + ec.message());

  int made = 0, failed = 0;
  const auto attempt = [&](const std::function<bool()>& figure) {
    try {
      if (figure()) ++made;
    } catch (const PlotError& e) {
      spdlog::error("{}", e.what());
      ++failed;
    } catch (const store::StoreError& e) {
      spdlog::error("reading {}: {}", options.path, e.what());
      ++failed;
    }
  };
  if (s.fits.empty()) {
    // A probe-only file has no toy sweep to reduce: no advice about /fits for it.
    if (!s.tasks.empty() || s.has_fits_group) {
      spdlog::info(
          "{} has no {}: skipping alpha_vs_temperature, alpha_vs_step and loss_vs_depth; run "
          "`depthscale reduce {}` first to fit L(ℓ) = c·ℓ^-α + L0",
          options.path, s.has_fits_group ? "usable fits under /fits" : "/fits group", options.path);
    }
  } else {
    attempt([&] { return alpha_vs_temperature(s, out); });
    attempt([&] { return alpha_vs_step(s, out); });
    attempt([&] { return loss_vs_depth(s, out); });
  }
  if (!s.tasks.empty()) {
    attempt([&] { return training_curves(s, out); });
    attempt([&] { return hidden_figure(s, out, false); });
    attempt([&] { return hidden_figure(s, out, true); });
    attempt([&] { return theta_vs_depth(s, out); });
    attempt([&] { return test_loss_vs_step(s, out); });
  }
  if (has_probe) detail::probe_figures(s.file.root(), options.path, out, options.gnuplot, attempt);
  detail::trajectory_figures(s.file.root(), options.path, out, s.gnuplot, options.select, attempt);
  if (failed > 0)
    throw PlotError(std::to_string(failed) + " of " + std::to_string(failed + made) +
                    " figures for " + options.path + " failed (see above)");
  spdlog::info("{} figure(s) from {} in {}", made, options.path, out);
  return made;
}

}  // namespace depthscale::plot
