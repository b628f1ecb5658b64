// The scaling-law fit L = e^a_m/m^α_m + e^a_ℓ/(ℓ−o)^α_ℓ + e^a_D/D^α_D + L0 (docs/experiments.md §3)
// with Ceres, and what is built on it: bootstrap, held-out validation, exclusion scan, optimal
// shape.
#include <ceres/ceres.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "fit/fit.hpp"

namespace depthscale::fit {
namespace {

// The rows in the form the model uses: logs of m, ℓ − o, D and L.
struct LogData {
  std::vector<double> lm, ll, ld, ly;
  std::size_t size() const { return ly.size(); }
};

LogData log_data(const ScalingData& d, double offset) {
  LogData g;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const double x = d.depth[i] - offset;
    if (!(x > 0))
      throw std::invalid_argument(
          fmt::format("row at line {}: n_layers {} minus depth offset {} is not positive",
                      d.line[i], d.depth[i], offset));
    g.lm.push_back(std::log(d.width[i]));
    g.ll.push_back(std::log(x));
    g.ld.push_back(std::log(d.tokens[i]));
    g.ly.push_back(std::log(d.loss[i]));
  }
  return g;
}

// r_i = log L_i − log L̂_i and, if row is non-null, ∂r_i/∂θ. False outside the model's domain
// (L̂ ≤ 0 or overflow), which Ceres treats as a rejected step.
inline bool residual(const double* p, const LogData& g, std::size_t i, double* r, double* row) {
  const double tm = std::exp(p[kAm] - p[kAlphaM] * g.lm[i]);
  const double tl = std::exp(p[kAl] - p[kAlphaL] * g.ll[i]);
  const double td = std::exp(p[kAD] - p[kAlphaD] * g.ld[i]);
  const double pred = tm + tl + td + p[kL0];
  if (!(pred > 0) || !std::isfinite(pred)) return false;
  *r = g.ly[i] - std::log(pred);
  if (row) {
    const double k = -1.0 / pred;
    row[kAm] = k * tm;
    row[kAlphaM] = -k * tm * g.lm[i];
    row[kAl] = k * tl;
    row[kAlphaL] = -k * tl * g.ll[i];
    row[kAD] = k * td;
    row[kAlphaD] = -k * td * g.ld[i];
    row[kL0] = k;
  }
  return true;
}

class ScalingCost : public ceres::CostFunction {
 public:
  explicit ScalingCost(const LogData& g) : g_(g) {
    set_num_residuals(static_cast<int>(g.size()));
    mutable_parameter_block_sizes()->assign({7});
  }
  bool Evaluate(double const* const* p, double* residuals, double** jacobians) const override {
    for (std::size_t i = 0; i < g_.size(); ++i) {
      double* row = jacobians && jacobians[0] ? jacobians[0] + 7 * i : nullptr;
      if (!residual(p[0], g_, i, residuals + i, row)) return false;
    }
    return true;
  }

 private:
  const LogData& g_;
};

ceres::Solver::Options solver_options(int max_iterations) {
  ceres::Solver::Options o;
  o.minimizer_type = ceres::TRUST_REGION;
  o.trust_region_strategy_type = ceres::LEVENBERG_MARQUARDT;
  o.linear_solver_type = ceres::DENSE_QR;
  o.max_num_iterations = max_iterations;
  // Solved to the optimum, not "close": along α_ℓ the objective changes by ~1e-15 relative over
  // 1e-7 in α_ℓ, so only a converged LM solve pins α_ℓ down. Loose tolerances would stop on the
  // flat valley floor wherever the objective change first drops below them.
  o.function_tolerance = 1e-16;
  o.gradient_tolerance = 1e-18;
  o.parameter_tolerance = 1e-15;
  o.logging_type = ceres::SILENT;
  o.minimizer_progress_to_stdout = false;
  o.num_threads = 1;
  return o;
}

struct Solved {
  ScalingParams p{};
  double objective = kNaN;
  int iterations = 0;
  bool converged = false;
  std::string message;
};

Solved solve_from(const ScalingParams& start, const LogData& g, int max_iterations) {
  Solved s;
  s.p = start;
  ceres::Problem::Options popt;
  ceres::Problem problem(popt);
  problem.AddResidualBlock(new ScalingCost(g), nullptr, s.p.data());
  ceres::Solver::Summary summary;
  ceres::Solve(solver_options(max_iterations), &problem, &summary);
  s.iterations = static_cast<int>(summary.iterations.size());
  s.message = summary.message;
  s.converged = summary.termination_type == ceres::CONVERGENCE;
  if (summary.IsSolutionUsable()) s.objective = 2.0 * summary.final_cost / g.size();
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One start: exponents and L0 (as a fraction of min L) given; each a_k puts its term at a third
// of (median L − L0) at the median of its variable.
ScalingParams make_start(const LogData& g, double min_loss, double median_loss, double am,
                         double al, double ad, double L0_fraction) {
  const double L0 = L0_fraction * min_loss;
  const double share = std::log(std::max(median_loss - L0, 1e-3 * median_loss) / 3.0);
  return {share + am * median(g.lm),
          am,
          share + al * median(g.ll),
          al,
          share + ad * median(g.ld),
          ad,
          L0};
}

// Two extra starts for resampled fits: the best solution plus these, at both ends of α_ℓ.
std::vector<ScalingParams> resample_starts(const ScalingData& d, const ScalingParams& best,
                                           double offset) {
  const LogData g = log_data(d, offset);
  const double lo = *std::min_element(d.loss.begin(), d.loss.end());
  const double med = median(d.loss);
  return {best, make_start(g, lo, med, 0.5, 0.3, 0.3, 0.6),
          make_start(g, lo, med, 0.5, 3.0, 0.3, 0.85)};
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const std::size_t i = static_cast<std::size_t>(std::floor(pos));
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

}  // namespace

const std::array<const char*, 7>& scaling_param_names() {
  static const std::array<const char*, 7> names = {"a_m", "alpha_m", "a_l", "alpha_l",
                                                   "a_D", "alpha_D", "L0"};
  return names;
}

double ScalingFit::c(int term) const {
  return std::exp(params[2 * term]);
}

std::vector<ScalingParams> default_scaling_starts(const ScalingData& data, double depth_offset) {
  const LogData g = log_data(data, depth_offset);
  const double lo = *std::min_element(data.loss.begin(), data.loss.end());
  const double med = median(data.loss);
  std::vector<ScalingParams> starts;
  for (double al : {0.1, 0.3, 1.0, 3.0, 6.0})
    for (double am : {0.2, 0.5, 1.0})
      for (double ad : {0.2, 0.5})
        for (double f : {0.25, 0.6, 0.85}) starts.push_back(make_start(g, lo, med, am, al, ad, f));
  return starts;
}

LossParts loss_parts(const ScalingParams& p, double width, double depth, double tokens,
                     double depth_offset) {
  LossParts parts;
  parts.width = std::exp(p[kAm] - p[kAlphaM] * std::log(width));
  parts.depth = std::exp(p[kAl] - p[kAlphaL] * std::log(depth - depth_offset));
  parts.data = std::exp(p[kAD] - p[kAlphaD] * std::log(tokens));
  parts.L0 = p[kL0];
  return parts;
}

double mean_squared_log_error(const ScalingParams& p, const ScalingData& data,
                              double depth_offset) {
  const LogData g = log_data(data, depth_offset);
  double sum = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    double r;
    if (!residual(p.data(), g, i, &r, nullptr)) return kNaN;
    sum += r * r;
  }
  return sum / g.size();
}

ScalingParams scaling_gradient(const ScalingParams& p, const ScalingData& data,
                               double depth_offset) {
  const LogData g = log_data(data, depth_offset);
  ScalingParams grad{};
  double row[7];
  for (std::size_t i = 0; i < g.size(); ++i) {
    double r;
    if (!residual(p.data(), g, i, &r, row)) {
      grad.fill(kNaN);
      return grad;
    }
    // d/dθ of (1/n)Σ r² = (2/n)Σ r ∂r/∂θ
    for (int k = 0; k < 7; ++k) grad[k] += 2.0 * r * row[k] / g.size();
  }
  return grad;
}

ScalingFit fit_scaling(const ScalingData& data, const ScalingFitOptions& options) {
  if (data.size() < 8)
    throw std::invalid_argument(fmt::format(
        "the scaling fit has 7 parameters and needs at least 8 rows (n − 7 ≥ 1), got {}",
        data.size()));
  const LogData g = log_data(data, options.depth_offset);
  std::vector<ScalingParams> starts = options.starts;
  if (options.use_grid) {
    const auto grid = default_scaling_starts(data, options.depth_offset);
    starts.insert(starts.end(), grid.begin(), grid.end());
  }
  if (starts.empty()) throw std::invalid_argument("no starting values for the scaling fit");

  ScalingFit fit;
  fit.n_points = static_cast<int>(data.size());
  fit.depth_offset = options.depth_offset;
  std::vector<Solved> solved;
  for (const ScalingParams& s : starts) {
    Solved r = solve_from(s, g, options.max_iterations);
    if (std::isfinite(r.objective)) solved.push_back(std::move(r));
  }
  fit.n_starts = static_cast<int>(solved.size());
  if (solved.empty()) {
    fit.message = "no start gave a usable solve (every start outside the model's domain?)";
    return fit;
  }
  // Converged solves first, then the lowest objective.
  const Solved* best = &solved.front();
  for (const Solved& s : solved)
    if ((s.converged && !best->converged) ||
        (s.converged == best->converged && s.objective < best->objective))
      best = &s;
  for (const Solved& s : solved)
    if (s.objective <= best->objective * (1 + 1e-9)) ++fit.n_starts_at_best;

  // Polish: restart LM from the winner with a fresh trust region; on the flat α_ℓ valley the
  // first solve can stop on a tiny radius a hair short of where a new one gets.
  Solved polished = solve_from(best->p, g, options.max_iterations);
  const Solved& final =
      std::isfinite(polished.objective) && polished.objective <= best->objective ? polished : *best;
  fit.params = final.p;
  fit.iterations = best->iterations + polished.iterations;
  fit.converged = final.converged;

  // Objective, gradient and Jacobian recomputed here, independently of Ceres' summary.
  const int n = fit.n_points;
  Eigen::MatrixXd J(n, 7);
  Eigen::VectorXd r(n);
  for (int i = 0; i < n; ++i) {
    double row[7] = {};
    if (!residual(fit.params.data(), g, i, &r[i], row)) r[i] = kNaN;
    for (int k = 0; k < 7; ++k) J(i, k) = row[k];
  }
  fit.rss = r.squaredNorm();
  fit.objective = fit.rss / n;
  fit.s2 = fit.rss / (n - 7);
  fit.gradient_norm = (2.0 / n * (J.transpose() * r)).norm();

  // Cov = s²(JᵀJ)⁻¹ through the SVD of the column-scaled J, so a's and α's of very different
  // sizes do not spoil the condition estimate; refused below 1e-14 reciprocal condition of JᵀJ.
  Eigen::VectorXd scale(7);
  for (int k = 0; k < 7; ++k) scale[k] = J.col(k).norm() > 0 ? 1.0 / J.col(k).norm() : 1.0;
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(J * scale.asDiagonal(), Eigen::ComputeThinV);
  const Eigen::VectorXd sv = svd.singularValues();
  const double rcond = sv[6] > 0 ? (sv[6] / sv[0]) * (sv[6] / sv[0]) : 0.0;
  fit.se_ok = rcond > 1e-14;
  if (fit.se_ok) {
    const Eigen::MatrixXd V = svd.matrixV();
    const Eigen::MatrixXd inv =
        V * sv.array().square().inverse().matrix().asDiagonal() * V.transpose();
    const Eigen::MatrixXd cov = fit.s2 * scale.asDiagonal() * inv * scale.asDiagonal();
    for (int a = 0; a < 7; ++a) {
      fit.se[a] = std::sqrt(cov(a, a));
      for (int b = 0; b < 7; ++b) fit.cov[a][b] = cov(a, b);
    }
  } else {
    fit.se.fill(kNaN);
    for (auto& c : fit.cov) c.fill(kNaN);
  }

  if (!fit.converged)
    fit.message = fmt::format("did not converge in {} iterations (Ceres: {})",
                              options.max_iterations, final.message);
  else if (!fit.se_ok)
    fit.message = fmt::format(
        "converged, but JᵀJ is rank deficient (reciprocal condition {:.3g}): SEs are NaN", rcond);
  else
    fit.message = "ok";
  return fit;
}

BootstrapResult bootstrap_scaling(const ScalingData& data, const ScalingParams& best, int n,
                                  std::uint64_t seed, double depth_offset) {
  BootstrapResult out;
  out.n_requested = n;
  std::mt19937_64 rng(seed);
  ScalingFitOptions opt;
  opt.depth_offset = depth_offset;
  opt.use_grid = false;
  opt.starts = resample_starts(data, best, depth_offset);
  const std::size_t rows = data.size();
  for (int b = 0; b < n; ++b) {
    // rng() % rows: mt19937_64 is specified by the standard, unlike the distributions, so the
    // resamples are the same on every platform; the modulo bias is < 1e-16 here.
    std::vector<std::size_t> idx(rows);
    for (auto& i : idx) i = static_cast<std::size_t>(rng() % rows);
    const ScalingFit f = fit_scaling(subset(data, idx), opt);
    if (!f.converged) {
      ++out.n_failed;
      continue;
    }
    out.samples.push_back(f.params);
    out.objectives.push_back(f.objective);
    if ((b + 1) % 50 == 0) spdlog::info("bootstrap: {}/{} resamples", b + 1, n);
  }
  for (int k = 0; k < 7; ++k) {
    std::vector<double> v;
    for (const auto& s : out.samples) v.push_back(s[k]);
    const MeanSe m = mean_se(v);
    out.mean[k] = m.mean;
    out.sd[k] = m.n > 1 ? m.se * std::sqrt(static_cast<double>(m.n)) : kNaN;
    out.lo[k] = quantile(v, 0.025);
    out.hi[k] = quantile(v, 0.975);
  }
  return out;
}

HoldoutResult holdout_scaling(const ScalingData& data, const ScalingParams& best, int repeats,
                              std::uint64_t seed, double depth_offset, double test_fraction) {
  if (!(test_fraction > 0 && test_fraction < 1))
    throw std::invalid_argument("held-out fraction must lie in (0, 1)");
  HoldoutResult out;
  std::mt19937_64 rng(seed);
  const std::size_t rows = data.size();
  const std::size_t n_test = static_cast<std::size_t>(std::lround(test_fraction * rows));
  if (n_test < 1 || rows - n_test < 8)
    throw std::invalid_argument(
        fmt::format("{} rows are too few for a {:.0f}% held-out split", rows, 100 * test_fraction));
  ScalingFitOptions opt;
  opt.depth_offset = depth_offset;
  opt.use_grid = false;
  opt.starts = resample_starts(data, best, depth_offset);
  for (int k = 0; k < repeats; ++k) {
    std::vector<std::size_t> idx(rows);
    std::iota(idx.begin(), idx.end(), 0);
    for (std::size_t i = rows - 1; i > 0; --i) std::swap(idx[i], idx[rng() % (i + 1)]);
    const std::vector<std::size_t> test(idx.begin(), idx.begin() + n_test);
    const std::vector<std::size_t> train(idx.begin() + n_test, idx.end());
    const ScalingFit f = fit_scaling(subset(data, train), opt);
    out.params.push_back(f.params);
    out.train_msle.push_back(f.objective);
    out.test_msle.push_back(mean_squared_log_error(f.params, subset(data, test), depth_offset));
  }
  out.train = mean_se(out.train_msle);
  out.test = mean_se(out.test_msle);
  return out;
}

std::vector<ExclusionScanRow> exclusion_scan(const ScalingData& all, const std::vector<int>& ks,
                                             double depth_offset) {
  std::vector<ExclusionScanRow> rows;
  for (int k : ks) {
    const ScalingData d = exclude_top_losses(all, k);
    ScalingFitOptions opt;
    opt.depth_offset = depth_offset;
    if (!rows.empty()) opt.starts = {rows.back().fit.params};  // neighbour's optimum, plus grid
    rows.push_back({k, static_cast<int>(d.size()), fit_scaling(d, opt)});
  }
  return rows;
}

double optimal_depth(const ScalingParams& p, double width, double depth_offset) {
  const double am = p[kAlphaM], al = p[kAlphaL];
  if (!(am > 0 && al > 0 && width > 0)) return kNaN;
  const double cm = std::exp(p[kAm]), cl = std::exp(p[kAl]);
  const double lhs = am * cm * std::pow(width, -am);  // α_m·c_m·m^−α_m
  if (depth_offset == 0) return std::pow(2 * al * cl / lhs, 1 / al);
  // g(ℓ) = 2α_ℓc_ℓ·ℓ·(ℓ−o)^(−α_ℓ−1) − lhs is decreasing in ℓ > max(o, 0): bisect in log(ℓ − o).
  auto g = [&](double l) { return 2 * al * cl * l * std::pow(l - depth_offset, -al - 1) - lhs; };
  const double base = std::max(depth_offset, 0.0);
  double lo = std::log(1e-12), hi = std::log(1e12);
  if (!(g(base + std::exp(lo)) > 0) || !(g(base + std::exp(hi)) < 0)) return kNaN;
  for (int it = 0; it < 200 && hi - lo > 1e-15; ++it) {
    const double mid = 0.5 * (lo + hi);
    (g(base + std::exp(mid)) > 0 ? lo : hi) = mid;
  }
  return base + std::exp(0.5 * (lo + hi));
}

OptimalShape optimal_shape(const ScalingFit& fit, const std::vector<double>& widths) {
  OptimalShape s;
  const auto& p = fit.params;
  const double am = p[kAlphaM], al = p[kAlphaL];
  if (!(am > 0 && al > 0)) {
    s.message =
        fmt::format("no interior optimum: needs α_m > 0 and α_ℓ > 0 (got {:.4g}, {:.4g})", am, al);
    return s;
  }
  s.valid = true;
  s.message = "ok";
  s.exponent = am / al;
  // Delta method on γ = α_m/α_ℓ: ∇γ = (1/α_ℓ, −α_m/α_ℓ²).
  const double gm = 1 / al, gl = -am / (al * al);
  const double var = gm * gm * fit.cov[kAlphaM][kAlphaM] + gl * gl * fit.cov[kAlphaL][kAlphaL] +
                     2 * gm * gl * fit.cov[kAlphaM][kAlphaL];
  s.exponent_se = var >= 0 ? std::sqrt(var) : kNaN;
  s.prefactor = std::pow(2 * al * std::exp(p[kAl]) / (am * std::exp(p[kAm])), 1 / al);
  s.width_exponent_in_N = 1 / (s.exponent + 2);
  s.depth_exponent_in_N = s.exponent / (s.exponent + 2);
  for (double m : widths) {
    const double l = optimal_depth(p, m, fit.depth_offset);
    const double loss = std::isfinite(l)
                            ? std::exp(p[kAm] - am * std::log(m)) +
                                  std::exp(p[kAl] - al * std::log(l - fit.depth_offset))
                            : kNaN;
    s.table.push_back({m, l, m * m * l, loss});
  }
  return s;
}

}  // namespace depthscale::fit
