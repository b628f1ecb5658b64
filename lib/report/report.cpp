// `depthscale report`: reads the sweep files, gathers our numbers (observations), sets them beside
// the study's published values, draws the figures with plot/ and writes one Markdown document.
#include "report/report.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "config/job.hpp"
#include "fit/fit.hpp"
#include "fit/reduce.hpp"
#include "plot/plot.hpp"
#include "store/store.hpp"

namespace depthscale::report {

namespace {

namespace fs = std::filesystem;

// What each figure of plot/ shows and which of the study's figures it is
// (docs/fits-and-figures.md).
struct FigureInfo {
  const char* name;
  const char* paper;
  const char* caption;
};
// clang-format off
const FigureInfo kFigures[] = {
    {"alpha_vs_temperature", "Fig 3b", "final depth exponent α_ℓ against temperature, per ρ (mean ± SEM over teacher replicates)"},
    {"alpha_vs_temperature_by_step", "Fig 4b", "α_ℓ against temperature at several training steps"},
    {"alpha_vs_step", "Fig 4a", "α_ℓ through training, with the theory lines"},
    {"loss_vs_depth", "Fig 3a", "final test loss against depth (log-log) with the fitted c·ℓ^−α + L0"},
    {"test_loss_vs_step", "Fig 4c", "test loss against step at a fixed depth, one line per temperature"},
    {"test_loss_by_temperature", "Figs 16–18", "loss against step, one panel per temperature, one line per depth"},
    {"training_curves", "", "train loss against step, one line per depth"},
    {"hidden_angles", "Fig 5a (means)", "⟨θ(h_l, h_{l+1})⟩ per layer of every student and the teacher"},
    {"hidden_dh_angles", "Fig 5c (means)", "⟨θ(Δh_l, Δh_{l+1})⟩ per layer"},
    {"hidden_trajectories", "Fig 5a", "θ(h_l, h_{l+1}) per probe input (grey) and the mean"},
    {"hidden_dh_trajectories", "Fig 5c", "θ(Δh_l, Δh_{l+1}) per probe input (grey) and the mean"},
    {"hidden_grid", "Fig 21", "θ(h_l, h_{l+1}) per input: rows ρ, columns the student depths and the teacher"},
    {"hidden_dh_grid", "Fig 22", "θ(Δh_l, Δh_{l+1}) per input: rows ρ, columns the depths and the teacher"},
    {"theta_vs_depth", "Fig 5b", "⟨θ⟩_{D,l} against student depth with the fitted slope and a 1/ℓ guide"},
    {"probe_layer_means", "Figs 2b–c", "per-layer means of the LLM probe metrics"},
    {"probe_pca", "Fig 2b", "PCA of the per-token θ vectors with the early-stop cluster"},
    {"probe_theta_middle_vs_depth", "Fig 2d", "⟨θ⟩_{D,l} of each LLM against its depth, log-log, with the fitted slope"},
    {"probe_token_trajectories", "Figs 2a, 2e", "θ per token (grey) and the mean, for one LLM"},
    {"scaling_parts", "Figs 2f, 9, 10, 12–14", "leftover loss against ℓ, m and D with the fitted power laws"},
    {"model_shapes", "Figs 11, 15", "depth against width of real model shapes beside the fit's optimum"},
};
// clang-format on

const FigureInfo* figure_info(const std::string& name) {
  for (const auto& f : kFigures)
    if (name == f.name) return &f;
  return nullptr;
}

// "1.02 ± 0.05" with the SE to two significant digits and the value to the same place.
std::string pm(double v, double se) {
  if (!std::isfinite(v)) return "—";
  if (!(se > 0) || !std::isfinite(se)) return fmt::format("{:.4g}", v);
  const int digits = std::max(0, 1 - static_cast<int>(std::floor(std::log10(se))));
  return fmt::format("{:.{}f} ± {:.{}f}", v, std::min(digits, 6), se, std::min(digits, 6));
}

std::string param_text(double v) {
  return config::format_number(v);
}

std::string list_text(const std::vector<double>& v) {
  if (v.empty()) return "—";
  if (v.size() > 4)
    return fmt::format("{} values, {} … {}", v.size(), param_text(v.front()), param_text(v.back()));
  std::string s;
  for (double x : v) s += (s.empty() ? "" : ", ") + param_text(x);
  return s;
}

std::string list_text(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s.empty() ? "—" : s;
}

const char* loss_name(config::Loss l) {
  return l == config::Loss::Kl ? "kl" : "mse";
}
const char* head_name(config::Head h) {
  return h == config::Head::Trained ? "trained" : h == config::Head::Teacher ? "teacher" : "none";
}
const char* block_name(config::Block b) {
  return b == config::Block::Plain ? "plain" : "rk2";
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

// ---- one sweep file ---------------------------------------------------------------------------

struct AlphaRow {
  double rho = NAN, temperature = NAN;
  std::string axes;  // the grid axes beyond the study's, e.g. "K = 4, ℓ* = 64, m = 16"; "" if none
  int n = 0;
  double alpha = NAN, err = NAN;
  std::string err_kind;
  int64_t step = 0;
  int held = 0;  // replicates whose final fit held L0 at the floor
  std::string messages;
};

struct FileReport {
  std::string path, stem, kind = "toy", job_name = "?", commit = "?", created = "?";
  std::optional<config::Job> job;
  int complete = 0, failed = 0, expected = 0;
  double seconds = 0;
  bool reduced_now = false;
  std::vector<AlphaRow> alphas;
  std::string depth_offset_note;
  struct Model {
    std::string name, family;
    int64_t layers = 0, sites = 0;
    double theta_middle = NAN, early_stop = NAN;
  };
  std::vector<Model> models;
  std::vector<std::string> notes;
};

Observation base_observation(const FileReport& f, const std::string& quantity) {
  Observation o;
  o.quantity = quantity;
  if (f.job) {
    o.loss = loss_name(f.job->train.loss);
    o.head = head_name(f.job->model.head);
    o.block = block_name(f.job->model.block);
    o.steps = f.job->train.steps;
    o.teacher_depth = f.job->model.teacher_depth;
  }
  return o;
}

std::string cell_where(const FileReport& f, double rho, double temperature) {
  std::string s = fmt::format("`{}`: ρ = {}", f.stem, param_text(rho));
  if (std::isfinite(temperature)) s += ", T = " + param_text(temperature);
  return s;
}

// Whether a cell (K, ℓ*, m; 0 where not an axis) is at the study's own settings: students as wide
// as their teacher, inputs in the teacher's width, no teacher groups strictly between ρ = 1 and 0.
// The cell's ℓ* also replaces the job's in `o`.
void mark_setting(const FileReport& f, int64_t groups, int64_t teacher_depth, int64_t width,
                  Observation& o) {
  if (teacher_depth > 0) o.teacher_depth = teacher_depth;
  if (!f.job) return;
  const auto& model = f.job->model;
  const int64_t depth = teacher_depth > 0 ? teacher_depth : model.teacher_depth;
  o.study_setting = model.input_dim == model.teacher_width &&
                    (width > 0 ? width : model.width) == model.teacher_width &&
                    (groups <= 1 || groups == depth);
}

// "K = 4, ℓ* = 64, m = 16": the axes beyond the study's that a fit group has ("" for none).
std::string axes_text(const store::FitSeries& g) {
  std::string s;
  auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
  if (g.teacher_groups > 0) add(fmt::format("K = {}", g.teacher_groups));
  if (g.teacher_depth > 0) add(fmt::format("ℓ* = {}", g.teacher_depth));
  if (g.width > 0) add(fmt::format("m = {}", g.width));
  return s;
}

// Final α per cell (ρ or K, ℓ*, T, m): mean ± SEM across teacher replicates, or the one fit's SE.
void toy_alphas(FileReport& f, const store::Fits& fits, std::vector<Observation>& obs) {
  using Cell = std::tuple<int64_t, int64_t, double, double, int64_t>;
  std::map<Cell, std::vector<const store::FitSeries*>> cells;
  for (const auto& [name, g] : fits.groups)
    cells[{g.teacher_groups, g.teacher_depth, g.rho, g.temperature, g.width}].push_back(&g);
  for (const auto& [cell, groups] : cells) {
    AlphaRow row;
    row.rho = std::get<2>(cell);
    row.temperature = std::get<3>(cell);
    row.axes = axes_text(*groups.front());
    std::vector<double> alphas;
    double single_se = NAN;
    for (const auto* g : groups) {
      if (g->alpha.empty()) continue;
      row.step = std::max(row.step, g->step.back());
      if (!g->L0_held.empty() && g->L0_held.back()) ++row.held;
      if (g->final_message != "ok" && !g->final_message.empty())
        row.messages += (row.messages.empty() ? "" : "; ") + g->final_message;
      if (std::isfinite(g->alpha.back())) {
        alphas.push_back(g->alpha.back());
        single_se = g->alpha_se.back();
      }
    }
    row.n = static_cast<int>(alphas.size());
    if (row.n >= 2) {
      const fit::MeanSe m = fit::mean_se(alphas);
      row.alpha = m.mean;
      row.err = m.se;
      row.err_kind = fmt::format("SEM over {} replicates", row.n);
    } else if (row.n == 1) {
      row.alpha = alphas[0];
      row.err = single_se;
      row.err_kind = "fit SE (one replicate)";
    }
    f.alphas.push_back(row);
    if (row.n == 0) continue;
    Observation o = base_observation(f, "toy_alpha");
    o.where = cell_where(f, row.rho, row.temperature) + (row.axes.empty() ? "" : ", " + row.axes);
    o.value = row.alpha;
    o.se = row.err;
    o.se_kind = row.err_kind;
    o.rho = row.rho;
    o.temperature = row.temperature;
    mark_setting(f, std::get<0>(cell), std::get<1>(cell), std::get<4>(cell), o);
    obs.push_back(o);
  }
}

// ⟨θ⟩_{D,l} (mean over probe inputs and the middle layers 1..ℓ−2) against depth, per (ρ, T), with
// replicates averaged at each depth: the log-log slope (the study's claim: −1).
void toy_theta_slopes(FileReport& f, const store::File& file, std::vector<Observation>& obs) {
  const auto root = file.root();
  if (!root.has("tasks")) return;
  const auto tasks = root.open_group("tasks");
  // (K, ℓ*, ρ, T, m): the axes beyond the study's are 0 where the job does not give them.
  using Cell = std::tuple<int64_t, int64_t, double, double, int64_t>;
  std::map<Cell, std::map<int64_t, std::vector<double>>> cells;
  for (const auto& key : tasks.children()) {
    const auto g = tasks.open_group(key);
    if (!g.has_attr("status") || g.attr_string("status") != "complete") continue;
    if (!g.has("hidden") || !g.open_group("hidden").has("theta")) continue;
    std::vector<hsize_t> dims;
    const auto theta = g.open_group("hidden").read_float("theta", &dims);
    if (dims.size() != 2 || dims[1] < 3) continue;
    double sum = 0;
    std::size_t n = 0;
    for (hsize_t r = 0; r < dims[0]; ++r)
      for (hsize_t l = 1; l + 1 < dims[1]; ++l) {
        const float v = theta[r * dims[1] + l];
        if (std::isfinite(v)) sum += v, ++n;
      }
    if (n == 0) continue;
    const double rho = g.has_attr("rho") ? g.attr_double("rho") : NAN;
    const double T = g.has_attr("temperature") ? g.attr_double("temperature") : NAN;
    auto axis = [&](const char* name) {
      return g.has_attr(name) ? static_cast<int64_t>(g.attr_double(name)) : int64_t(0);
    };
    cells[{axis("teacher_groups"), axis("teacher_depth"), rho, T, axis("width")}]
         [static_cast<int64_t>(dims[1])]
             .push_back(sum / double(n));
  }
  for (const auto& [cell, by_depth] : cells) {
    std::vector<double> depth, theta;
    for (const auto& [d, values] : by_depth) {
      double s = 0;
      for (double v : values) s += v;
      depth.push_back(double(d));
      theta.push_back(s / double(values.size()));
    }
    if (depth.size() < 2) continue;
    const fit::LogLogSlope slope = fit::log_log_slope(depth, theta);
    Observation o = base_observation(f, "toy_theta_slope");
    store::FitSeries axes;
    std::tie(axes.teacher_groups, axes.teacher_depth, std::ignore, std::ignore, axes.width) = cell;
    const std::string extra = axes_text(axes);
    o.where = cell_where(f, std::get<2>(cell), std::get<3>(cell)) +
              (extra.empty() ? "" : ", " + extra) + fmt::format(" ({} depths)", slope.n);
    o.value = slope.slope;
    o.se = slope.se;
    o.se_kind = "SE of the log-log slope";
    o.rho = std::get<2>(cell);
    o.temperature = std::get<3>(cell);
    mark_setting(f, std::get<0>(cell), std::get<1>(cell), std::get<4>(cell), o);
    obs.push_back(o);
  }
}

void probe_models(FileReport& f, const store::File& file, std::vector<Observation>& obs) {
  const auto root = file.root();
  if (!root.has("probe")) return;
  const auto probe = root.open_group("probe");
  std::vector<double> layers, theta;
  for (const auto& name : probe.children()) {
    const auto g = probe.open_group(name);
    if (!g.has_attr("status") || !g.attr_is_string("status") ||
        g.attr_string("status") != "complete")
      continue;
    FileReport::Model m;
    m.name = name;
    if (g.has_attr("family") && g.attr_is_string("family")) m.family = g.attr_string("family");
    if (g.has_attr("num_layers")) m.layers = g.attr_int("num_layers");
    if (g.has("summary")) {
      const auto s = g.open_group("summary");
      if (s.has_attr("theta_middle_mean")) m.theta_middle = s.attr_double("theta_middle_mean");
      if (s.has_attr("sites")) m.sites = s.attr_int("sites");
    }
    if (g.has("pca") && g.open_group("pca").has_attr("early_stop_fraction"))
      m.early_stop = g.open_group("pca").attr_double("early_stop_fraction");
    if (std::isfinite(m.theta_middle) && m.layers > 0) {
      layers.push_back(double(m.layers));
      theta.push_back(m.theta_middle);
    }
    if (std::isfinite(m.early_stop)) {
      Observation o = base_observation(f, "probe_early_stop");
      o.where = fmt::format("`{}`: {}", f.stem, name);
      o.value = m.early_stop;
      obs.push_back(o);
    }
    f.models.push_back(m);
  }
  if (layers.size() >= 2) {
    const fit::LogLogSlope slope = fit::log_log_slope(layers, theta);
    Observation o = base_observation(f, "probe_theta_slope");
    o.where = fmt::format("`{}`: {} models", f.stem, slope.n);
    o.value = slope.slope;
    o.se = slope.se;
    o.se_kind = "SE of the log-log slope";
    obs.push_back(o);
  }
}

store::File open_or_throw(const std::string& path) {
  try {
    return store::open_sweep(path);
  } catch (const store::StoreError& e) {
    throw ReportError(fmt::format("cannot read {}: {}", path, e.what()));
  }
}

FileReport read_file(const std::string& path, std::vector<Observation>& obs) {
  FileReport f;
  f.path = path;
  f.stem = fs::path(path).filename().string();
  bool has_fits = false;
  {
    const store::File file = open_or_throw(path);
    const auto root = file.root();
    const store::SweepHeader header = store::read_header(file);
    f.commit = header.git_commit.empty() ? "?" : header.git_commit;
    if (root.has_attr("created_utc")) f.created = root.attr_string("created_utc");
    try {
      f.job = config::parse_job(header.effective, path + ":/job_effective");
      f.job_name = f.job->name;
      f.kind = f.job->kind == config::JobKind::Probe ? "probe" : "toy";
    } catch (const std::exception& e) {
      f.notes.push_back(
          fmt::format("its job text does not parse with this build ({}); job "
                      "settings are unknown, so no published value matches it",
                      e.what()));
    }
    if (f.kind != "toy") {
      probe_models(f, file, obs);
      return f;
    }
    has_fits = !store::read_fits(file).groups.empty();
  }  // every handle closed: reduce below opens the file for writing
  for (const auto& t : store::read_tasks(path, store::TaskFields::Attributes)) {
    if (t.complete) {
      ++f.complete;
      f.seconds += t.wall_seconds;
    } else {
      ++f.failed;
    }
  }
  if (f.job) f.expected = static_cast<int>(config::expand(*f.job).size());
  if (!has_fits && f.complete > 0) {
    // Reduce as the user would have to: the file gains /fits, and the document says so.
    try {
      fit::ReduceOptions ro;
      ro.path = path;
      fit::reduce_sweep(ro);
      f.reduced_now = true;
    } catch (const std::exception& e) {
      f.notes.push_back(fmt::format("`depthscale reduce` found nothing to fit: {}", e.what()));
    }
  }
  const store::File file = open_or_throw(path);
  const store::Fits fits = store::read_fits(file);
  if (!fits.groups.empty()) {
    toy_alphas(f, fits, obs);
    if (fits.depth_offset != 0)
      f.depth_offset_note = fmt::format(" (fits in ℓ − {})", param_text(fits.depth_offset));
  }
  toy_theta_slopes(f, file, obs);
  return f;
}

// ---- the Chinchilla fit -------------------------------------------------------------------------

struct ScalingSection {
  double offset = 0;
  fit::ScalingFit fit;
  double mre = NAN;
  fit::LogLogSlope shapes;
  std::string dir;  // its CSVs and figures (relative to the report)
  std::vector<std::string> figures;
};

ScalingSection scaling_section(const ReportOptions& o, double offset, const fs::path& out) {
  ScalingSection s;
  s.offset = offset;
  const fit::ScalingData data = fit::exclude_top_losses(fit::read_scaling_csv(o.scaling_csv), 40);
  fit::ScalingFitOptions fo;
  fo.depth_offset = offset;
  s.fit = fit::fit_scaling(data, fo);
  s.mre = 0;
  std::vector<double> m, l;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const double pred =
        fit::loss_parts(s.fit.params, data.width[i], data.depth[i], data.tokens[i], offset).total();
    s.mre += std::fabs(pred - data.loss[i]) / data.loss[i] / double(data.size());
    m.push_back(data.width[i]);
    l.push_back(data.depth[i] - offset);
  }
  s.shapes = fit::log_log_slope(m, l);
  // The CSVs and figures as `depthscale fit-scaling --out` writes them.
  s.dir = offset == 0 ? "scaling" : fmt::format("scaling-l-{}", param_text(offset));
  fit::FitScalingOptions fso;
  fso.data_path = o.scaling_csv;
  fso.depth_offset = offset;
  fso.out_dir = (out / s.dir).string();
  fso.shapes_path = o.shapes_csv;
  std::ostringstream text;
  fit::fit_scaling_report(fso, text);
  std::ofstream(out / s.dir / "fit.txt") << text.str();
  plot::plot_scaling_parts((out / s.dir / "parts.csv").string(), (out / s.dir).string(), o.gnuplot);
  plot::plot_model_shapes((out / s.dir).string(), o.gnuplot);
  s.figures = {"scaling_parts", "model_shapes"};
  return s;
}

void scaling_observations(const ScalingSection& s, std::vector<Observation>& obs) {
  const auto add = [&](const char* quantity, double v, double se, const std::string& kind) {
    Observation o;
    o.quantity = quantity;
    o.where = s.offset == 0 ? "Chinchilla fit (ℓ)"
                            : fmt::format("Chinchilla fit (ℓ − {})", param_text(s.offset));
    o.value = v;
    o.se = se;
    o.se_kind = kind;
    o.depth_offset = s.offset;
    obs.push_back(o);
  };
  const auto& p = s.fit.params;
  const auto& e = s.fit.se;
  add("scaling_alpha_m", p[fit::kAlphaM], e[fit::kAlphaM], "Jacobian SE");
  add("scaling_alpha_l", p[fit::kAlphaL], e[fit::kAlphaL], "Jacobian SE");
  add("scaling_alpha_D", p[fit::kAlphaD], e[fit::kAlphaD], "Jacobian SE");
  add("scaling_L0", p[fit::kL0], e[fit::kL0], "Jacobian SE");
  add("scaling_mean_relative_error", s.mre, NAN, "");
  add("scaling_shapes_slope", s.shapes.slope, s.shapes.se, "SE of the log-log slope");
}

// ---- the document -------------------------------------------------------------------------------

std::vector<std::string> pngs_in(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".png") out.push_back(e.path().stem().string());
  // The order of kFigures (the paper's reading order), unknown names last.
  const auto rank = [](const std::string& n) {
    for (std::size_t i = 0; i < std::size(kFigures); ++i)
      if (n == kFigures[i].name) return i;
    return std::size(kFigures);
  };
  std::sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
  });
  return out;
}

std::string figure_block(const std::string& rel_dir, const std::string& name) {
  const FigureInfo* info = figure_info(name);
  std::string head = info && *info->paper ? fmt::format("**{}** — {}", info->paper, info->caption)
                     : info               ? std::string(info->caption)
                                          : name;
  return fmt::format(
      "{}  \n![{}]({}/{}.png)  \n*`{}.png`; numbers in `{}.csv`, script `{}.gp`*\n\n", head, name,
      rel_dir, name, name, name, name);
}

std::string escape_cell(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

ReportResult write_report(const ReportOptions& o) {
  if (o.files.empty() && o.scaling_csv.empty())
    throw ReportError("nothing to report: give sweep files and/or a scaling-law CSV");
  if (o.out_dir.empty()) throw ReportError("no output folder given");
  const fs::path out = o.out_dir;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw ReportError(fmt::format("cannot create {}: {}", o.out_dir, ec.message()));
  const std::vector<PublishedValue> published = load_published(o.published);

  ReportResult result;
  std::vector<FileReport> files;
  std::set<std::string> stems;
  for (const auto& path : o.files) {
    files.push_back(read_file(path, result.observations));
    // Figures of each file in a folder of its own (two files may share a name in two folders).
    std::string stem = fs::path(path).stem().string();
    while (!stems.insert(stem).second) stem += "_";
    plot::PlotOptions po;
    po.path = path;
    po.out_dir = (out / stem).string();
    po.gnuplot = o.gnuplot;
    try {
      plot::plot_sweep(po);
    } catch (const std::exception& e) {
      files.back().notes.push_back(fmt::format("some figures failed: {}", e.what()));
    }
    files.back().stem = stem;
  }
  std::vector<ScalingSection> scaling;
  if (!o.scaling_csv.empty()) {
    for (double offset : {0.0, 2.0}) {
      scaling.push_back(scaling_section(o, offset, out));
      scaling_observations(scaling.back(), result.observations);
    }
  }
  result.comparisons = compare_all(published, result.observations);

  // ---- write ----
  std::string md;
  md += "# depthscale report\n\n";
  md += fmt::format(
      "Generated {}{}. The study: Liu, Kangaslahti, Liu & Gore, *Inverse Depth "
      "Scaling From Most Layers Being Similar* (arXiv:2602.05970); its numbers are "
      "read from `{}`.\n\n",
      now_utc(), o.command_line.empty() ? "" : fmt::format(" by `{}`", o.command_line),
      o.published);

  if (!files.empty()) {
    md += "## What was run\n\n";
    md += "| file | job | grid | training | tasks | compute | commit, created |\n";
    md += "|---|---|---|---|---|---|---|\n";
    for (const auto& f : files) {
      std::string grid = "—", training = "—";
      if (f.job && f.kind == "toy") {
        const auto& j = *f.job;
        grid = j.grid.teacher_groups.empty()
                   ? fmt::format("ρ: {}", list_text(j.grid.rho))
                   : fmt::format("teacher groups K: {}", list_text(j.grid.teacher_groups));
        grid += fmt::format("; T: {}; depths: {}; replicates: {}", list_text(j.grid.temperature),
                            list_text(j.grid.depth), j.grid.teacher.size());
        if (!j.grid.width.empty()) grid += "; widths: " + list_text(j.grid.width);
        if (!j.grid.teacher_depth.empty())
          grid += "; teacher depths: " + list_text(j.grid.teacher_depth);
        training = fmt::format(
            "{} steps × batch {}, {} loss, head {}, {} block, teacher depth {}, width {}",
            j.train.steps, j.train.batch, loss_name(j.train.loss), head_name(j.model.head),
            block_name(j.model.block), j.model.teacher_depth, j.model.width);
        if (j.model.teacher_width != j.model.width)
          training += fmt::format(", teacher width {}", j.model.teacher_width);
        if (j.model.input_dim != j.model.teacher_width)
          training += fmt::format(", inputs of dimension {}", j.model.input_dim);
      } else if (f.kind == "probe") {
        grid = fmt::format("{} model(s)", f.models.size());
        training = "LLM hidden-state probe";
      }
      const std::string tasks =
          f.kind == "toy" ? fmt::format("{} complete, {} failed{}", f.complete, f.failed,
                                        f.expected ? fmt::format(" of {}", f.expected) : "")
                          : fmt::format("{} model(s) complete", f.models.size());
      const std::string compute =
          f.seconds > 0 ? fmt::format("{:.2f} h of task time", f.seconds / 3600.0) : "—";
      md += fmt::format("| `{}` | {} ({}) | {} | {} | {} | {} | {}, {} |\n", escape_cell(f.path),
                        escape_cell(f.job_name), f.kind, escape_cell(grid), escape_cell(training),
                        tasks, compute, f.commit, f.created);
    }
    md += "\n";
    for (const auto& f : files) {
      if (f.reduced_now)
        md += fmt::format(
            "- `{}` had no fits: the report ran `depthscale reduce` on it (its "
            "/fits group is new).\n",
            f.path);
      for (const auto& n : f.notes) md += fmt::format("- `{}`: {}\n", f.path, n);
    }
    md += "\n";
  }

  md += "## The study's numbers beside ours\n\n";
  md +=
      "Verdicts: *consistent* when |ours − paper| ≤ 2 SE, SE = √(ours² + paper²) (plus the "
      "entry's tolerance where the paper gives a number without an SE); for a bound (above/"
      "below) when ours clears it by 2 SE. *not run*: none of the files has a result the entry "
      "applies to. Claims without an SE (\"≈ 1\") are judged on our SE alone.\n\n";
  md += "| quantity | claim | paper | ours | where | verdict | source |\n";
  md += "|---|---|---|---|---|---|---|\n";
  for (const auto& c : result.comparisons) {
    const auto& p = c.published;
    const char* rel = p.relation == Relation::Above   ? "> "
                      : p.relation == Relation::Below ? "< "
                                                      : "≈ ";
    const std::string paper = rel + (p.se > 0 ? pm(p.value, p.se) : fmt::format("{:g}", p.value));
    const std::string ours =
        c.ours ? (std::isfinite(c.ours->se) ? pm(c.ours->value, c.ours->se)
                                            : fmt::format("{:.4g}", c.ours->value))
               : "—";
    const std::string where =
        c.ours ? c.ours->where + (c.ours->se_kind.empty() ? "" : " (" + c.ours->se_kind + ")")
               : "—";
    md += fmt::format("| {} | {} | {} | {} | {} | {}{} | {} |\n", p.quantity, escape_cell(p.claim),
                      paper, ours, escape_cell(where), verdict_text(c.verdict),
                      c.detail.empty() ? "" : " — " + c.detail, escape_cell(p.source));
  }
  md += "\n";

  for (const auto& f : files) {
    if (f.alphas.empty()) continue;
    md += fmt::format("## Depth exponents of `{}`{}\n\n", f.path, f.depth_offset_note);
    md +=
        "Final fit of L(ℓ) = c·ℓ^−α + L0 per (ρ, T); α is the mean over teacher replicates ± "
        "SEM, or the single fit's SE.\n\n";
    bool axes = false;
    for (const auto& r : f.alphas) axes = axes || !r.axes.empty();
    md += axes ? "| ρ | T | also | replicates | α_ℓ | error | step | notes |\n"
                 "|---|---|---|---|---|---|---|---|\n"
               : "| ρ | T | replicates | α_ℓ | error | step | notes "
                 "|\n|---|---|---|---|---|---|---|\n";
    for (const auto& r : f.alphas) {
      std::string notes = r.messages;
      if (r.held)
        notes += (notes.empty() ? "" : "; ") +
                 fmt::format("{} fit(s) with L0 held at the floor", r.held);
      md += fmt::format("| {} | {} | {}{} | {} | {} | {} | {} |\n", param_text(r.rho),
                        std::isfinite(r.temperature) ? param_text(r.temperature) : "—",
                        axes ? r.axes + " | " : "", r.n, pm(r.alpha, r.err), r.err_kind, r.step,
                        escape_cell(notes));
    }
    md += "\n";
  }
  for (const auto& f : files) {
    if (f.models.empty()) continue;
    md += fmt::format("## LLM probes of `{}`\n\n", f.path);
    md +=
        "| model | family | layers | sites | ⟨θ⟩_{D,l} (middle layers) | early-stop fraction "
        "|\n|---|---|---|---|---|---|\n";
    for (const auto& m : f.models)
      md += fmt::format("| {} | {} | {} | {} | {:.4g} | {:.4g} |\n", m.name, m.family, m.layers,
                        m.sites, m.theta_middle, m.early_stop);
    md +=
        "\nThe paper's early-stop fractions are not in the published-values file (no number "
        "we can cite), so these have no verdict.\n\n";
  }

  for (const auto& s : scaling) {
    md += fmt::format("## The Chinchilla scaling-law fit{}\n\n",
                      s.offset == 0 ? " (ℓ)" : fmt::format(" (ℓ − {})", param_text(s.offset)));
    md += fmt::format(
        "`{}`, the 40 highest losses excluded ({} rows); L = c_m/m^α_m + "
        "c_ℓ/(ℓ − {})^α_ℓ + c_D/D^α_D + L0 by Levenberg–Marquardt from {} starts; "
        "SEs from the Jacobian of the log residuals. Full output: `{}/fit.txt`.\n\n",
        o.scaling_csv, s.fit.n_points, param_text(s.offset), s.fit.n_starts, s.dir);
    md += "| α_m | α_ℓ | α_D | L0 | mean relative error | shapes: slope of log(ℓ − o) on log m |\n";
    md += "|---|---|---|---|---|---|\n";
    md += fmt::format("| {} | {} | {} | {} | {:.3f}% | {} |\n\n",
                      pm(s.fit.params[fit::kAlphaM], s.fit.se[fit::kAlphaM]),
                      pm(s.fit.params[fit::kAlphaL], s.fit.se[fit::kAlphaL]),
                      pm(s.fit.params[fit::kAlphaD], s.fit.se[fit::kAlphaD]),
                      pm(s.fit.params[fit::kL0], s.fit.se[fit::kL0]), 100 * s.mre,
                      pm(s.shapes.slope, s.shapes.se));
  }

  md += "## Figures\n\n";
  for (const auto& f : files) {
    const auto names = pngs_in(out / f.stem);
    if (names.empty()) continue;
    md += fmt::format("### `{}`\n\n", f.path);
    for (const auto& n : names) md += figure_block(f.stem, n);
    result.figures += static_cast<int>(names.size());
  }
  for (const auto& s : scaling) {
    md += fmt::format("### Chinchilla fit{}\n\n",
                      s.offset == 0 ? "" : fmt::format(" (ℓ − {})", param_text(s.offset)));
    for (const auto& n : s.figures) md += figure_block(s.dir, n);
    result.figures += static_cast<int>(s.figures.size());
  }

  result.document = (out / "report.md").string();
  store::write_file_atomically(result.document, std::vector<char>(md.begin(), md.end()));
  spdlog::info("wrote {} ({} figures, {} comparisons)", result.document, result.figures,
               result.comparisons.size());
  return result;
}

}  // namespace depthscale::report
