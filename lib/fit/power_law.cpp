// The depth fit L(ℓ) = c·(ℓ − o)^−α + L0 (docs/experiments.md §1) with Ceres, and mean ± SEM.
#include <ceres/ceres.h>
#include <spdlog/fmt/fmt.h>

#include <cmath>
#include <memory>

#include "fit/fit.hpp"

namespace depthscale::fit {
namespace {

// r_i = √w_i · (y_i − A·e^(−α·z_i) − L0) with z_i = ln(x_i/x_ref), x_ref the geometric mean of the
// depths: A is the depth term at x_ref, c = A·x_ref^α. In this form A and α are nearly
// uncorrelated (c and α are strongly so), which keeps the trust region and the covariance well
// conditioned. Three one-value blocks (α, A, L0) so L0 can be held constant.
class PowerLawCost : public ceres::CostFunction {
 public:
  PowerLawCost(const std::vector<double>& z, const std::vector<double>& y,
               const std::vector<double>& sqrt_w)
      : z_(z), y_(y), sqrt_w_(sqrt_w) {
    set_num_residuals(static_cast<int>(z.size()));
    mutable_parameter_block_sizes()->assign({1, 1, 1});
  }

  bool Evaluate(double const* const* p, double* residuals, double** jacobians) const override {
    const double alpha = p[0][0], A = p[1][0], L0 = p[2][0];
    for (std::size_t i = 0; i < z_.size(); ++i) {
      const double u = std::exp(-alpha * z_[i]);
      if (!std::isfinite(u)) return false;  // tells Ceres to reject the step
      residuals[i] = sqrt_w_[i] * (y_[i] - A * u - L0);
      if (jacobians) {
        if (jacobians[0]) jacobians[0][i] = sqrt_w_[i] * A * u * z_[i];
        if (jacobians[1]) jacobians[1][i] = -sqrt_w_[i] * u;
        if (jacobians[2]) jacobians[2][i] = -sqrt_w_[i];
      }
    }
    return true;
  }

 private:
  const std::vector<double>&z_, &y_, &sqrt_w_;
};

struct Solve {
  double alpha, A, L0;
  ceres::Solver::Summary summary;
};

ceres::Solver::Options solver_options(int max_iterations) {
  ceres::Solver::Options o;
  o.minimizer_type = ceres::TRUST_REGION;
  o.trust_region_strategy_type = ceres::LEVENBERG_MARQUARDT;
  o.linear_solver_type = ceres::DENSE_QR;
  o.max_num_iterations = max_iterations;
  // Tight: the reduction compares α across groups and steps; a loose stop would add solver noise
  // comparable to the SEs along the nearly flat α–c–L0 valley.
  o.function_tolerance = 1e-15;
  o.gradient_tolerance = 1e-16;
  o.parameter_tolerance = 1e-14;
  o.logging_type = ceres::SILENT;
  o.minimizer_progress_to_stdout = false;
  o.num_threads = 1;
  return o;
}

// Weighted linear least squares for (A, L0) at fixed α, or for A alone when L0 is given: the
// variable-projection start, the best model at that α.
void linear_start(const std::vector<double>& z, const std::vector<double>& y,
                  const std::vector<double>& w, double alpha, std::optional<double> known_L0,
                  double* A, double* L0) {
  double sw = 0, su = 0, sy = 0, suu = 0, suy = 0;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double u = std::exp(-alpha * z[i]);
    sw += w[i];
    su += w[i] * u;
    sy += w[i] * y[i];
    suu += w[i] * u * u;
    suy += w[i] * u * y[i];
  }
  if (known_L0) {
    *L0 = *known_L0;
    *A = suu > 0 ? (suy - *L0 * su) / suu : 1.0;
    return;
  }
  const double det = sw * suu - su * su;
  if (det > 1e-12 * sw * suu && std::isfinite(det)) {
    *A = (sw * suy - su * sy) / det;
    *L0 = (suu * sy - su * suy) / det;
  } else {  // all depths equal: no slope information; any start will do
    *A = 1.0;
    *L0 = sw > 0 ? sy / sw : 0.0;
  }
}

}  // namespace

double power_law(double depth, double alpha, double c, double L0, double depth_offset) {
  return c * std::pow(depth - depth_offset, -alpha) + L0;
}

PowerLawFit fit_power_law(const std::vector<double>& depth, const std::vector<double>& loss,
                          const std::vector<double>& weights, const PowerLawOptions& options) {
  PowerLawFit fit;
  fit.n_params = options.fixed_L0 ? 2 : 3;
  auto fail = [&](FitStatus status, std::string message) {
    fit.status = status;
    fit.message = std::move(message);
    return fit;
  };

  if (depth.size() != loss.size())
    return fail(FitStatus::kBadInput,
                fmt::format("{} depths but {} losses", depth.size(), loss.size()));
  if (!weights.empty() && weights.size() != depth.size())
    return fail(FitStatus::kBadInput,
                fmt::format("{} weights for {} points", weights.size(), depth.size()));
  if (options.alpha_starts.empty()) return fail(FitStatus::kBadInput, "no α starts given");
  if (options.fixed_L0 && !std::isfinite(*options.fixed_L0))
    return fail(FitStatus::kBadInput, "fixed L0 is not finite");

  // Points with zero weight carry no information: leave them out so n − p counts real points.
  std::vector<double> x, y, w, sqrt_w;
  for (std::size_t i = 0; i < depth.size(); ++i) {
    const double wi = weights.empty() ? 1.0 : weights[i];
    if (!std::isfinite(wi) || wi < 0)
      return fail(FitStatus::kBadInput,
                  fmt::format("point {}: weight {} is not a finite value ≥ 0", i, wi));
    if (!std::isfinite(depth[i]) || !std::isfinite(loss[i]))
      return fail(FitStatus::kBadInput,
                  fmt::format("point {}: depth {} / loss {} not finite", i, depth[i], loss[i]));
    const double xi = depth[i] - options.depth_offset;
    if (xi <= 0)
      return fail(FitStatus::kBadInput,
                  fmt::format("point {}: depth {} minus offset {} is not positive", i, depth[i],
                              options.depth_offset));
    if (wi == 0) continue;
    x.push_back(xi);
    y.push_back(loss[i]);
    w.push_back(wi);
    sqrt_w.push_back(std::sqrt(wi));
  }
  fit.n_points = static_cast<int>(x.size());
  if (fit.n_points < fit.n_params + 1)
    return fail(FitStatus::kTooFewPoints,
                fmt::format("too few points: a {}-parameter fit needs at least {} points with "
                            "positive weight (n − p ≥ 1 for the residual variance), got {}",
                            fit.n_params, fit.n_params + 1, fit.n_points));

  // z = ln(x/x_ref) with x_ref the geometric mean depth (see PowerLawCost).
  double log_ref = 0;
  for (double xi : x) log_ref += std::log(xi);
  log_ref /= x.size();
  std::vector<double> z;
  for (double xi : x) z.push_back(std::log(xi) - log_ref);

  const ceres::Solver::Options solver = solver_options(options.max_iterations);
  std::optional<Solve> best;
  bool best_converged = false;
  std::string last_message;
  for (double alpha0 : options.alpha_starts) {
    Solve s{alpha0, 1.0, 0.0, {}};
    linear_start(z, y, w, alpha0, options.fixed_L0 ? options.fixed_L0 : options.L0_start, &s.A,
                 &s.L0);
    if (!std::isfinite(s.A) || !std::isfinite(s.L0)) continue;
    ceres::Problem problem;
    problem.AddResidualBlock(new PowerLawCost(z, y, sqrt_w), nullptr, &s.alpha, &s.A, &s.L0);
    if (options.fixed_L0) problem.SetParameterBlockConstant(&s.L0);
    ceres::Solve(solver, &problem, &s.summary);
    last_message = s.summary.message;
    if (!s.summary.IsSolutionUsable() || !std::isfinite(s.summary.final_cost)) continue;
    const bool conv = s.summary.termination_type == ceres::CONVERGENCE;
    // A converged start beats any unconverged one; among equals the lower cost wins.
    if (!best || (conv && !best_converged) ||
        (conv == best_converged && s.summary.final_cost < best->summary.final_cost)) {
      best = s;
      best_converged = conv;
    }
  }
  if (!best)
    return fail(FitStatus::kNotConverged,
                "no start gave a usable solve (Ceres: " + last_message + ")");

  const double x_ref_alpha = std::exp(best->alpha * log_ref);  // x_ref^α
  fit.alpha = best->alpha;
  fit.c = best->A * x_ref_alpha;
  fit.L0 = best->L0;
  fit.rss = 2.0 * best->summary.final_cost;  // Ceres' cost is ½Σr²
  fit.iterations = static_cast<int>(best->summary.iterations.size());
  fit.converged = best_converged;
  if (!best_converged)
    return fail(FitStatus::kNotConverged,
                fmt::format("did not converge in {} iterations from any start (Ceres: {})",
                            options.max_iterations, best->summary.message));

  // Covariance of (α, A, L0) at the optimum: (JᵀWJ)⁻¹ from Ceres. DENSE_SVD with
  // null_space_rank 0 refuses a rank-deficient Jacobian instead of returning a pseudo-inverse,
  // which would understate the SEs.
  ceres::Problem problem;
  double alpha = best->alpha, A = best->A, L0 = best->L0;
  problem.AddResidualBlock(new PowerLawCost(z, y, sqrt_w), nullptr, &alpha, &A, &L0);
  if (options.fixed_L0) problem.SetParameterBlockConstant(&L0);
  ceres::Covariance::Options copt;
  copt.algorithm_type = ceres::DENSE_SVD;
  copt.null_space_rank = 0;
  copt.min_reciprocal_condition_number = 1e-14;
  copt.num_threads = 1;
  ceres::Covariance covariance(copt);
  std::vector<const double*> blocks = {&alpha, &A};
  if (!options.fixed_L0) blocks.push_back(&L0);
  std::vector<std::pair<const double*, const double*>> pairs;
  for (std::size_t a = 0; a < blocks.size(); ++a)
    for (std::size_t b = a; b < blocks.size(); ++b) pairs.emplace_back(blocks[a], blocks[b]);
  if (!covariance.Compute(pairs, &problem))
    return fail(FitStatus::kRankDeficient,
                "converged, but the covariance is rank deficient (the depths do not determine "
                "α, c and L0 separately, e.g. fewer distinct depths than parameters): SEs are NaN");
  // Relative weights (default): s² = Σ w r² / (n − p); absolute 1/σ² weights: 1.
  const double s2 = options.absolute_sigma ? 1.0 : fit.rss / (fit.n_points - fit.n_params);
  double cov[3][3] = {};
  for (std::size_t a = 0; a < blocks.size(); ++a)
    for (std::size_t b = a; b < blocks.size(); ++b) {
      covariance.GetCovarianceBlock(blocks[a], blocks[b], &cov[a][b]);
      cov[a][b] *= s2;
      cov[b][a] = cov[a][b];
    }
  // c = A·x_ref^α: var c = (∂c/∂α, ∂c/∂A)·Cov·(…)ᵀ with ∂c/∂α = c·ln x_ref, ∂c/∂A = x_ref^α.
  const double dc_dalpha = fit.c * log_ref, dc_dA = x_ref_alpha;
  const double var_c = dc_dalpha * dc_dalpha * cov[0][0] + 2 * dc_dalpha * dc_dA * cov[0][1] +
                       dc_dA * dc_dA * cov[1][1];
  fit.alpha_se = std::sqrt(cov[0][0]);
  fit.c_se = std::sqrt(var_c);
  fit.L0_se = options.fixed_L0 ? 0.0 : std::sqrt(cov[2][2]);
  if (!std::isfinite(fit.alpha_se) || !std::isfinite(fit.c_se) || !std::isfinite(fit.L0_se))
    return fail(FitStatus::kRankDeficient, "covariance is not finite: SEs are NaN");
  fit.status = FitStatus::kOk;
  fit.message = "ok";
  return fit;
}

MeanSe mean_se(const std::vector<double>& values) {
  MeanSe r;
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) {
      sum += v;
      ++r.n;
    }
  if (r.n == 0) return r;
  r.mean = sum / r.n;
  if (r.n < 2) return r;
  double ss = 0;
  for (double v : values)
    if (std::isfinite(v)) ss += (v - r.mean) * (v - r.mean);
  r.se = std::sqrt(ss / (r.n - 1) / r.n);
  return r;
}

LogLogSlope log_log_slope(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> lx, ly;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
    if (x[i] > 0 && y[i] > 0 && std::isfinite(x[i]) && std::isfinite(y[i])) {
      lx.push_back(std::log(x[i]));
      ly.push_back(std::log(y[i]));
    }
  LogLogSlope f;
  f.n = int(lx.size());
  if (f.n < 2) return f;
  double mx = 0, my = 0;
  for (int i = 0; i < f.n; ++i) mx += lx[i] / f.n, my += ly[i] / f.n;
  double sxx = 0, sxy = 0;
  for (int i = 0; i < f.n; ++i)
    sxx += (lx[i] - mx) * (lx[i] - mx), sxy += (lx[i] - mx) * (ly[i] - my);
  if (!(sxx > 0)) return f;
  f.slope = sxy / sxx;
  f.log_intercept = my - f.slope * mx;
  if (f.n >= 3) {
    double rss = 0;
    for (int i = 0; i < f.n; ++i) {
      const double r = ly[i] - f.log_intercept - f.slope * lx[i];
      rss += r * r;
    }
    f.se = std::sqrt(rss / (f.n - 2) / sxx);
  }
  return f;
}

}  // namespace depthscale::fit
