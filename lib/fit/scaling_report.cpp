// The `depthscale fit-scaling` analysis: the whole §3 fit as tables on a stream and CSVs in a
// folder.
#include <spdlog/fmt/fmt.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>

#include "fit/fit.hpp"

namespace depthscale::fit {
namespace {

namespace fs = std::filesystem;

const char* kTermNames[3] = {"c_m", "c_l", "c_D"};

std::ofstream open_csv(const fs::path& dir, const std::string& name) {
  std::ofstream f(dir / name);
  if (!f) throw Error(fmt::format("cannot write {}", (dir / name).string()));
  return f;
}

std::string params_header(const std::string& prefix = "") {
  std::string h;
  for (const char* n : scaling_param_names()) h += fmt::format(",{}{}", prefix, n);
  return h;
}

std::string params_csv(const ScalingParams& p) {
  std::string s;
  for (double v : p) s += fmt::format(",{:.17g}", v);
  return s;
}

void print_fit(std::ostream& out, const ScalingFit& fit, const std::string& points_label) {
  const auto& names = scaling_param_names();
  out << fmt::format("  {:<10} {:>16} {:>14}\n", "parameter", "value", "SE");
  for (int k = 0; k < 7; ++k)
    out << fmt::format("  {:<10} {:>16.8g} {:>14.4g}\n", names[k], fit.params[k], fit.se[k]);
  // c = exp(a): SE(c) = c·SE(a) to first order.
  for (int t = 0; t < 3; ++t)
    out << fmt::format("  {:<10} {:>16.8g} {:>14.4g}   (= exp(a), SE = c·SE(a))\n", kTermNames[t],
                       fit.c(t), fit.c(t) * fit.se[2 * t]);
  out << fmt::format("  objective      {:.12g}   (mean over points of (log L - log Lhat)^2)\n",
                     fit.objective);
  out << fmt::format("  gradient norm  {:.3g}   (Euclidean norm of d objective / d theta)\n",
                     fit.gradient_norm);
  out << fmt::format("  iterations     {}   (Ceres LM, best start + polish)\n", fit.iterations);
  out << fmt::format("  starts         {} usable, {} reached the best objective (1e-9 rel.)\n",
                     fit.n_starts, fit.n_starts_at_best);
  out << fmt::format("  {:<14} {}\n", points_label, fit.n_points);
  out << fmt::format(
      "  SEs            Cov = s^2 (J^T J)^-1, J = d r/d theta of the {} residuals r = log L - "
      "log Lhat, s^2 = RSS/(n-7) = {:.6g}\n",
      ScalingFit::residual_space, fit.s2);
  out << fmt::format("  status         {}\n", fit.message);
}

}  // namespace

ScalingAnalysis analyse_scaling_fit(const ScalingData& data, const ScalingAnalysisOptions& o,
                                    std::ostream& out) {
  const double off = o.depth_offset;
  const fs::path dir = o.out_dir;
  if (!o.out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", o.out_dir, ec.message()));
  }
  ScalingAnalysis a;
  ScalingFitOptions fopt;
  fopt.depth_offset = off;
  a.fit = fit_scaling(data, fopt);
  const ScalingFit& fit = a.fit;
  print_fit(out, fit, o.points_label);
  if (!fit.converged) throw Error("the main fit did not converge: " + fit.message);
  // The paper quotes its fit's accuracy this way (0.4%).
  double mre = 0;
  for (std::size_t i = 0; i < data.size(); ++i)
    mre += std::fabs(
               loss_parts(fit.params, data.width[i], data.depth[i], data.tokens[i], off).total() -
               data.loss[i]) /
           data.loss[i] / double(data.size());
  a.mean_relative_error = mre;
  out << fmt::format("  mean rel. error {:.3f}%   (mean over points of |Lhat - L| / L)\n",
                     100 * mre);

  if (!o.out_dir.empty()) {
    auto f = open_csv(dir, "fit.csv");
    f << "name,value,se\n";
    for (int k = 0; k < 7; ++k)
      f << fmt::format("{},{:.17g},{:.17g}\n", scaling_param_names()[k], fit.params[k], fit.se[k]);
    for (int t = 0; t < 3; ++t)
      f << fmt::format("{},{:.17g},{:.17g}\n", kTermNames[t], fit.c(t), fit.c(t) * fit.se[2 * t]);
    f << fmt::format("objective,{:.17g},\nrss_log,{:.17g},\ns2_log,{:.17g},\n", fit.objective,
                     fit.rss, fit.s2);
    f << fmt::format("gradient_norm,{:.17g},\niterations,{},\nn_points,{},\n", fit.gradient_norm,
                     fit.iterations, fit.n_points);
    for (const auto& [name, value] : o.fit_rows) f << name << "," << value << ",\n";
    f << fmt::format("depth_offset,{:.17g},\n", off);
    f << fmt::format("mean_relative_error,{:.17g},\n", mre);

    auto p = open_csv(dir, "parts.csv");
    p << o.parts_header << ",loss,predicted,width_part,depth_part,data_part,L0,log_residual\n";
    for (std::size_t i = 0; i < data.size(); ++i) {
      const LossParts lp =
          loss_parts(fit.params, data.width[i], data.depth[i], data.tokens[i], off);
      p << (o.parts_row ? o.parts_row(i)
                        : fmt::format("{},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}", data.line[i],
                                      data.model_size[i], data.flop[i], data.tokens[i],
                                      data.width[i], data.depth[i]))
        << fmt::format(",{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}\n", data.loss[i],
                       lp.total(), lp.width, lp.depth, lp.data, lp.L0,
                       std::log(data.loss[i]) - std::log(lp.total()));
    }
  }
  return a;
}

void analyse_scaling_checks(const ScalingData& data, const ScalingAnalysisOptions& o,
                            ScalingAnalysis& a, std::ostream& out) {
  const double off = o.depth_offset;
  const fs::path dir = o.out_dir;
  const ScalingFit& fit = a.fit;
  if (o.bootstrap > 0) {
    a.bootstrap = bootstrap_scaling(data, fit.params, o.bootstrap, o.seed, off);
    const BootstrapResult& b = *a.bootstrap;
    out << fmt::format("\nbootstrap over points: {} resamples (seed {}), {} failed\n", o.bootstrap,
                       o.seed, b.n_failed);
    out << fmt::format("  {:<10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n", "parameter",
                       "estimate", "boot mean", "boot sd", "2.5%", "97.5%", "Jacobian SE");
    for (int k = 0; k < 7; ++k)
      out << fmt::format("  {:<10} {:>12.6g} {:>12.6g} {:>12.4g} {:>12.6g} {:>12.6g} {:>12.4g}\n",
                         scaling_param_names()[k], fit.params[k], b.mean[k], b.sd[k], b.lo[k],
                         b.hi[k], fit.se[k]);
    if (!o.out_dir.empty()) {
      auto f = open_csv(dir, "bootstrap.csv");
      f << "resample" << params_header() << ",objective\n";
      for (std::size_t i = 0; i < b.samples.size(); ++i)
        f << i << params_csv(b.samples[i]) << fmt::format(",{:.17g}\n", b.objectives[i]);
    }
  }

  if (o.holdout > 0) {
    a.holdout = holdout_scaling(data, fit.params, o.holdout, o.seed + 1, off);
    const HoldoutResult& h = *a.holdout;
    out << fmt::format("\n80/20 held-out validation, {} repeats (seed {}):\n", o.holdout,
                       o.seed + 1);
    out << fmt::format("  in-sample mean squared log error  {:.6g} +- {:.2g}\n", h.train.mean,
                       h.train.se);
    out << fmt::format("  held-out  mean squared log error  {:.6g} +- {:.2g}   (ratio {:.3g})\n",
                       h.test.mean, h.test.se, h.test.mean / h.train.mean);
    if (!o.out_dir.empty()) {
      auto f = open_csv(dir, "holdout.csv");
      f << "repeat,train_msle,test_msle" << params_header() << "\n";
      for (std::size_t i = 0; i < h.params.size(); ++i)
        f << fmt::format("{},{:.17g},{:.17g}", i, h.train_msle[i], h.test_msle[i])
          << params_csv(h.params[i]) << "\n";
    }
  }
}

void fit_scaling_report(const FitScalingOptions& o, std::ostream& out) {
  if (o.data_path.empty()) throw Error("no data file given");
  if (o.exclude_top.empty()) throw Error("--exclude-top needs a value");
  if (o.bootstrap < 0) throw Error("--bootstrap must be ≥ 0");
  if (o.holdout < 0) throw Error("--holdout must be ≥ 0");
  fs::path dir;
  if (!o.out_dir.empty()) {
    dir = o.out_dir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", o.out_dir, ec.message()));
  }

  const ScalingData all = read_scaling_csv(o.data_path);
  const int k_main = o.exclude_top.front();
  const ScalingData data = exclude_top_losses(all, k_main);
  const double off = o.depth_offset;
  out << fmt::format("depthscale fit-scaling {}\n", o.data_path);
  out << fmt::format(
      "  model: L = exp(a_m)/m^alpha_m + exp(a_l)/(l - {:g})^alpha_l + exp(a_D)/D^alpha_D + L0"
      "   (m = d_model, l = n_layers, D = num_tokens)\n",
      off);
  out << fmt::format(
      "  data: {} rows read; excluding the top {} losses (keep loss < the {}th largest) "
      "leaves {}\n\n",
      all.size(), k_main, k_main, data.size());

  ScalingAnalysisOptions aopt;
  aopt.depth_offset = off;
  aopt.bootstrap = o.bootstrap;
  aopt.holdout = o.holdout;
  aopt.seed = o.seed;
  aopt.out_dir = o.out_dir;
  aopt.fit_rows = {{"exclude_top", std::to_string(k_main)}};
  ScalingAnalysis analysis = analyse_scaling_fit(data, aopt, out);
  const ScalingFit& fit = analysis.fit;

  // Implied optimal width–depth relation at fixed N ∝ m²ℓ.
  const OptimalShape shape = optimal_shape(fit);
  out << "\noptimal shape at fixed N = m^2 l (minimising c_m/m^alpha_m + c_l/l^alpha_l):\n";
  if (!shape.valid) {
    out << "  " << shape.message << "\n";
  } else {
    out << fmt::format(
        "  alpha_m c_m m^-alpha_m = 2 alpha_l c_l l^-alpha_l  =>  l* = {:.4g} * m^gamma, "
        "gamma = alpha_m/alpha_l = {:.4f} +- {:.4f}\n",
        shape.prefactor, shape.exponent, shape.exponent_se);
    out << fmt::format("  m* ~ N^{:.4f}, l* ~ N^{:.4f}{}\n", shape.width_exponent_in_N,
                       shape.depth_exponent_in_N,
                       off != 0 ? fmt::format("   (large-l limit; the table solves the (l - {:g}) "
                                              "condition exactly)",
                                              off)
                                : std::string());
    out << fmt::format("  {:>8} {:>10} {:>12} {:>8} {:>14}\n", "width m", "depth l*", "N=m^2 l",
                       "m/l*", "shape loss");
    for (const auto& r : shape.table)
      out << fmt::format("  {:>8g} {:>10.4g} {:>12.4g} {:>8.4g} {:>14.6g}\n", r.width, r.depth,
                         r.params, r.width / r.depth, r.shape_loss);
    if (!dir.empty()) {
      auto f = open_csv(dir, "optimal_shape.csv");
      f << fmt::format("# gamma={:.17g},gamma_se={:.17g},prefactor={:.17g}\n", shape.exponent,
                       shape.exponent_se, shape.prefactor);
      f << "width,depth,params,aspect_ratio,shape_loss\n";
      for (const auto& r : shape.table)
        f << fmt::format("{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}\n", r.width, r.depth, r.params,
                         r.width / r.depth, r.shape_loss);
    }
  }

  // Real model shapes against the fit's optimum (the study's Figs 11 and 15): the slope of
  // log(ℓ − offset) on log m, for the fitting data's own rows (every kept row, as the study's
  // notebooks fit them) and for the shapes the user supplies (all, then per family).
  {
    struct Source {
      std::string label, family;
      std::vector<std::size_t> rows;
      const ModelShapes* shapes;
    };
    ModelShapes own;
    for (std::size_t i = 0; i < data.size(); ++i) {
      own.width.push_back(data.width[i]);
      own.depth.push_back(data.depth[i]);
      own.name.push_back("");
      own.family.push_back("fitting data");
      own.line.push_back(data.line[i]);
    }
    ModelShapes given;
    if (!o.shapes_path.empty()) given = read_shapes_csv(o.shapes_path);
    std::vector<Source> sources;
    const auto all_rows = [](const ModelShapes& m) {
      std::vector<std::size_t> r(m.size());
      for (std::size_t i = 0; i < r.size(); ++i) r[i] = i;
      return r;
    };
    sources.push_back({"fitting data", "", all_rows(own), &own});
    if (given.size() > 0) {
      sources.push_back({"shapes: all", "", all_rows(given), &given});
      std::map<std::string, std::vector<std::size_t>> by_family;
      for (std::size_t i = 0; i < given.size(); ++i)
        if (!given.family[i].empty()) by_family[given.family[i]].push_back(i);
      if (by_family.size() > 1 ||
          (by_family.size() == 1 && by_family.begin()->second.size() < given.size()))
        for (const auto& [family, rows] : by_family)
          sources.push_back({"shapes: " + family, family, rows, &given});
    }
    out << fmt::format(
        "\nmodel shapes: depth against width, least squares of log(l - {:g}) on log m:\n", off);
    out << fmt::format("  {:<28} {:>5} {:>10} {:>10}\n", "shapes", "n", "slope", "SE");
    std::vector<LogLogSlope> slopes;
    for (const auto& src : sources) {
      std::vector<double> m, l;
      for (std::size_t i : src.rows) {
        m.push_back(src.shapes->width[i]);
        l.push_back(src.shapes->depth[i] - off);
      }
      slopes.push_back(log_log_slope(m, l));
      out << fmt::format("  {:<28} {:>5} {:>10.4f} {:>10.4f}\n", src.label, slopes.back().n,
                         slopes.back().slope, slopes.back().se);
    }
    if (shape.valid)
      out << fmt::format("  {:<28} {:>5} {:>10.4f} {:>10.4f}   (gamma = alpha_m/alpha_l)\n",
                         "the fit's optimum l*(m)", "", shape.exponent, shape.exponent_se);
    if (!dir.empty()) {
      auto f = open_csv(dir, "shapes.csv");
      f << "source,family,name,d_model,n_layers,optimal_n_layers\n";
      for (const auto* m : {&own, &given})
        for (std::size_t i = 0; i < m->size(); ++i)
          f << fmt::format("{},{},{},{:.17g},{:.17g},{:.17g}\n",
                           m == &own ? "fitting data" : "shapes", m->family[i], m->name[i],
                           m->width[i], m->depth[i], optimal_depth(fit.params, m->width[i], off));
      auto g = open_csv(dir, "shapes_fit.csv");
      g << "shapes,family,n,slope,slope_se,log_intercept,depth_offset\n";
      for (std::size_t k = 0; k < sources.size(); ++k)
        g << fmt::format("{},{},{},{:.17g},{:.17g},{:.17g},{:.17g}\n", sources[k].label,
                         sources[k].family, slopes[k].n, slopes[k].slope, slopes[k].se,
                         slopes[k].log_intercept, off);
      if (shape.valid)
        g << fmt::format("the fit's optimum,,,{:.17g},{:.17g},{:.17g},{:.17g}\n", shape.exponent,
                         shape.exponent_se, std::log(shape.prefactor), off);
    }
  }

  analyse_scaling_checks(data, aopt, analysis, out);

  if (o.exclude_top.size() > 1) {
    const auto scan = exclusion_scan(all, o.exclude_top, off);
    out << "\nexclusion scan (top-K losses dropped):\n";
    out << fmt::format("  {:>5} {:>5} {:>18} {:>18} {:>18} {:>9} {:>12}  {}\n", "K", "n", "alpha_m",
                       "alpha_l", "alpha_D", "L0", "objective", "status");
    for (const auto& r : scan) {
      auto pm = [&](int k) {
        return fmt::format("{:.4f} +- {:.4f}", r.fit.params[k], r.fit.se[k]);
      };
      out << fmt::format("  {:>5} {:>5} {:>18} {:>18} {:>18} {:>9.4f} {:>12.6g}  {}\n",
                         r.exclude_top, r.n_points, pm(kAlphaM), pm(kAlphaL), pm(kAlphaD),
                         r.fit.params[kL0], r.fit.objective, r.fit.message);
    }
    if (!dir.empty()) {
      auto f = open_csv(dir, "exclusion_scan.csv");
      f << "exclude_top,n_points" << params_header() << params_header("se_")
        << ",objective,gradient_norm,converged\n";
      for (const auto& r : scan)
        f << r.exclude_top << "," << r.n_points << params_csv(r.fit.params) << params_csv(r.fit.se)
          << fmt::format(",{:.17g},{:.17g},{}\n", r.fit.objective, r.fit.gradient_norm,
                         r.fit.converged ? 1 : 0);
    }
  }
  if (!dir.empty()) out << fmt::format("\nCSVs written to {}\n", dir.string());
}

}  // namespace depthscale::fit
