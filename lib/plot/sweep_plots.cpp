// `depthscale plot FILE.h5...`: figures of toy sweeps (docs/experiments.md §1) from their /tasks,
// /teachers and /fits groups (docs/sweep-file.md). Each figure reads what it needs, writes the
// numbers it draws to NAME.csv and renders NAME.gp; a figure without data is skipped with a log
// line saying why. Several files are drawn together: every series and panel belongs to one file
// (its `file` column in the CSVs), and labels name the file where two files share a (ρ, T).
// PlotOptions::select restricts what is read before any figure chooses what to show. The figures of
// an LLM probe run's /probe groups (docs/experiments.md §2) are in probe_plots.cpp.
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
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
using detail::Extent;
using detail::num;
using detail::PlotError;
using detail::quote;
using detail::sorted_unique;
using detail::spread;
using detail::titled;

namespace {

// ρ and T are grid parameters a job may leave out (the MSE experiments have no temperature);
// kAbsent marks that, and labels leave such a parameter out. Both are ≥ 0 when present.
constexpr double kAbsent = -1.0;
constexpr std::size_t kMaxSeries = 6;  // lines per figure before it stops reading at a glance
constexpr std::size_t kMaxPanels = 4;
constexpr std::size_t kMaxTemperaturePanels = 16;  // test_loss_by_temperature: a 4 × 4 grid

// Every task, fit and teacher carries `source`: the index of its file in Sweep::sources.
struct TaskInfo {
  std::size_t source = 0;
  std::string key;
  double rho = kAbsent, temperature = kAbsent;
  int64_t depth = 0, teacher = 0;
  // The grid axes beyond the study's (teacher groups K, teacher depth ℓ*, width m); 0: not given.
  int64_t groups = 0, teacher_depth = 0, width = 0;
  std::vector<int64_t> eval_step;
  std::vector<float> test_loss;
  bool has_hidden = false;
};

struct FitInfo {
  std::size_t source = 0;
  std::string name;
  double rho = kAbsent, temperature = kAbsent;
  int64_t teacher = 0;
  int64_t groups = 0, teacher_depth = 0, width = 0;  // as in TaskInfo
  double depth_offset = 0;
  std::vector<int64_t> step;
  std::vector<double> alpha, alpha_se, c, L0;
};

struct TeacherInfo {
  std::size_t source = 0;
  std::string key;
  double rho = kAbsent;
  int64_t teacher = 0, depth = 0;
  int64_t groups = 0;  // K where the job ties layers in groups
};

// (file, ρ, T): the level at which replicates are averaged.
struct Cell {
  std::size_t source = 0;
  double rho = kAbsent, temperature = kAbsent;
  bool operator<(const Cell& o) const {
    return std::tie(source, rho, temperature) < std::tie(o.source, o.rho, o.temperature);
  }
};
// (file, ρ): a panel or series of the figures that separate ρ.
struct RhoOf {
  std::size_t source = 0;
  double rho = kAbsent;
  bool operator<(const RhoOf& o) const { return std::tie(source, rho) < std::tie(o.source, o.rho); }
  bool operator==(const RhoOf& o) const { return source == o.source && rho == o.rho; }
};

// One sweep file.
struct Source {
  std::string path;
  std::string label;  // the job's name (the file's stem where that does not tell files apart)
  std::shared_ptr<const store::File> file;
  bool has_fits_group = false;
  // The student block of the job that wrote the file (its effective job text), for the theory
  // guides; unknown when that text no longer parses.
  std::optional<config::Block> block;
  // One combination of the file's axes beyond the study (K, ℓ*, m; split_by_axes); 0: none.
  std::array<int64_t, 3> axes{};
};

struct Sweep {
  std::string path;  // the file, or "a.h5, b.h5": for messages
  std::vector<Source> sources;
  std::vector<TaskInfo> tasks;  // status = complete only
  std::vector<FitInfo> fits;
  std::vector<TeacherInfo> teachers;
  std::string gnuplot;  // PlotOptions::gnuplot
  // Two files share a (ρ, T): series and panel labels start with the file's label.
  bool name_files = false;

  store::Group root(std::size_t source) const { return sources.at(source).file->root(); }
  store::Group task_group(const TaskInfo& t) const {
    return root(t.source).open_group("tasks").open_group(t.key);
  }
  const std::string& path_of(std::size_t source) const { return sources.at(source).path; }
};

// The study's theory lines for α_ℓ: ensemble averaging gives 1; a first-order (Euler) procedural
// student 2 or 3; an RK2 (midpoint) one 4 or 5. Dashed grey lines across the whole graph (arrows,
// so they do not depend on the x range; `unset arrow` before the key strip), for the blocks the
// files trained (both procedural pairs when one is unknown), with key entries; the y range
// stretches to show them.
struct Guides {
  std::string setup;                        // gnuplot commands before `plot`
  std::vector<detail::KeyEntry> key_items;  // their entries in the key strip
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
    const std::string style = fmt::format("with lines lw 1.2 dt {} lc rgb '#777777'", dash);
    g.key_items.push_back({style, title});
  };
  bool plain = false, rk2 = false;
  for (const auto& src : s.sources) {
    plain = plain || !src.block || *src.block == config::Block::Plain;
    rk2 = rk2 || !src.block || *src.block == config::Block::Rk2;
  }
  if (s.sources.empty()) plain = rk2 = true;
  line({1}, "theory: ensemble averaging, α = 1", 2);
  if (plain) line({2, 3}, "theory: first-order procedural, α = 2, 3", 3);
  if (rk2) line({4, 5}, "theory: RK2 procedural, α = 4, 5", 4);
  g.setup += fmt::format("set yrange [*:{}<*]\n", top + 0.2);
  return g;
}

std::string fmt_param(double v) {
  return fmt::format("{:.3g}", v);
}

// "exp9-1: " where labels must name the file, else ""; gnuplot enhanced text.
std::string file_prefix(const Sweep& s, std::size_t source) {
  return s.name_files ? detail::literal(s.sources.at(source).label) + ": " : std::string();
}

// "ρ = 0, T = 0.01" (only the parameters the grid has), after the file's label where needed;
// gnuplot enhanced text.
std::string cell_label(const Sweep& s, const Cell& cell) {
  std::vector<std::string> parts;
  if (cell.rho != kAbsent) parts.push_back("ρ = " + fmt_param(cell.rho));
  if (cell.temperature != kAbsent) parts.push_back("T = " + fmt_param(cell.temperature));
  if (parts.empty()) parts.push_back("all tasks");
  return file_prefix(s, cell.source) + detail::join(parts, ", ");
}

std::string rho_label(const Sweep& s, const RhoOf& r) {
  return file_prefix(s, r.source) +
         (r.rho == kAbsent ? std::string("all tasks") : "ρ = " + fmt_param(r.rho));
}

// The file column of the CSVs: the path as given, with the separator characters replaced.
std::string file_cell(const Sweep& s, std::size_t source) {
  std::string p = s.path_of(source);
  for (char& ch : p)
    if (ch == ',' || ch == '\n' || ch == '\r') ch = ';';
  return p;
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

// Per-column means of a 2-D dataset read with its dims (empty unless 2-D).
std::vector<double> column_means(const std::vector<float>& data, const std::vector<hsize_t>& dims) {
  if (dims.size() != 2) return {};
  return detail::column_means(data, dims[0], dims[1]);
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

// Reads one file into `s` as its next source.
void load(Sweep& s, const std::string& path) {
  const std::size_t source = s.sources.size();
  Source src;
  src.path = path;
  src.label = fs::path(path).stem().string();
  if (!looks_like_hdf5(path)) {
    throw PlotError(fmt::format(
        "{} is not an HDF5 file (no HDF5 signature), so not a depthscale sweep file", path));
  }
  try {
    src.file = std::make_shared<const store::File>(store::open_sweep(path));
  } catch (const store::StoreError& e) {
    throw PlotError(fmt::format("cannot read {}: {}", path, e.what()));
  }
  const store::Group root = src.file->root();
  try {
    if (root.has_attr("job_effective")) {
      const config::Job job = config::parse_job(root.attr_string("job_effective"), path);
      src.block = job.model.block;
      if (!job.name.empty()) src.label = job.name;
    }
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
        t.source = source;
        t.key = key;
        if (!g.has_attr("depth")) {
          spdlog::warn("{}:/tasks/{} has no depth attribute; left out of the figures", path, key);
          continue;
        }
        t.depth = to_int(g.attr_double("depth"));
        t.rho = optional_attr(g, "rho", kAbsent);
        t.temperature = optional_attr(g, "temperature", kAbsent);
        t.teacher = to_int(optional_attr(g, "teacher", 0));
        t.groups = to_int(optional_attr(g, "teacher_groups", 0));
        t.teacher_depth = to_int(optional_attr(g, "teacher_depth", 0));
        t.width = to_int(optional_attr(g, "width", 0));
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
    src.has_fits_group = true;
    const store::Group fits = root.open_group("fits");
    for (const auto& name : fits.children()) {
      try {
        const store::Group g = fits.open_group(name);
        FitInfo f;
        f.source = source;
        f.name = name;
        f.rho = optional_attr(g, "rho", kAbsent);
        f.temperature = optional_attr(g, "temperature", kAbsent);
        f.teacher = to_int(optional_attr(g, "teacher", 0));
        f.groups = to_int(optional_attr(g, "teacher_groups", 0));
        f.teacher_depth = to_int(optional_attr(g, "teacher_depth", 0));
        f.width = to_int(optional_attr(g, "width", 0));
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
        t.source = source;
        t.key = key;
        t.rho = optional_attr(g, "rho", kAbsent);
        t.teacher = to_int(optional_attr(g, "teacher", 0));
        t.depth = to_int(optional_attr(g, "depth", 0));
        t.groups = to_int(optional_attr(g, "teacher_groups", 0));
        s.teachers.push_back(std::move(t));
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/teachers/{} is unreadable and left out: {}", path, key, e.what());
      }
    }
  }
  s.sources.push_back(std::move(src));
}

// A file whose tasks have grid axes beyond the study's (teacher groups K, teacher depth ℓ*, width
// m) is shown as one source per combination, labelled with it ("width-depth m=16"): every figure
// then separates them as it separates files, and none mixes students of two widths or teachers in
// one series. Teachers go to every source of their K and ℓ*.
void split_by_axes(Sweep& s) {
  using Axes = std::tuple<int64_t, int64_t, int64_t>;  // K, ℓ*, m
  bool any = false;
  for (const auto& t : s.tasks) any = any || t.groups || t.teacher_depth || t.width;
  for (const auto& f : s.fits) any = any || f.groups || f.teacher_depth || f.width;
  if (!any) return;
  std::set<std::pair<std::size_t, Axes>> combos;
  std::set<std::size_t> used;
  for (const auto& t : s.tasks) combos.insert({t.source, {t.groups, t.teacher_depth, t.width}});
  for (const auto& f : s.fits) combos.insert({f.source, {f.groups, f.teacher_depth, f.width}});
  for (const auto& c : combos) used.insert(c.first);
  for (std::size_t i = 0; i < s.sources.size(); ++i)
    if (!used.count(i)) combos.insert({i, {0, 0, 0}});  // a file without tasks (probes) stays
  std::vector<Source> sources;
  std::map<std::pair<std::size_t, Axes>, std::size_t> index;
  for (const auto& c : combos) {
    Source src = s.sources[c.first];
    const auto& [k, depth, width] = c.second;
    if (k) src.label += fmt::format(" K={}", k);
    if (depth) src.label += fmt::format(" L*={}", depth);
    if (width) src.label += fmt::format(" m={}", width);
    src.axes = {k, depth, width};
    index[c] = sources.size();
    sources.push_back(std::move(src));
  }
  for (auto& t : s.tasks) t.source = index.at({t.source, {t.groups, t.teacher_depth, t.width}});
  for (auto& f : s.fits) f.source = index.at({f.source, {f.groups, f.teacher_depth, f.width}});
  std::vector<TeacherInfo> teachers;
  for (const auto& t : s.teachers)
    for (const auto& [c, i] : index) {
      const auto& [k, depth, width] = c.second;
      if (c.first == t.source && (!k || t.groups == k) && (!depth || t.depth == depth)) {
        teachers.push_back(t);
        teachers.back().source = i;
      }
    }
  s.teachers = std::move(teachers);
  s.sources = std::move(sources);
}

std::vector<float> read_train_loss(const Sweep& s, const TaskInfo& t) {
  return s.task_group(t).read_float("train_loss");
}

// Per-layer means over inputs of hidden/<which> for a group (task or teacher).
std::vector<double> hidden_means(const store::Group& g, const std::string& which) {
  std::vector<hsize_t> dims;
  const auto data = g.open_group("hidden").read_float(which, &dims);
  return column_means(data, dims);
}

// ---- the selection (PlotOptions::select) -----------------------------------------------------

// A selected value and a file's attribute agree to 1e-9 relative (plot.hpp, Selection).
bool same_value(double a, double b) {
  return a == b || std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}
bool same_value(int64_t a, int64_t b) {
  return a == b;
}

std::string value_text(double v) {
  return num(v);
}
std::string value_text(int64_t v) {
  return std::to_string(v);
}

template <typename T>
bool selected(const std::vector<T>& wanted, T v) {
  if (wanted.empty()) return true;
  for (const T& w : wanted)
    if (same_value(w, v)) return true;
  return false;
}

// How a parameter reads in the selection's messages: "ρ = 0.5", "ρ = 0, 1", "no ρ".
struct ParameterWords {
  std::string one, many, none;
};

// Each listed value must be in some file; the error names the value and lists what each file has.
// `have[i]`: the values of file i (kAbsent left out).
template <typename T>
void check_selected(const Sweep& s, const std::vector<T>& wanted,
                    const std::vector<std::set<T>>& have, const ParameterWords& words) {
  for (const T& w : wanted) {
    bool found = false;
    for (const auto& values : have)
      for (const T& v : values) found = found || same_value(w, v);
    if (found) continue;
    const auto has = [&](std::size_t i) {
      std::vector<std::string> values;
      for (const T& v : have[i]) values.push_back(value_text(v));
      return values.empty() ? words.none : words.many + detail::join(values, ", ");
    };
    if (s.sources.size() == 1)
      throw PlotError(fmt::format("the selected {}{} is not in {}, which has {}", words.one,
                                  value_text(w), s.sources[0].path, has(0)));
    std::vector<std::string> files;
    for (std::size_t i = 0; i < s.sources.size(); ++i)
      files.push_back(s.sources[i].path + " has " + has(i));
    throw PlotError(fmt::format("the selected {}{} is in none of the files: {}", words.one,
                                value_text(w), detail::join(files, "; ")));
  }
}

// Checks `sel` against the files (PlotError for a value none has) and keeps only the tasks, fits
// and teachers it selects, so that every figure chooses its defaults within the selection. The
// model names are checked against the complete /probe/<model> groups; the probe figures apply them.
void apply_selection(Sweep& s, const Selection& sel) {
  const std::size_t n = s.sources.size();
  std::vector<std::set<double>> rhos(n), temps(n);
  std::vector<std::set<int64_t>> depths(n), teachers(n);
  const auto add_rho = [&](std::size_t i, double v) {
    if (v != kAbsent) rhos[i].insert(v);
  };
  for (const auto& t : s.tasks) {
    add_rho(t.source, t.rho);
    if (t.temperature != kAbsent) temps[t.source].insert(t.temperature);
    depths[t.source].insert(t.depth);
    teachers[t.source].insert(t.teacher);
  }
  for (const auto& f : s.fits) {
    add_rho(f.source, f.rho);
    if (f.temperature != kAbsent) temps[f.source].insert(f.temperature);
    teachers[f.source].insert(f.teacher);
  }
  check_selected(s, sel.rho, rhos, {"ρ = ", "ρ = ", "no ρ"});
  check_selected(s, sel.temperature, temps, {"temperature T = ", "T = ", "no temperature"});
  check_selected(s, sel.depth, depths, {"student depth ", "student depths ", "no student"});
  check_selected(s, sel.teacher, teachers,
                 {"teacher replicate ", "teacher replicates ", "no teacher replicate"});
  if (!sel.model.empty()) {
    std::vector<std::set<std::string>> models(n);
    for (std::size_t i = 0; i < n; ++i)
      for (const auto& m : detail::complete_probe_models(s.root(i))) models[i].insert(m);
    for (const auto& m : sel.model) {
      bool found = false;
      for (const auto& have : models) found = found || have.count(m) > 0;
      if (found) continue;
      std::vector<std::string> files;
      for (std::size_t i = 0; i < n; ++i) {
        const std::vector<std::string> names(models[i].begin(), models[i].end());
        files.push_back(fmt::format("{} has {}", s.sources[i].path,
                                    names.empty() ? "no complete probed model"
                                                  : "probed models " + detail::join(names, ", ")));
      }
      throw PlotError(n == 1 ? fmt::format("the selected model {} is not in {}, which {}", m,
                                           s.sources[0].path,
                                           files[0].substr(s.sources[0].path.size() + 1))
                             : fmt::format("the selected model {} is in none of the files: {}", m,
                                           detail::join(files, "; ")));
    }
  }
  // A temperature selected in a grid without temperature does not select that grid's tasks.
  const auto temperature_ok = [&](double T) {
    return sel.temperature.empty() || (T != kAbsent && selected(sel.temperature, T));
  };
  const auto rho_ok = [&](double rho) {
    return sel.rho.empty() || (rho != kAbsent && selected(sel.rho, rho));
  };
  s.tasks.erase(std::remove_if(s.tasks.begin(), s.tasks.end(),
                               [&](const TaskInfo& t) {
                                 return !rho_ok(t.rho) || !temperature_ok(t.temperature) ||
                                        !selected(sel.depth, t.depth) ||
                                        !selected(sel.teacher, t.teacher);
                               }),
                s.tasks.end());
  s.fits.erase(std::remove_if(s.fits.begin(), s.fits.end(),
                              [&](const FitInfo& f) {
                                return !rho_ok(f.rho) || !temperature_ok(f.temperature) ||
                                       !selected(sel.teacher, f.teacher);
                              }),
               s.fits.end());
  s.teachers.erase(std::remove_if(s.teachers.begin(), s.teachers.end(),
                                  [&](const TeacherInfo& t) {
                                    return !rho_ok(t.rho) || !selected(sel.teacher, t.teacher);
                                  }),
                   s.teachers.end());
}

// Whether two files share a (ρ, T): then labels name the file.
bool files_share_a_cell(const Sweep& s) {
  std::map<std::pair<double, double>, std::set<std::size_t>> sources;
  for (const auto& t : s.tasks) sources[{t.rho, t.temperature}].insert(t.source);
  for (const auto& f : s.fits) sources[{f.rho, f.temperature}].insert(f.source);
  for (const auto& [_, in] : sources)
    if (in.size() > 1) return true;
  return false;
}

// ---- choosing what to show -------------------------------------------------------------------

// One (file, ρ, T, teacher) group per (file, ρ) whose tasks satisfy `usable`: the middle
// temperature of that ρ, its lowest teacher replicate. Up to kMaxPanels (file, ρ), spread over the
// files and the ρ range.
struct Representative {
  Cell cell;
  int64_t teacher;
};
std::vector<Representative> representatives(const Sweep& s,
                                            const std::function<bool(const TaskInfo&)>& usable) {
  std::map<RhoOf, std::vector<double>> temps;
  for (const auto& t : s.tasks) {
    if (usable(t)) temps[{t.source, t.rho}].push_back(t.temperature);
  }
  std::vector<RhoOf> rhos;
  for (const auto& [r, _] : temps) rhos.push_back(r);
  std::vector<Representative> out;
  for (const RhoOf& r : spread(rhos, kMaxPanels)) {
    const auto ts = sorted_unique(temps[r]);
    const Cell cell{r.source, r.rho, ts[(ts.size() - 1) / 2]};
    int64_t teacher = INT64_MAX;
    for (const auto& t : s.tasks) {
      if (usable(t) && t.source == cell.source && t.rho == cell.rho &&
          t.temperature == cell.temperature) {
        teacher = std::min(teacher, t.teacher);
      }
    }
    out.push_back({cell, teacher});
  }
  return out;
}

// The group's tasks sorted by depth, one per depth (a repeated depth means the grid has another
// parameter this figure does not separate; the first key wins, with a warning).
std::vector<const TaskInfo*> group_tasks(const Sweep& s, const Cell& cell, int64_t teacher,
                                         const std::function<bool(const TaskInfo&)>& usable) {
  std::map<int64_t, const TaskInfo*> by_depth;
  for (const auto& t : s.tasks) {
    if (!usable(t) || t.source != cell.source || t.rho != cell.rho ||
        t.temperature != cell.temperature || t.teacher != teacher) {
      continue;
    }
    auto [it, fresh] = by_depth.emplace(t.depth, &t);
    if (!fresh) {
      spdlog::warn("{}: tasks {} and {} share ρ, T, teacher and depth; showing {}",
                   s.path_of(t.source), it->second->key, t.key, it->second->key);
    }
  }
  std::vector<const TaskInfo*> out;
  for (const auto& [_, t] : by_depth) out.push_back(t);
  return out;
}

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

// Rows the shared key strip needs: gnuplot makes every column as wide as the longest entry
// (about 8 pixels a character at the figures' font, plus the line sample), across the picture.
int key_rows(const std::vector<detail::KeyEntry>& key) {
  std::size_t longest = 0;
  for (const auto& e : key) {
    std::size_t chars = 0;
    for (unsigned char ch : e.title) chars += (ch & 0xC0) != 0x80;  // UTF-8 characters
    longest = std::max(longest, chars);
  }
  const std::size_t columns = std::max<std::size_t>(
      1, static_cast<std::size_t>((detail::kWidth - 40) / (8 * longest + 70)));
  return static_cast<int>(std::max<std::size_t>(1, (key.size() + columns - 1) / columns));
}

// One graph under a multiplot title, with its key in a strip below it (key_strip): a long title
// or key then neither squeezes the graph nor runs off the picture.
detail::PanelLayout single_panel(const std::string& detail_line,
                                 const std::vector<detail::KeyEntry>& key) {
  detail::PanelLayout layout;
  layout.panels = 1;
  layout.panel_titles = false;
  layout.title_lines =
      2 + static_cast<int>(std::count(detail_line.begin(), detail_line.end(), '\n'));
  layout.key_rows = key_rows(key);
  return layout;
}

// The final fits' α per (file, ρ, T): (α, SE) of each teacher replicate.
std::map<Cell, std::vector<std::pair<double, double>>> final_alphas(const Sweep& s) {
  std::map<Cell, std::vector<std::pair<double, double>>> finals;
  for (const auto& f : s.fits) {
    if (f.temperature == kAbsent) continue;
    finals[{f.source, f.rho, f.temperature}].push_back({f.alpha.back(), f.alpha_se.back()});
  }
  return finals;
}

// alpha_vs_temperature (the study's Fig 3b, α part): the final α against T, one line per
// (file, ρ).
bool alpha_vs_temperature(const Sweep& s, const fs::path& dir) {
  const auto finals = final_alphas(s);
  if (finals.empty()) {
    spdlog::info("alpha_vs_temperature skipped: the fits in {} have no temperature", s.path);
    return false;
  }
  Csv csv(
      {"series", "file", "rho", "temperature", "alpha", "alpha_err", "error_kind", "n_replicates"});
  std::vector<RhoOf> rhos;
  for (const auto& [cell, _] : finals) rhos.push_back({cell.source, cell.rho});
  rhos = sorted_unique(rhos);
  std::vector<bool> drawn(rhos.size(), false);
  ErrorKinds kinds;
  for (const auto& [cell, values] : finals) {  // map order: by file, ρ, then T ascending
    const AlphaPoint p = combine(values);
    if (p.n == 0) {
      spdlog::warn("{}: every fit for {} failed (α is NaN); point left out", s.path_of(cell.source),
                   cell_label(s, cell));
      continue;
    }
    const std::size_t series =
        std::lower_bound(rhos.begin(), rhos.end(), RhoOf{cell.source, cell.rho}) - rhos.begin();
    drawn[series] = true;
    kinds.add(p);
    csv.row({num(static_cast<long long>(series)), file_cell(s, cell.source), param(cell.rho),
             param(cell.temperature), num(p.alpha), num(p.err), p.sem ? "sem" : "fit_se",
             num(static_cast<long long>(p.n))});
  }
  if (csv.rows() == 0) {
    spdlog::warn("alpha_vs_temperature skipped: every fit in {} failed", s.path);
    return false;
  }

  const Guides guides = theory_guides(s);
  const int c_series = csv.col("series"), c_t = csv.col("temperature"), c_a = csv.col("alpha"),
            c_e = csv.col("alpha_err");
  std::vector<std::string> plots;
  std::vector<detail::KeyEntry> key;
  for (std::size_t i = 0; i < rhos.size(); ++i) {
    if (!drawn[i]) continue;
    const std::string sel = fmt::format("${}=={}", c_series, i);
    const std::string color = detail::category_color(i);
    // A NaN error (singular fit) draws the point without a bar rather than dropping it.
    plots.push_back(fmt::format(
        "'alpha_vs_temperature.csv' skip 1 using {t}:({sel} ? ${a} : NaN):({sel} ? (${e}==${e} ? "
        "${e} : 0) : NaN) with yerrorlines lw 2 pt 7 ps 1.2 lc rgb '{color}' notitle",
        fmt::arg("t", c_t), fmt::arg("sel", sel), fmt::arg("a", c_a), fmt::arg("e", c_e),
        fmt::arg("color", color)));
    key.push_back(
        {"with linespoints lw 2 pt 7 ps 1.2 lc rgb '" + color + "'", rho_label(s, rhos[i])});
  }
  key.insert(key.end(), guides.key_items.begin(), guides.key_items.end());
  const std::string detail_line =
      "α_ℓ from fitting L(ℓ) = c·ℓ^{-α_ℓ} + L_0 over the student depths ℓ;  " +
      kinds.note("error bars");
  const detail::PanelLayout layout = single_panel(detail_line, key);
  std::string body = detail::multiplot_begin(
      titled("Depth-scaling exponent α_ℓ at the end of training", detail_line));
  body += detail::panel_margins(layout, 0);
  body += "set xlabel 'temperature T of the teacher targets (log scale)'\n";
  body += "set ylabel 'depth-scaling exponent α_ℓ'\n";
  body += "set logscale x\nset format x '%g'\n";
  body += "set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05\n";
  body += guides.setup;
  body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  body += "unset arrow\nset offsets 0, 0, 0, 0\n";
  body += detail::key_strip(layout, key);
  body += "unset multiplot\n";
  detail::render(dir, "alpha_vs_temperature", csv, body, s.gnuplot);
  return true;
}

bool alpha_vs_step(const Sweep& s, const fs::path& dir) {
  // (ρ, T) → step → per-replicate (α, SE)
  std::map<Cell, std::map<int64_t, std::vector<std::pair<double, double>>>> series_data;
  for (const auto& f : s.fits) {
    auto& by_step = series_data[{f.source, f.rho, f.temperature}];
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

  std::vector<RhoOf> rhos;
  std::vector<double> temps;
  for (const auto& [cell, _] : series_data) {
    rhos.push_back({cell.source, cell.rho});
    temps.push_back(cell.temperature);
  }
  rhos = sorted_unique(rhos);
  temps = sorted_unique(temps);
  // Temperatures get the colours, (file, ρ) the dash patterns: about kMaxSeries lines in all, but
  // at least two temperatures per ρ so the trend shows.
  const std::vector<RhoOf> shown_rhos = spread(rhos, kMaxPanels);
  const std::size_t per_rho =
      std::clamp<std::size_t>((kMaxSeries + 2) / shown_rhos.size(), 2, kMaxSeries);
  const std::vector<double> shown_temps = spread(temps, per_rho);

  Csv csv({"series", "file", "rho", "temperature", "step", "alpha", "alpha_err", "n_replicates"});
  struct Line {
    std::size_t series;
    std::string title, color;
    int dash;
  };
  std::vector<Line> lines;
  ErrorKinds kinds;
  for (std::size_t ri = 0; ri < shown_rhos.size(); ++ri) {
    for (std::size_t ti = 0; ti < shown_temps.size(); ++ti) {
      const Cell cell{shown_rhos[ri].source, shown_rhos[ri].rho, shown_temps[ti]};
      auto it = series_data.find(cell);
      if (it == series_data.end()) continue;
      const std::size_t series = lines.size();
      std::size_t points = 0;
      for (const auto& [step, values] : it->second) {
        const AlphaPoint p = combine(values);
        if (p.n == 0) continue;
        kinds.add(p);
        csv.row({num(static_cast<long long>(series)), file_cell(s, cell.source), param(cell.rho),
                 param(cell.temperature), num(static_cast<long long>(step)), num(p.alpha),
                 num(p.err), num(static_cast<long long>(p.n))});
        ++points;
      }
      if (points == 0) continue;
      lines.push_back({series, cell_label(s, cell), detail::ramp_color(ti, shown_temps.size()),
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
    shown += fmt::format("{}{} of {} {} shown", shown.empty() ? "" : "; ", shown_rhos.size(),
                         rhos.size(), s.sources.size() > 1 ? "(file, ρ)" : "ρ");
  }
  std::string detail_line = "line: α_ℓ of the fit at that step;  " + kinds.note("band");
  if (!shown.empty()) detail_line = shown + "\n" + detail_line;
  const Guides guides = theory_guides(s);
  const int c_series = csv.col("series"), c_step = csv.col("step"), c_a = csv.col("alpha"),
            c_e = csv.col("alpha_err");
  std::vector<std::string> plots;
  std::vector<detail::KeyEntry> key;
  for (const auto& l : lines) {
    const std::string sel = fmt::format("${}=={}", c_series, l.series);
    plots.push_back(fmt::format(
        "'alpha_vs_step.csv' skip 1 using {x}:({sel} && ${e}==${e} ? ${a}-${e} : NaN):({sel} && "
        "${e}==${e} ? ${a}+${e} : NaN) with filledcurves lc rgb '{c}' notitle",
        fmt::arg("x", c_step), fmt::arg("sel", sel), fmt::arg("a", c_a), fmt::arg("e", c_e),
        fmt::arg("c", l.color)));
    const std::string style = fmt::format("with lines lw 2 dt {} lc rgb '{}'", l.dash, l.color);
    plots.push_back(fmt::format("'alpha_vs_step.csv' skip 1 using {}:({} ? ${} : NaN) {} notitle",
                                c_step, sel, c_a, style));
    key.push_back({style, l.title});
  }
  key.insert(key.end(), guides.key_items.begin(), guides.key_items.end());
  const detail::PanelLayout layout = single_panel(detail_line, key);
  std::string body =
      detail::multiplot_begin(titled("Depth-scaling exponent α_ℓ during training", detail_line));
  body += detail::panel_margins(layout, 0);
  body += "set xlabel 'training step'\n";
  body += "set ylabel 'depth-scaling exponent α_ℓ'\n";
  body += "set style fill transparent solid 0.15 noborder\n";
  body += guides.setup;
  body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  body += "unset arrow\n";
  body += detail::key_strip(layout, key);
  body += "unset multiplot\n";
  detail::render(dir, "alpha_vs_step", csv, body, s.gnuplot);
  return true;
}

bool loss_vs_depth(const Sweep& s, const fs::path& dir) {
  // One fit group per (file, ρ, T): its lowest teacher replicate; then up to kMaxSeries spread
  // over the temperatures of each (file, ρ).
  std::map<Cell, const FitInfo*> first;
  for (const auto& f : s.fits) {
    auto [it, fresh] = first.emplace(Cell{f.source, f.rho, f.temperature}, &f);
    if (!fresh && f.teacher < it->second->teacher) it->second = &f;
  }
  std::map<RhoOf, std::vector<double>> temps_of;
  for (const auto& [cell, _] : first) temps_of[{cell.source, cell.rho}].push_back(cell.temperature);
  std::vector<RhoOf> rhos;
  for (const auto& [r, _] : temps_of) rhos.push_back(r);
  rhos = spread(rhos, kMaxSeries);
  const std::size_t per_rho =
      std::max<std::size_t>(1, kMaxSeries / std::max<std::size_t>(1, rhos.size()));
  std::vector<const FitInfo*> chosen;
  for (const RhoOf& r : rhos) {
    for (double t : spread(temps_of[r], per_rho)) chosen.push_back(first[{r.source, r.rho, t}]);
  }

  Csv csv({"series", "file", "rho", "temperature", "teacher", "kind", "depth", "loss"});
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
    const Cell cell{f->source, f->rho, f->temperature};
    const auto tasks = group_tasks(s, cell, f->teacher, has_test_loss);
    if (tasks.empty()) continue;
    const std::size_t index = series.size();
    const auto row = [&](const char* kind, double depth, double loss) {
      csv.row({num(static_cast<long long>(index)), file_cell(s, f->source), param(f->rho),
               param(f->temperature), num(static_cast<long long>(f->teacher)), kind, num(depth),
               num(loss)});
      x_extent.add(depth);
      y_extent.add(loss);
    };
    for (const TaskInfo* t : tasks) {
      row("data", static_cast<double>(t->depth), static_cast<double>(t->test_loss.back()));
      all_depths.push_back(t->depth);
    }
    std::string title = cell_label(s, cell);
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
  {
    // The key's rows from its entries' widths (key_rows), so long entries get their room.
    std::vector<detail::KeyEntry> titles;
    for (const auto& se : series) titles.push_back({"", se.title});
    layout.key_rows = key_rows(titles);
  }
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

std::string group_title(const Sweep& s, const Representative& r) {
  return cell_label(s, r.cell) + fmt::format(", teacher replicate {}", r.teacher);
}

// The training loss as the figures draw it: a trailing running mean over about 1% of training
// (`window` steps), ignoring non-finite steps; then at most `max_points` points per curve, which
// is all a panel can show. Steps count from 1 (the loss of step i is after i updates).
struct Smoothed {
  std::size_t window = 1;
  std::vector<std::pair<int64_t, double>> points;  // (step, running mean)
};
Smoothed smoothed_train_loss(const std::vector<float>& loss, std::size_t max_points = 500) {
  Smoothed out;
  const std::size_t n = loss.size();
  out.window = std::max<std::size_t>(1, n / 100);
  std::vector<double> sum(n + 1, 0.0);
  std::vector<std::size_t> count(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const bool ok = std::isfinite(loss[i]);
    sum[i + 1] = sum[i] + (ok ? loss[i] : 0.0);
    count[i + 1] = count[i] + (ok ? 1 : 0);
  }
  const std::size_t stride = std::max<std::size_t>(1, (n + max_points - 1) / max_points);
  for (std::size_t i = 0; i < n; ++i) {
    if ((i + 1) % stride != 0 && i + 1 != n) continue;
    const std::size_t lo = i + 1 >= out.window ? i + 1 - out.window : 0;
    const std::size_t k = count[i + 1] - count[lo];
    out.points.push_back({static_cast<int64_t>(i + 1), k ? (sum[i + 1] - sum[lo]) / k : NAN});
  }
  return out;
}

bool training_curves(const Sweep& s, const fs::path& dir) {
  const auto usable = [](const TaskInfo&) { return true; };
  const auto reps = representatives(s, usable);
  if (reps.empty()) return false;

  std::vector<int64_t> depths;
  for (const auto& t : s.tasks) depths.push_back(t.depth);
  depths = sorted_unique(depths);

  Csv csv(
      {"panel", "file", "rho", "temperature", "teacher", "depth", "step", "train_loss_smoothed"});
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
    Panel panel{panels.size(), group_title(s, r), {}, {}, 0};
    for (const TaskInfo* t : group_tasks(s, r.cell, r.teacher, usable)) {
      std::vector<float> loss;
      try {
        loss = read_train_loss(s, *t);
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/tasks/{}: train_loss unreadable, curve left out: {}",
                     s.path_of(t->source), t->key, e.what());
        continue;
      }
      if (loss.empty()) continue;
      const Smoothed sm = smoothed_train_loss(loss);
      window_shown = std::max(window_shown, sm.window);
      for (const auto& [step, mean] : sm.points) {
        csv.row({num(static_cast<long long>(panel.index)), file_cell(s, r.cell.source),
                 param(r.cell.rho), param(r.cell.temperature),
                 num(static_cast<long long>(r.teacher)), num(static_cast<long long>(t->depth)),
                 num(static_cast<long long>(step)), num(mean)});
        panel.y.add(mean);
      }
      panel.steps = std::max(panel.steps, loss.size());
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

  Csv csv({"panel", "file", "rho", "temperature", "teacher", "network", "depth", "layer",
           "mean_angle"});
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
  for (const auto& r : reps) {
    const store::Group root = s.root(r.cell.source);
    Panel panel{panels.size(), group_title(s, r), {}, {}, 0};
    const auto add = [&](const store::Group& g, const char* network, int64_t depth) {
      const auto means = hidden_means(g, dataset);
      for (std::size_t j = 0; j < means.size(); ++j) {
        const int64_t layer = first_layer + static_cast<int64_t>(j);
        csv.row({num(static_cast<long long>(panel.index)), file_cell(s, r.cell.source),
                 param(r.cell.rho), param(r.cell.temperature),
                 num(static_cast<long long>(r.teacher)), network,
                 num(static_cast<long long>(depth)), num(static_cast<long long>(layer)),
                 num(means[j])});
        panel.y.add(means[j]);
        panel.last_layer = std::max(panel.last_layer, layer);
      }
      return !means.empty();
    };
    for (const TaskInfo* t : group_tasks(s, r.cell, r.teacher, usable)) {
      try {
        if (add(root.open_group("tasks").open_group(t->key), "student", t->depth)) {
          const std::size_t di =
              std::lower_bound(depths.begin(), depths.end(), t->depth) - depths.begin();
          panel.curves.push_back({fmt::format("student ℓ = {}", t->depth),
                                  detail::ramp_color(di, depths.size()), t->depth, false});
        }
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/tasks/{}/hidden unreadable, curve left out: {}", s.path_of(t->source),
                     t->key, e.what());
      }
    }
    for (const auto& t : s.teachers) {
      if (t.source != r.cell.source || t.rho != r.cell.rho || t.teacher != r.teacher) continue;
      try {
        const auto g = root.open_group("teachers").open_group(t.key);
        if (add(g, "teacher", t.depth)) {
          panel.curves.push_back(
              {fmt::format("teacher ℓ* = {}", t.depth), "#000000", t.depth, true});
        }
      } catch (const store::StoreError& e) {
        spdlog::warn("{}:/teachers/{}/hidden unreadable, curve left out: {}", s.path_of(t.source),
                     t.key, e.what());
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
// depth — the deepest every temperature has — with one line per temperature and a panel per
// (file, ρ),
// averaged over teacher replicates at the steps they share.
bool test_loss_vs_step(const Sweep& s, const fs::path& dir) {
  std::map<RhoOf, std::map<double, std::set<int64_t>>> depths_of;  // (file, ρ) → T → depths
  std::vector<double> temps;
  for (const auto& t : s.tasks)
    if (t.eval_step.size() >= 2 && t.eval_step.size() == t.test_loss.size()) {
      depths_of[{t.source, t.rho}][t.temperature].insert(t.depth);
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
  Csv csv({"panel", "file", "rho", "temperature", "depth", "step", "test_loss", "n_replicates"});
  struct Panel {
    std::size_t index;
    RhoOf rho;
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
        if (t.source != rho.source || t.rho != rho.rho || t.temperature != T ||
            t.depth != panel.depth || t.eval_step.size() != t.test_loss.size())
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
        csv.row({num(static_cast<long long>(panel.index)), file_cell(s, rho.source), param(rho.rho),
                 param(T), num(static_cast<long long>(panel.depth)),
                 num(static_cast<long long>(step)), num(m),
                 num(static_cast<long long>(replicates))});
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
        fmt::format("{}, ℓ = {};  ", rho_label(s, panels[0].rho), panels[0].depth) + detail_line;
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
    body +=
        "set title " +
        quote(panels.size() > 1 ? fmt::format("{}, ℓ = {}", rho_label(s, panel.rho), panel.depth)
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
// with the fitted slope ± SE per (file, ρ, T) and a 1/ℓ guide: the claim is slope ≈ −1. Teacher
// replicates are averaged at each depth; depths below 3 have no middle layer.
bool theta_vs_depth(const Sweep& s, const fs::path& dir) {
  std::vector<RhoOf> rhos;
  std::vector<double> temps;
  for (const auto& t : s.tasks)
    if (t.has_hidden && t.depth >= 3) {
      rhos.push_back({t.source, t.rho});
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
  struct Series {
    Cell cell;
    std::vector<double> depth, theta;
    detail::LogLogSlope fit;
  };
  std::vector<Series> series;
  Csv csv({"series", "file", "rho", "temperature", "depth", "theta_middle", "n_replicates"});
  for (const RhoOf& r : rhos)
    for (double T : temps) {
      const Cell cell{r.source, r.rho, T};
      std::map<int64_t, std::vector<double>> by_depth;
      for (const auto& t : s.tasks) {
        if (!t.has_hidden || t.depth < 3 || t.source != r.source || t.rho != r.rho ||
            t.temperature != T)
          continue;
        try {
          const auto means = hidden_means(s.task_group(t), "theta");
          if (int64_t(means.size()) != t.depth) continue;
          double m = 0;
          for (int64_t l = 1; l + 1 < t.depth; ++l) m += means[size_t(l)] / double(t.depth - 2);
          by_depth[t.depth].push_back(m);
        } catch (const store::StoreError& e) {
          spdlog::warn("{}:/tasks/{}/hidden unreadable, left out: {}", s.path_of(t.source), t.key,
                       e.what());
        }
      }
      if (by_depth.size() < 2) continue;
      Series sr{cell, {}, {}, {}};
      for (const auto& [depth, v] : by_depth) {
        double m = 0;
        for (double x : v) m += x / double(v.size());
        sr.depth.push_back(double(depth));
        sr.theta.push_back(m);
        csv.row({num(static_cast<long long>(series.size())), file_cell(s, r.source), param(r.rho),
                 param(T), num(static_cast<long long>(depth)), num(m),
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
  std::vector<double> all_depths;
  for (const auto& sr : series)
    all_depths.insert(all_depths.end(), sr.depth.begin(), sr.depth.end());
  std::vector<std::string> xt;
  for (double d : sorted_unique(all_depths)) xt.push_back(num(d));
  body += "set xtics (" + detail::join(xt, ", ") + ")\n";
  body += fmt::format("set xrange [{}:{}]\n", num(xs.lo / 1.15), num(xs.hi * 1.15));
  body += detail::log_axis("y", ys.lo, ys.hi);
  const int c_s = csv.col("series"), c_d = csv.col("depth"), c_t = csv.col("theta_middle");
  std::vector<std::string> plots;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& sr = series[i];
    const std::string color = detail::category_color(i);
    std::string label = temps.size() > 1 || sr.cell.temperature == kAbsent
                            ? cell_label(s, sr.cell)
                            : rho_label(s, {sr.cell.source, sr.cell.rho});
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

// alpha_vs_temperature_by_step (the study's Fig 4b): α (mean ± SEM across teacher replicates)
// against T at up to kMaxSeries evaluated steps spread over training (the last one included), a
// line per step, a panel per (file, ρ). Needs fits at two steps or more of two temperatures or
// more.
bool alpha_vs_temperature_by_step(const Sweep& s, const fs::path& dir) {
  const std::string name = "alpha_vs_temperature_by_step";
  using PerReplicate = std::vector<std::pair<double, double>>;
  // (file, ρ) → step → T → per-replicate (α, SE)
  std::map<RhoOf, std::map<int64_t, std::map<double, PerReplicate>>> data;
  std::map<RhoOf, std::set<double>> temps_of;
  for (const auto& f : s.fits) {
    if (f.temperature == kAbsent) continue;
    const RhoOf r{f.source, f.rho};
    temps_of[r].insert(f.temperature);
    for (std::size_t i = 0; i < f.step.size(); ++i)
      data[r][f.step[i]][f.temperature].push_back({f.alpha[i], f.alpha_se[i]});
  }
  std::vector<RhoOf> usable;
  for (const auto& [r, by_step] : data)
    if (by_step.size() >= 2 && temps_of[r].size() >= 2) usable.push_back(r);
  if (usable.empty()) {
    spdlog::info(
        "{} skipped: no ρ of {} has fits at two evaluated steps or more (train.eval.every) of two "
        "temperatures or more",
        name, s.path);
    return false;
  }
  const std::vector<RhoOf> shown = spread(usable, kMaxPanels);

  // Each panel's steps, and their union for one colour per step across the panels.
  std::map<RhoOf, std::vector<int64_t>> steps_of;
  std::vector<int64_t> all_steps;
  std::size_t most_steps = 0;
  for (const RhoOf& r : shown) {
    std::vector<int64_t> steps;
    for (const auto& [step, _] : data[r]) steps.push_back(step);
    most_steps = std::max(most_steps, steps.size());
    steps_of[r] = spread(steps, kMaxSeries);
    all_steps.insert(all_steps.end(), steps_of[r].begin(), steps_of[r].end());
  }
  all_steps = sorted_unique(all_steps);

  Csv csv({"panel", "file", "rho", "step", "temperature", "alpha", "alpha_err", "error_kind",
           "n_replicates"});
  struct Panel {
    std::size_t index;
    RhoOf rho;
    std::vector<int64_t> steps;  // with at least one point
    Extent x;
  };
  std::vector<Panel> panels;
  ErrorKinds kinds;
  for (const RhoOf& r : shown) {
    Panel panel{panels.size(), r, {}, {}};
    for (int64_t step : steps_of[r]) {
      bool any = false;
      for (const auto& [T, values] : data[r][step]) {
        const AlphaPoint p = combine(values);
        if (p.n == 0) continue;
        kinds.add(p);
        csv.row({num(static_cast<long long>(panel.index)), file_cell(s, r.source), param(r.rho),
                 num(static_cast<long long>(step)), num(T), num(p.alpha), num(p.err),
                 p.sem ? "sem" : "fit_se", num(static_cast<long long>(p.n))});
        panel.x.add(T);
        any = true;
      }
      if (any) panel.steps.push_back(step);
    }
    if (!panel.steps.empty()) panels.push_back(panel);
  }
  if (panels.empty()) {
    spdlog::warn("{} skipped: every fit in {} failed", name, s.path);
    return false;
  }

  std::string detail_line = "one line per training step;  " + kinds.note("error bars");
  if (panels.size() == 1) detail_line = rho_label(s, panels[0].rho) + ";  " + detail_line;
  if (most_steps > kMaxSeries)
    detail_line += fmt::format("\n{} of {} evaluated steps shown, spread over training",
                               std::min(kMaxSeries, most_steps), most_steps);
  const Guides guides = theory_guides(s);
  std::vector<detail::KeyEntry> key;
  const auto style = [&](int64_t step) {
    const std::size_t i =
        std::lower_bound(all_steps.begin(), all_steps.end(), step) - all_steps.begin();
    return "lw 1.8 pt 7 ps 0.8 lc rgb '" + detail::ramp_color(i, all_steps.size()) + "'";
  };
  for (int64_t step : all_steps)
    key.push_back({"with linespoints " + style(step), fmt::format("step {}", step)});
  key.insert(key.end(), guides.key_items.begin(), guides.key_items.end());
  detail::PanelLayout layout;
  layout.panels = panels.size();
  layout.panel_titles = panels.size() > 1;
  layout.title_lines =
      2 + static_cast<int>(std::count(detail_line.begin(), detail_line.end(), '\n'));
  layout.key_rows = key_rows(key);
  std::string body = detail::multiplot_begin(
      titled("Depth-scaling exponent α_ℓ against temperature during training", detail_line));
  body += "set xlabel 'temperature T of the teacher targets (log scale)'\n";
  body += "set ylabel 'depth-scaling exponent α_ℓ'\n";
  body += "set logscale x\nset format x '%g'\n";
  body += "set offsets 0, 0, graph 0.05, graph 0.05\n";
  body += guides.setup;
  const int c_panel = csv.col("panel"), c_step = csv.col("step"), c_t = csv.col("temperature"),
            c_a = csv.col("alpha"), c_e = csv.col("alpha_err");
  for (const auto& panel : panels) {
    body += "set title " + quote(panels.size() > 1 ? rho_label(s, panel.rho) : "") + "\n";
    body += detail::panel_margins(layout, panel.index);
    body += detail::log_axis("x", panel.x.lo, panel.x.hi);
    std::vector<std::string> plots;
    for (int64_t step : panel.steps) {
      const std::string sel = fmt::format("${}=={} && ${}=={}", c_panel, panel.index, c_step, step);
      plots.push_back(fmt::format(
          "'{f}.csv' skip 1 using {t}:({sel} ? ${a} : NaN):({sel} ? (${e}==${e} ? ${e} : 0) : "
          "NaN) with yerrorlines {style} notitle",
          fmt::arg("f", name), fmt::arg("t", c_t), fmt::arg("sel", sel), fmt::arg("a", c_a),
          fmt::arg("e", c_e), fmt::arg("style", style(step))));
    }
    body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  }
  body += "unset arrow\n";  // the theory lines are the panels' only
  body += detail::key_strip(layout, key);
  body += "unset multiplot\n";
  detail::render(dir, name, csv, body, s.gnuplot);
  return true;
}

// A figure name's suffix from free text: letters, digits, '.', '-' and '_' kept, the rest '-'.
std::string name_part(const std::string& text) {
  std::string out;
  for (char ch : text)
    out += std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_'
               ? ch
               : '-';
  return out;
}

// The (file, ρ) groups of test_loss_by_temperature, each with its teacher replicate (the lowest
// the selection leaves) and figure name: test_loss_by_temperature when there is one group, else
// test_loss_by_temperature_<file label>_rho<ρ> (the file part only with several files).
struct TemperatureFigure {
  RhoOf rho;
  int64_t teacher;
  std::string name;
};
std::vector<TemperatureFigure> temperature_figures(const Sweep& s) {
  std::map<RhoOf, std::map<int64_t, std::set<double>>> temps;  // (file, ρ) → teacher → T
  for (const auto& t : s.tasks)
    if (t.temperature != kAbsent) temps[{t.source, t.rho}][t.teacher].insert(t.temperature);
  std::vector<TemperatureFigure> out;
  for (const auto& [r, by_teacher] : temps) {
    const auto& [teacher, ts] = *by_teacher.begin();
    if (ts.size() < 2) continue;
    out.push_back({r, teacher, "test_loss_by_temperature"});
  }
  if (out.size() > 1) {
    for (auto& f : out) {
      std::string suffix;
      if (s.sources.size() > 1) suffix += "_" + name_part(s.sources[f.rho.source].label);
      if (f.rho.rho != kAbsent) suffix += "_rho" + name_part(fmt_param(f.rho.rho));
      f.name += suffix;
    }
  }
  return out;
}

// The smallest 1, 2, 2.5 or 5 × 10^k at least `raw` (tic spacing).
double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double f : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (f * mag >= raw * (1 - 1e-12)) return f * mag;
  return 10 * mag;
}

// Margins of panel `index` in a grid of many small panels (more than four): room for a small
// panel title and the tic labels only (the axes are named in the figure's title), so that the
// graphs keep their height. The key strip below is key_strip's (22 pixels a row, 16 of padding).
std::string grid_margins(const detail::PanelLayout& layout, std::size_t index) {
  const double W = detail::kWidth, H = detail::kHeight;
  const std::size_t cols = std::max<std::size_t>(1, layout.columns);
  const std::size_t rows = (layout.panels + cols - 1) / cols;
  const std::size_t r = index / cols, c = index % cols;
  const double top = 1.0 - (10 + 30 + 17.0 * (layout.title_lines - 1)) / H;
  const double bottom = (19.0 * layout.key_rows + 12 + 6) / H;
  const double cell_h = (top - bottom) / static_cast<double>(rows);
  const double cell_w = 1.0 / static_cast<double>(cols);
  const double cell_top = top - cell_h * static_cast<double>(r);
  return fmt::format(
      "set lmargin at screen {:.4f}\nset rmargin at screen {:.4f}\nset bmargin at screen "
      "{:.4f}\nset tmargin at screen {:.4f}\n",
      cell_w * c + 48 / W, cell_w * (c + 1) - 16 / W, cell_top - cell_h + 22 / H,
      cell_top - 20 / H);
}

// test_loss_by_temperature (the study's Figs 16–18): one panel per temperature (up to
// kMaxTemperaturePanels, spread over the range), each with the test loss against the training step
// and one line per student depth, for one (file, ρ) and one teacher replicate. Where some task of
// the group was evaluated fewer than twice, the training loss (running mean, as training_curves)
// stands in for every line.
bool test_loss_by_temperature(const Sweep& s, const fs::path& dir, const TemperatureFigure& fig) {
  const RhoOf group = fig.rho;
  std::vector<double> temps;
  std::vector<int64_t> depths;
  bool evaluated = true;
  for (const auto& t : s.tasks) {
    if (t.source != group.source || t.rho != group.rho || t.teacher != fig.teacher) continue;
    temps.push_back(t.temperature);
    depths.push_back(t.depth);
    evaluated = evaluated && t.eval_step.size() >= 2 && t.eval_step.size() == t.test_loss.size();
  }
  const std::vector<double> all_temps = sorted_unique(temps);
  temps = spread(all_temps, kMaxTemperaturePanels);
  depths = sorted_unique(depths);
  const std::string quantity = evaluated ? "test_loss" : "train_loss_smoothed";
  Csv csv({"panel", "file", "rho", "temperature", "teacher", "depth", "step", quantity});
  struct Panel {
    std::size_t index;
    double temperature;
    std::vector<int64_t> depths;
    Extent y;
    int64_t last_step = 0;
  };
  std::vector<Panel> panels;
  std::size_t window = 0;
  for (double T : temps) {
    Panel panel{panels.size(), T, {}, {}, 0};
    const auto usable = [](const TaskInfo&) { return true; };
    for (const TaskInfo* t : group_tasks(s, {group.source, group.rho, T}, fig.teacher, usable)) {
      std::vector<std::pair<int64_t, double>> points;
      if (evaluated) {
        for (std::size_t i = 0; i < t->eval_step.size(); ++i)
          points.push_back({t->eval_step[i], static_cast<double>(t->test_loss[i])});
      } else {
        std::vector<float> loss;
        try {
          loss = read_train_loss(s, *t);
        } catch (const store::StoreError& e) {
          spdlog::warn("{}:/tasks/{}: train_loss unreadable, curve left out: {}",
                       s.path_of(t->source), t->key, e.what());
          continue;
        }
        // Fewer points than training_curves: a panel here is a quarter of the width or less.
        const Smoothed sm = smoothed_train_loss(loss, 200);
        window = std::max(window, sm.window);
        points = sm.points;
      }
      if (points.empty()) continue;
      for (const auto& [step, loss] : points) {
        csv.row({num(static_cast<long long>(panel.index)), file_cell(s, t->source),
                 param(group.rho), num(T), num(static_cast<long long>(fig.teacher)),
                 num(static_cast<long long>(t->depth)), num(static_cast<long long>(step)),
                 num(loss)});
        panel.y.add(loss);
        panel.last_step = std::max(panel.last_step, step);
      }
      panel.depths.push_back(t->depth);
    }
    if (!panel.depths.empty()) panels.push_back(panel);
  }
  if (panels.size() < 2) {
    spdlog::info("{} skipped: {} has losses at fewer than two temperatures for {}", fig.name,
                 s.path_of(fig.rho.source), rho_label(s, fig.rho));
    return false;
  }

  // A figure per file: it names the file whenever there are several.
  const std::string which = (s.sources.size() > 1 && !s.name_files
                                 ? detail::literal(s.sources[fig.rho.source].label) + ": "
                                 : std::string()) +
                            rho_label(s, fig.rho);
  std::string detail_line =
      fmt::format("{}, teacher replicate {};  one panel per temperature T, one line per depth ℓ",
                  which, fig.teacher);
  if (!evaluated)
    detail_line += fmt::format(
        "\ntraining loss (running mean over the last {} steps): the test loss was not recorded "
        "during training (train.eval.every)",
        window);
  if (temps.size() < all_temps.size())
    detail_line += fmt::format("{}{} of {} temperatures shown, spread over the range",
                               evaluated ? "\n" : ";  ", temps.size(), all_temps.size());
  const bool dense = panels.size() > 4;
  const std::string ylabel = evaluated ? "test loss" : "training loss";
  if (dense) detail_line += "\nx: training step;  y: " + ylabel + " (log scale)";
  detail::PanelLayout layout;
  layout.panels = panels.size();
  layout.title_lines =
      2 + static_cast<int>(std::count(detail_line.begin(), detail_line.end(), '\n'));
  layout.columns = panels.size() <= 3   ? panels.size()
                   : panels.size() <= 4 ? 2
                   : panels.size() <= 9 ? 3
                                        : 4;
  layout.key_rows = depths.size() > 8 ? 2 : 1;
  std::string body = detail::multiplot_begin(
      titled(evaluated ? "Test loss against training step at each temperature"
                       : "Training loss against step at each temperature",
             detail_line));
  if (dense) {
    body += "set tics font ',8'\nset title font ',10' offset 0,-0.8\n";
  } else {
    body += "set xlabel 'training step'\nset ylabel " + quote(ylabel + " (log scale)") + "\n";
  }
  body += "set format x '%.0s%c'\nset format y '%g'\nset logscale y\n";
  const int c_panel = csv.col("panel"), c_depth = csv.col("depth"), c_step = csv.col("step"),
            c_loss = csv.col(quantity);
  const auto style = [&](int64_t d) {
    const std::size_t di = std::lower_bound(depths.begin(), depths.end(), d) - depths.begin();
    return "with lines lw 1.5 lc rgb '" + detail::ramp_color(di, depths.size()) + "'";
  };
  for (const auto& panel : panels) {
    body += "set title " + quote("T = " + fmt_param(panel.temperature)) + "\n";
    body += dense ? grid_margins(layout, panel.index) : detail::panel_margins(layout, panel.index);
    body += detail::log_axis("y", panel.y.lo, panel.y.hi);
    body += fmt::format("set xrange [0:{}]\nset xtics 0, {}\n", panel.last_step,
                        num(nice_step(static_cast<double>(panel.last_step) / (dense ? 3 : 5))));
    std::vector<std::string> plots;
    for (int64_t d : panel.depths)
      plots.push_back(fmt::format(
          "'{f}.csv' skip 1 using {x}:(${pc}=={p} && ${dc}=={d} ? ${l} : NaN) {s} notitle",
          fmt::arg("f", fig.name), fmt::arg("x", c_step), fmt::arg("pc", c_panel),
          fmt::arg("p", panel.index), fmt::arg("dc", c_depth), fmt::arg("d", d),
          fmt::arg("l", c_loss), fmt::arg("s", style(d))));
    body += "plot " + detail::join(plots, ", \\\n     ") + "\n";
  }
  std::vector<detail::KeyEntry> key;
  for (int64_t d : depths) key.push_back({style(d), fmt::format("ℓ = {}", d)});
  body += "set tics font ',11'\n";
  body += detail::key_strip(layout, key);
  body += "unset multiplot\n";
  detail::render(dir, fig.name, csv, body, s.gnuplot);
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

std::vector<std::string> PlotOptions::files() const {
  std::vector<std::string> out;
  if (!path.empty()) out.push_back(path);
  out.insert(out.end(), paths.begin(), paths.end());
  return out;
}

int plot_sweep(const PlotOptions& options) {
  const std::vector<std::string> files = options.files();
  if (files.empty()) throw PlotError("no sweep file to plot");
  if (files.size() > 1 && options.out_dir.empty())
    throw PlotError(fmt::format(
        "plotting several files ({}) needs a folder for the figures they share (the output "
        "folder)",
        detail::join(files, ", ")));
  for (std::size_t i = 0; i < files.size(); ++i)
    for (std::size_t j = 0; j < i; ++j) {
      std::error_code ec;
      if (files[i] == files[j] || fs::equivalent(files[i], files[j], ec))
        throw PlotError(files[i] == files[j]
                            ? files[i] + " is given twice"
                            : fmt::format("{} and {} are the same file", files[j], files[i]));
    }
  const std::string out = options.out_dir.empty() ? default_out_dir(files[0]) : options.out_dir;
  Sweep s;
  s.path = detail::join(files, ", ");
  s.gnuplot = options.gnuplot;
  for (const auto& path : files) {
    try {
      load(s, path);
    } catch (const PlotError&) {
      throw;
    } catch (const std::exception& e) {
      throw PlotError("plotting " + path + ": " + e.what());
    }
  }
  // Labels tell the files apart: their job names, else their file names, else their paths.
  const auto distinct = [&] {
    std::set<std::string> seen;
    for (const auto& src : s.sources) seen.insert(src.label);
    return seen.size() == s.sources.size();
  };
  if (!distinct())
    for (auto& src : s.sources) src.label = fs::path(src.path).stem().string();
  if (!distinct())
    for (auto& src : s.sources) src.label = src.path;
  split_by_axes(s);
  apply_selection(s, options.select);
  s.name_files = files_share_a_cell(s);

  // An LLM probe run (docs/experiments.md §2) writes /probe/<model> groups and leaves /tasks empty.
  std::vector<std::size_t> probed;
  for (std::size_t i = 0; i < s.sources.size(); ++i)
    if (!detail::complete_probe_models(s.root(i)).empty()) probed.push_back(i);
  if (s.tasks.empty() && s.fits.empty() && probed.empty()) {
    if (options.select.any())
      throw PlotError(s.path +
                      ": no complete task or fit matches the selection (each selected value is "
                      "in the file, but not together): nothing to plot");
    throw PlotError(s.path + (files.size() > 1 ? " have" : " has") +
                    " no complete tasks or probed models yet (status=complete): nothing to "
                    "plot");
  }
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
      spdlog::error("reading {}: {}", s.path, e.what());
      ++failed;
    }
  };
  // A probe-only file has no toy sweep to reduce: no advice about /fits for it.
  for (std::size_t i = 0; i < s.sources.size(); ++i) {
    const Source& src = s.sources[i];
    const bool tasks = std::any_of(s.tasks.begin(), s.tasks.end(),
                                   [&](const TaskInfo& t) { return t.source == i; });
    const bool fits =
        std::any_of(s.fits.begin(), s.fits.end(), [&](const FitInfo& f) { return f.source == i; });
    if (!fits && (tasks || src.has_fits_group))
      spdlog::info("{} has no {}: {}; run `depthscale reduce {}` first to fit L(ℓ) = c·ℓ^-α + L0",
                   src.path, src.has_fits_group ? "usable fits under /fits" : "/fits group",
                   s.fits.empty() ? "skipping alpha_vs_temperature, alpha_vs_step, "
                                    "alpha_vs_temperature_by_step and loss_vs_depth"
                                  : "the fit figures show only the other files",
                   src.path);
  }
  if (!s.fits.empty()) {
    attempt([&] { return alpha_vs_temperature(s, out); });
    attempt([&] { return alpha_vs_step(s, out); });
    attempt([&] { return alpha_vs_temperature_by_step(s, out); });
    attempt([&] { return loss_vs_depth(s, out); });
  }
  if (!s.tasks.empty()) {
    attempt([&] { return training_curves(s, out); });
    attempt([&] { return hidden_figure(s, out, false); });
    attempt([&] { return hidden_figure(s, out, true); });
    attempt([&] { return theta_vs_depth(s, out); });
    attempt([&] { return test_loss_vs_step(s, out); });
    const auto figures = temperature_figures(s);
    if (figures.empty())
      spdlog::info(
          "test_loss_by_temperature skipped: no ρ of {} has tasks at two temperatures or more",
          s.path);
    for (const auto& fig : figures) attempt([&] { return test_loss_by_temperature(s, out, fig); });
  }
  // Each file's probe figures: in the folder, or in a subfolder per file when several have them.
  for (std::size_t i : probed) {
    const Source& src = s.sources[i];
    const fs::path dir = probed.size() > 1 ? fs::path(out) / name_part(src.label) : fs::path(out);
    if (probed.size() > 1) {
      fs::create_directories(dir, ec);
      if (ec)
        throw PlotError("cannot create the figure folder " + dir.string() + ": " + ec.message());
    }
    detail::probe_figures(s.root(i), src.path, dir, options.gnuplot, attempt, options.select.model);
  }
  // Each file's per-input and per-token trajectories (trajectory_plots.hpp), likewise in a
  // subfolder per file when there are several.
  for (std::size_t i = 0; i < s.sources.size(); ++i) {
    const Source& src = s.sources[i];
    const bool several = s.sources.size() > 1;
    const fs::path dir = several ? fs::path(out) / name_part(src.label) : fs::path(out);
    if (several) {
      fs::create_directories(dir, ec);
      if (ec)
        throw PlotError("cannot create the figure folder " + dir.string() + ": " + ec.message());
    }
    // A value selected for the figures may be in another file only: each file's trajectories
    // take the selected values it has (its tasks are already restricted to them).
    Selection select = options.select;
    if (several) {
      std::set<double> rhos, temps;
      std::set<int64_t> depths, teachers;
      for (const auto& t : s.tasks) {
        if (t.source != i) continue;
        rhos.insert(t.rho), temps.insert(t.temperature);
        depths.insert(t.depth), teachers.insert(t.teacher);
      }
      const auto keep = [](auto& list, const auto& have) {
        list.erase(
            std::remove_if(list.begin(), list.end(), [&](const auto& v) { return !have.count(v); }),
            list.end());
      };
      const bool toy_selected = select.any() && select.model.empty();
      keep(select.rho, rhos), keep(select.temperature, temps);
      keep(select.depth, depths), keep(select.teacher, teachers);
      if (toy_selected && !select.any()) {
        spdlog::info("trajectory figures of {} skipped: it has none of the selected values",
                     src.path);
        continue;
      }
    }
    detail::trajectory_figures(s.root(i), src.path, dir, options.gnuplot, select, attempt,
                               src.axes);
  }
  if (failed > 0)
    throw PlotError(std::to_string(failed) + " of " + std::to_string(failed + made) +
                    " figures for " + s.path + " failed (see above)");
  if (!options.formats.empty()) draw_vector_formats(out, options.formats, options.gnuplot);
  spdlog::info("{} figure(s) from {} in {}", made, s.path, out);
  return made;
}

}  // namespace depthscale::plot
