// `depthscale reduce FILE --decompose`: the study's decomposition over the cells of a toy sweep
// (reduce.hpp says what a cell and a point are, and why cells are fitted separately).
#include <spdlog/fmt/fmt.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>
#include <tuple>

#include "config/job.hpp"
#include "fit/fit.hpp"
#include "fit/reduce.hpp"
#include "store/store.hpp"

namespace depthscale::fit {

namespace {

namespace fs = std::filesystem;

// The grid settings that make a cell: everything but width, depth, replicate and step.
struct CellKey {
  int64_t teacher_groups = 0;  // K > 0: the grouped teacher (then ρ is not the axis)
  double rho = 0;
  int64_t teacher_depth = 0;
  double temperature = 0;
  bool operator<(const CellKey& o) const {
    return std::tie(teacher_groups, rho, teacher_depth, temperature) <
           std::tie(o.teacher_groups, o.rho, o.teacher_depth, o.temperature);
  }
  std::string name() const {
    const std::string structure = teacher_groups > 0 ? "K" + std::to_string(teacher_groups)
                                                     : "rho" + config::format_number(rho);
    // The task keys' vocabulary: structure, teacher depth ℓ* ("L"), temperature.
    return structure + "_L" + std::to_string(teacher_depth) + "_T" +
           config::format_number(temperature);
  }
};

// One student's test loss by step.
using Curve = std::map<int64_t, double>;

struct CellTasks {
  // (m, ℓ) → replicate → curve
  std::map<std::pair<int64_t, int64_t>, std::map<int64_t, Curve>> runs;
  std::set<int64_t> replicates;
};

double param_or(const std::map<std::string, double>& p, const char* name, double fallback) {
  const auto it = p.find(name);
  return it == p.end() ? fallback : it->second;
}

std::string join_numbers(const std::set<double>& v) {
  std::string s;
  for (double x : v) s += (s.empty() ? "" : ",") + fmt::format("{:g}", x);
  return "{" + s + "}";
}

std::string pm(double v, double se) {
  return fmt::format("{:.4g} ± {:.2g}", v, se);
}

}  // namespace

DecomposeResult decompose_sweep(const DecomposeOptions& o, std::ostream& out) {
  const std::string& path = o.path;
  if (o.bootstrap < 0) throw Error("--bootstrap must be ≥ 0");
  if (o.holdout < 0) throw Error("--holdout must be ≥ 0");
  if (o.min_step < 1)
    throw Error("--min-step must be ≥ 1 (step 0 has D = 0, outside a power law of D)");

  // The job stored in the file: train.batch (D = step·batch) and the defaults of old files.
  config::Job job;
  {
    const store::File f = store::open_sweep(path);
    const store::SweepHeader h = store::read_header(f);
    const std::string& text = !h.effective.empty() ? h.effective : h.job_yaml;
    if (text.empty())
      throw DecomposeError(path +
                           ": no job text in the file (job_effective, job_yaml), so no "
                           "train.batch to turn steps into data sizes D");
    try {
      job = config::parse_job(text, path + ":/job_effective");
    } catch (const std::exception& e) {
      throw DecomposeError(
          fmt::format("{}: the job stored in the file does not parse: {}", path, e.what()));
    }
  }
  const double batch = job.train.batch;

  std::map<CellKey, CellTasks> cells;
  for (const auto& r : store::read_tasks(path, store::TaskFields::Losses)) {
    if (!r.complete) continue;
    CellKey k;
    k.teacher_groups = int64_t(param_or(r.params, "teacher_groups", 0));
    k.rho = k.teacher_groups > 0 ? 0.0 : r.params.at("rho");
    k.teacher_depth = int64_t(param_or(r.params, "teacher_depth", job.model.teacher_depth));
    k.temperature = r.params.at("temperature");
    const int64_t m = int64_t(param_or(r.params, "width", job.model.width));
    const int64_t l = int64_t(r.params.at("depth"));
    const int64_t rep = int64_t(param_or(r.params, "teacher", 0));
    auto& c = cells[k];
    c.replicates.insert(rep);
    Curve& curve = c.runs[{m, l}][rep];
    for (std::size_t i = 0; i < r.eval_step.size() && i < r.test_loss.size(); ++i)
      if (r.eval_step[i] >= o.min_step && std::isfinite(r.test_loss[i]))
        curve[r.eval_step[i]] = r.test_loss[i];
  }
  if (cells.empty()) throw ReduceError(path + ": no complete tasks yet: nothing to decompose");

  DecomposeResult result;
  result.out_dir =
      !o.out_dir.empty()
          ? o.out_dir
          : (fs::path(path).parent_path() / (fs::path(path).stem().string() + "_decompose"))
                .string();
  out << fmt::format(
      "decomposition of {}: L = exp(a_m)/m^alpha_m + exp(a_l)/(l - {:g})^alpha_l "
      "+ exp(a_D)/D^alpha_D + L0\n",
      path, o.depth_offset);
  out << fmt::format(
      "  m = student width, l = student depth, D = step * train.batch ({:g}); steps >= {}; loss "
      "= mean test loss over the cell's teacher replicates; one fit per cell "
      "(teacher structure, teacher depth l*, temperature)\n",
      batch, o.min_step);

  // Build every cell's points first, so that every unusable cell is named in one error.
  std::vector<std::string> problems;
  for (const auto& [key, c] : cells) {
    DecomposeCell cell;
    cell.name = key.name();
    cell.rho = key.rho;
    cell.temperature = key.temperature;
    cell.teacher_depth = key.teacher_depth;
    cell.teacher_groups = key.teacher_groups;
    cell.replicates = int(c.replicates.size());
    int incomplete_runs = 0, incomplete_steps = 0;
    for (const auto& [ml, reps] : c.runs) {
      if (reps.size() != c.replicates.size()) {
        ++incomplete_runs;
        continue;
      }
      // The steps every replicate evaluated.
      const Curve& first = reps.begin()->second;
      for (const auto& [step, loss0] : first) {
        double sum = 0;
        bool all = true;
        for (const auto& [rep, curve] : reps) {
          const auto it = curve.find(step);
          if (it == curve.end()) {
            all = false;
            break;
          }
          sum += it->second;
        }
        if (!all) {
          ++incomplete_steps;
          continue;
        }
        const double loss = sum / double(reps.size());
        cell.data.push_back(0, 0, loss, double(step) * batch, double(ml.first), double(ml.second));
        cell.step.push_back(step);
      }
    }
    std::set<double> widths(cell.data.width.begin(), cell.data.width.end());
    std::set<double> depths(cell.data.depth.begin(), cell.data.depth.end());
    std::set<double> sizes(cell.data.tokens.begin(), cell.data.tokens.end());
    const std::string left_out =
        incomplete_runs + incomplete_steps > 0
            ? fmt::format(
                  " ({} (width, depth) pairs without every replicate of {} and {} steps "
                  "not evaluated by every replicate left out)",
                  incomplete_runs, join_numbers({c.replicates.begin(), c.replicates.end()}),
                  incomplete_steps)
            : "";
    if (widths.size() < 2) {
      result.skipped.push_back(fmt::format(
          "{}: skipped: one student width ({}), so the width term c_m/m^alpha_m cannot be "
          "separated from L0; the cell needs at least 2 widths",
          cell.name, join_numbers(widths)));
      continue;
    }
    std::vector<std::string> missing;
    if (cell.data.size() < 8)
      missing.push_back(fmt::format("{} points, the fit needs at least 8", cell.data.size()));
    if (depths.size() < 2)
      missing.push_back(fmt::format("one depth {} (needs at least 2)", join_numbers(depths)));
    if (sizes.size() < 2)
      missing.push_back(fmt::format(
          "one data size D {} (needs at least 2 evaluated steps >= {}: set train.eval.every)",
          join_numbers(sizes), o.min_step));
    for (double l : depths)
      if (!(l - o.depth_offset > 0)) {
        missing.push_back(fmt::format("depth {:g} - offset {:g} <= 0", l, o.depth_offset));
        break;
      }
    if (!missing.empty()) {
      std::string what;
      for (const auto& m : missing) what += (what.empty() ? "" : "; ") + m;
      problems.push_back(fmt::format("cell {}: {}{}", cell.name, what, left_out));
      continue;
    }
    cell.dir = (fs::path(result.out_dir) / cell.name).string();
    out << fmt::format(
        "\ncell {}: {} points: widths {}, depths {}, {} data sizes D from {:g} to {:g}, {} "
        "teacher replicate(s){}\n",
        cell.name, cell.data.size(), join_numbers(widths), join_numbers(depths), sizes.size(),
        *sizes.begin(), *sizes.rbegin(), cell.replicates, left_out);
    result.cells.push_back(std::move(cell));
  }
  if (!problems.empty()) {
    std::string msg = path + ": cannot decompose:";
    for (const auto& p : problems) msg += "\n  " + p;
    throw DecomposeError(msg);
  }
  if (result.cells.empty()) {
    std::string msg = path + ": no cell to decompose:";
    for (const auto& s : result.skipped) msg += "\n  " + s;
    throw DecomposeError(msg);
  }

  for (auto& cell : result.cells) {
    out << fmt::format("\n=== cell {} ===\n", cell.name);
    ScalingAnalysisOptions a;
    a.depth_offset = o.depth_offset;
    a.bootstrap = o.bootstrap;
    a.holdout = o.holdout;
    a.seed = o.seed;
    a.out_dir = cell.dir;
    a.points_label = "points";
    a.parts_header = "step,width,depth,D";
    const DecomposeCell* c = &cell;
    a.parts_row = [c](std::size_t i) {
      return fmt::format("{},{:g},{:g},{:.17g}", c->step[i], c->data.width[i], c->data.depth[i],
                         c->data.tokens[i]);
    };
    a.fit_rows = {{"cell", cell.name},
                  {"rho", config::format_number(cell.rho)},
                  {"teacher_groups", std::to_string(cell.teacher_groups)},
                  {"teacher_depth", std::to_string(cell.teacher_depth)},
                  {"temperature", config::format_number(cell.temperature)},
                  {"replicates", std::to_string(cell.replicates)},
                  {"batch", fmt::format("{:g}", batch)},
                  {"min_step", std::to_string(o.min_step)}};
    try {
      cell.analysis = analyse_scaling_fit(cell.data, a, out);
      analyse_scaling_checks(cell.data, a, cell.analysis, out);
    } catch (const std::invalid_argument& e) {
      throw DecomposeError(fmt::format("{}: cell {}: {}", path, cell.name, e.what()));
    } catch (const Error& e) {
      throw DecomposeError(fmt::format("{}: cell {}: {}", path, cell.name, e.what()));
    }
  }

  // The summary: one block per cell.
  out << fmt::format(
      "\ndecomposition per cell: value ± Jacobian SE{}{}\n",
      o.bootstrap > 0 ? ", [bootstrap 2.5%, 97.5%]" : "",
      o.holdout > 0 ? "; held-out = mean squared log error on the held-out 20%" : "");
  out << fmt::format("  {:<24} {:>6} {:>24} {:>24} {:>24} {:>24} {:>12}\n", "cell", "n", "alpha_m",
                     "alpha_l", "alpha_D", "L0", "held-out");
  for (const auto& cell : result.cells) {
    const ScalingAnalysis& an = cell.analysis;
    const auto& f = an.fit;
    out << fmt::format("  {:<24} {:>6} {:>24} {:>24} {:>24} {:>24} {:>12}\n", cell.name, f.n_points,
                       pm(f.params[kAlphaM], f.se[kAlphaM]), pm(f.params[kAlphaL], f.se[kAlphaL]),
                       pm(f.params[kAlphaD], f.se[kAlphaD]), pm(f.params[kL0], f.se[kL0]),
                       an.holdout ? fmt::format("{:.3g}", an.holdout->test.mean) : "-");
    if (an.bootstrap) {
      const auto& b = *an.bootstrap;
      const auto iv = [&](int k) { return fmt::format("[{:.4g}, {:.4g}]", b.lo[k], b.hi[k]); };
      out << fmt::format("  {:<24} {:>6} {:>24} {:>24} {:>24} {:>24}\n", "", "", iv(kAlphaM),
                         iv(kAlphaL), iv(kAlphaD), iv(kL0));
    }
  }
  for (const auto& s : result.skipped) out << "  " << s << "\n";
  out << fmt::format("\nCSVs written to {}/<cell>/\n", result.out_dir);
  return result;
}

}  // namespace depthscale::fit
