// Power-law fits with standard errors: the reduction's depth fit L(ℓ) = c·ℓ^−α + L0
// (docs/experiments.md §1) and the LLM scaling-law decomposition L = c_m/m^α_m + c_ℓ/ℓ^α_ℓ +
// c_D/D^α_D + L0 (docs/experiments.md §3), with its bootstrap, held-out validation, exclusion scan,
// loss parts and implied optimal shape. Every solve is a Ceres Levenberg–Marquardt trust-region
// solve run to convergence from several starts, because both objectives have nearly flat directions
// (α_ℓ above all) where a fixed number of gradient steps stops far from the optimum.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "error/error.hpp"

namespace depthscale::fit {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ============================================================================================
// §1 Depth fit: L(ℓ) = c·(ℓ − depth_offset)^−α + L0
// ============================================================================================

struct PowerLawOptions {
  // Fit in x = ℓ − depth_offset; 2 gives the "ℓ − 2" form (first and last layers excluded).
  double depth_offset = 0.0;
  // Hold L0 at this value: a 2-parameter fit (α, c).
  std::optional<double> fixed_L0;
  // Multi-start over these α; the best converged solve (lowest RSS) wins.
  std::vector<double> alpha_starts = {0.25, 0.5, 1.0, 2.0, 4.0};
  // Starting L0 (e.g. to test robustness). Unset: (c, L0) come from the linear least-squares fit
  // at each α start; set: c comes from the linear fit at that α and L0. c has no start of its
  // own because a c that makes c·ℓ^−α negligible starts the solver on the flat plateau
  // (∂/∂α ≈ 0) of the large-α limit, where it stops without finding the optimum.
  std::optional<double> L0_start;
  // Covariance scaling. false (default): Cov = s²·(JᵀWJ)⁻¹ with s² = Σ w_i r_i² / (n − p), i.e.
  // the weights are relative (for an unweighted fit s² = RSS/(n − p), the usual residual
  // variance). true: the weights are exact 1/σ_i², Cov = (JᵀWJ)⁻¹ unscaled.
  bool absolute_sigma = false;
  int max_iterations = 500;
};

enum class FitStatus {
  kOk,             // converged, full-rank covariance, finite standard errors
  kBadInput,       // sizes differ, non-finite values, negative weights, ℓ − offset ≤ 0
  kTooFewPoints,   // fewer than parameters + 1 points with positive weight
  kNotConverged,   // no start reached Ceres' convergence criteria (values: best found)
  kRankDeficient,  // converged, but JᵀJ is singular: the SEs are NaN
};

// SEs: Ceres solves for (α, A, L0) with A = c·x_ref^−α the depth term at the geometric-mean depth
// x_ref (A and α are nearly uncorrelated, c and α strongly), ceres::Covariance (DENSE_SVD) gives
// their covariance, scaled as PowerLawOptions::absolute_sigma says; c_se follows by the delta
// method.
struct PowerLawFit {
  double alpha = kNaN, alpha_se = kNaN;
  double c = kNaN, c_se = kNaN;
  double L0 = kNaN, L0_se = kNaN;  // L0_se = 0 when L0 was held fixed
  double rss = kNaN;               // Σ w_i (L_i − L̂_i)² (w_i = 1 unweighted)
  int n_points = 0;                // points with positive weight
  int n_params = 0;                // 3, or 2 with a fixed L0
  int iterations = 0;              // Ceres iterations of the winning start
  bool converged = false;          // Ceres reported convergence for the winning start
  FitStatus status = FitStatus::kBadInput;
  std::string message;  // "ok", or what went wrong in words (never just NaN)
  bool ok() const { return status == FitStatus::kOk; }
};

// Fits L(ℓ) = c·(ℓ − offset)^−α + L0 by (weighted) nonlinear least squares. `weights` (1/σ²) may
// be empty (all 1) or one per point. Never throws on bad data: `status` and `message` say why.
PowerLawFit fit_power_law(const std::vector<double>& depth, const std::vector<double>& loss,
                          const std::vector<double>& weights = {},
                          const PowerLawOptions& options = {});

// The model itself, for plotting fitted curves.
double power_law(double depth, double alpha, double c, double L0, double depth_offset = 0.0);

// Mean ± standard error of the mean across replicates: se = sd/√n with the n − 1 sample sd.
// Non-finite values are skipped; n counts the values used; se is NaN for n < 2.
struct MeanSe {
  double mean = kNaN, se = kNaN;
  int n = 0;
};
MeanSe mean_se(const std::vector<double>& values);

// Least-squares line through (log x, log y): y ∝ x^slope, with the slope's standard error from
// the residuals (n − 2 degrees of freedom; NaN below 3 points). Points with x or y ≤ 0 or not
// finite are skipped; n counts the ones used. (The ⟨θ⟩ ∝ 1/ℓ claim, model shapes ℓ ∝ m^slope.)
struct LogLogSlope {
  double slope = kNaN, se = kNaN, log_intercept = kNaN;
  int n = 0;
  double at(double x) const { return std::exp(log_intercept) * std::pow(x, slope); }
};
LogLogSlope log_log_slope(const std::vector<double>& x, const std::vector<double>& y);

// ============================================================================================
// §3 LLM scaling-law fit
// ============================================================================================

// A bad data file: the message names the file, the 1-based line and the column.
class DataError : public depthscale::Error {
 public:
  using depthscale::Error::Error;
};

// The rows of a scaling-law CSV (columns model_size, FLOP, loss, num_tokens, d_model, n_layers in
// any order; a header is required; other columns are ignored).
struct ScalingData {
  std::vector<double> model_size, flop, loss;
  std::vector<double> tokens;  // D (num_tokens)
  std::vector<double> width;   // m (d_model)
  std::vector<double> depth;   // ℓ (n_layers)
  std::vector<int> line;       // 1-based line in the file (header is line 1); 0 if synthetic
  std::size_t size() const { return loss.size(); }
  void push_back(double model_size, double flop, double loss, double tokens, double width,
                 double depth, int line = 0);
};

// Reads and validates the CSV. Throws DataError for a missing file, a missing or duplicate
// column, a wrong number of fields, a non-numeric or non-finite cell or a value ≤ 0, naming the
// line and column ("data.csv:17: column 'loss': 'abc' is not a number").
ScalingData read_scaling_csv(const std::string& path);

// Drops the k highest losses: keeps rows whose loss is strictly below the k-th largest loss, so
// rows tied at the cut are dropped together (245 → 203 rows for k = 40 on the Chinchilla data).
// k = 0 keeps everything; throws std::invalid_argument when nothing would remain.
ScalingData exclude_top_losses(const ScalingData& data, int k);

// Model shapes (width m, depth ℓ) of real networks, for the depth-against-width figure (the
// study's Figs 11 and 15): a CSV with columns d_model (or width) and n_layers (or depth), and
// optionally name and family; lines starting with '#' are comments. Errors name file, line and
// column, as read_scaling_csv's do.
struct ModelShapes {
  std::vector<std::string> name, family;
  std::vector<double> width, depth;
  std::vector<int> line;
  std::size_t size() const { return width.size(); }
};
ModelShapes read_shapes_csv(const std::string& path);

// The rows at `index` (repeats allowed: bootstrap resamples).
ScalingData subset(const ScalingData& data, const std::vector<std::size_t>& index);

// θ = (a_m, α_m, a_ℓ, α_ℓ, a_D, α_D, L0) with c_k = exp(a_k).
using ScalingParams = std::array<double, 7>;
enum ScalingIndex : int { kAm = 0, kAlphaM, kAl, kAlphaL, kAD, kAlphaD, kL0 };
// "a_m", "alpha_m", "a_l", "alpha_l", "a_D", "alpha_D", "L0" (the CSV column names).
const std::array<const char*, 7>& scaling_param_names();

struct ScalingFitOptions {
  // The depth term uses ℓ − depth_offset (2: first and last layers excluded).
  double depth_offset = 0.0;
  // Extra starts, tried before the grid (e.g. a previous solution).
  std::vector<ScalingParams> starts;
  // Also run the default grid of starts (default_scaling_starts).
  bool use_grid = true;
  int max_iterations = 2000;
};

struct ScalingFit {
  ScalingParams params{};  // the optimum
  ScalingParams se{};      // √diag(Cov), Cov = s²(JᵀJ)⁻¹, see residual_space
  std::array<std::array<double, 7>, 7> cov{};
  // SEs come from the Jacobian of the residuals r_i = log L_i − log L̂_i (log space), with
  // s² = Σ r_i² / (n − 7).
  static constexpr const char* residual_space = "log";
  double objective = kNaN;      // mean over points of (log L − log L̂)² at the optimum
  double rss = kNaN;            // Σ (log L − log L̂)² = n · objective
  double s2 = kNaN;             // rss / (n − 7)
  double gradient_norm = kNaN;  // ‖∇θ objective‖₂ at the optimum, computed analytically
  int iterations = 0;           // Ceres iterations: winning start plus the final polish
  int n_points = 0;
  int n_starts = 0;          // starts that gave a usable solve
  int n_starts_at_best = 0;  // of those, how many ended within 1e-9 (relative) of the best
  double depth_offset = 0.0;
  bool converged = false;
  bool se_ok = false;        // JᵀJ well conditioned enough to invert
  std::string message;       // "ok" or what went wrong
  double c(int term) const;  // c_m, c_ℓ, c_D for term 0, 1, 2 (exp of a_k)
};

// Minimises mean (log L − log L̂)² over the 7 parameters from every start, polishes the best and
// computes its covariance and gradient. Throws std::invalid_argument on unusable input (fewer
// than 8 rows, ℓ − offset ≤ 0 naming the line); solver trouble is reported in `message`.
ScalingFit fit_scaling(const ScalingData& data, const ScalingFitOptions& options = {});

// The default grid: α_m ∈ {0.2, 0.5, 1}, α_ℓ ∈ {0.1, 0.3, 1, 3, 6}, α_D ∈ {0.2, 0.5},
// L0 ∈ {0.25, 0.6, 0.85}·min L (90 starts); each a_k chosen so its term is a third of
// (median L − L0) at the median of its variable, so every start is a sensible model.
std::vector<ScalingParams> default_scaling_starts(const ScalingData& data, double depth_offset);

// L̂ and its parts for one point.
struct LossParts {
  double width = 0, depth = 0, data = 0, L0 = 0;  // c_m/m^α_m, c_ℓ/(ℓ−o)^α_ℓ, c_D/D^α_D, L0
  double total() const { return width + depth + data + L0; }
};
LossParts loss_parts(const ScalingParams& p, double width, double depth, double tokens,
                     double depth_offset = 0.0);

// Mean over rows of (log L − log L̂)².
double mean_squared_log_error(const ScalingParams& p, const ScalingData& data,
                              double depth_offset = 0.0);

// Gradient of mean (log L − log L̂)² with respect to θ (analytic).
ScalingParams scaling_gradient(const ScalingParams& p, const ScalingData& data,
                               double depth_offset = 0.0);

struct BootstrapResult {
  std::vector<ScalingParams> samples;  // one per successful resample
  std::vector<double> objectives;
  ScalingParams mean{}, sd{}, lo{}, hi{};  // sd across resamples; lo/hi: 2.5% and 97.5%
  int n_requested = 0, n_failed = 0;
};
// Resamples the rows with replacement n times (mt19937_64 seeded with `seed`, so the same seed
// gives the same resamples) and solves each from `best` plus two grid starts.
BootstrapResult bootstrap_scaling(const ScalingData& data, const ScalingParams& best, int n,
                                  std::uint64_t seed, double depth_offset = 0.0);

struct HoldoutResult {
  std::vector<double> train_msle, test_msle;  // per repeat
  std::vector<ScalingParams> params;
  MeanSe train, test;  // across repeats
};
// Splits the rows test_fraction / rest at random `repeats` times, fits the rest (from `best` plus
// two grid starts) and reports the in-sample and held-out mean squared log errors.
HoldoutResult holdout_scaling(const ScalingData& data, const ScalingParams& best, int repeats,
                              std::uint64_t seed, double depth_offset = 0.0,
                              double test_fraction = 0.2);

struct ExclusionScanRow {
  int exclude_top = 0;
  int n_points = 0;
  ScalingFit fit;
};
// Fits the data after exclude_top_losses(all, k) for each k.
std::vector<ExclusionScanRow> exclusion_scan(const ScalingData& all, const std::vector<int>& ks,
                                             double depth_offset = 0.0);

// Implied optimal width–depth relation at fixed N ∝ m²ℓ: minimising c_m/m^α_m + c_ℓ/ℓ^α_ℓ with
// ℓ = N/m² gives α_m·c_m·m^−α_m = 2·α_ℓ·c_ℓ·ℓ^−α_ℓ, so
//   ℓ* = (2·α_ℓ·c_ℓ / (α_m·c_m))^(1/α_ℓ) · m^(α_m/α_ℓ),
//   m* ∝ N^(1/(γ+2)), ℓ* ∝ N^(γ/(γ+2)) with γ = α_m/α_ℓ.
// With a depth offset o the condition is α_m·c_m·m^−α_m = 2·α_ℓ·c_ℓ·ℓ·(ℓ−o)^(−α_ℓ−1): no
// longer a pure power law (γ is its large-ℓ limit), so the table is solved numerically.
struct OptimalShape {
  bool valid = false;  // needs α_m > 0 and α_ℓ > 0
  std::string message;
  double exponent = kNaN, exponent_se = kNaN;  // γ = α_m/α_ℓ (SE by the delta method)
  double prefactor = kNaN;                     // (2α_ℓc_ℓ/(α_m c_m))^(1/α_ℓ)
  double width_exponent_in_N = kNaN;           // 1/(γ+2)
  double depth_exponent_in_N = kNaN;           // γ/(γ+2)
  struct Row {
    double width, depth, params;  // m, ℓ*(m), N = m²ℓ*
    double shape_loss;            // c_m/m^α_m + c_ℓ/(ℓ*−o)^α_ℓ at the optimum
  };
  std::vector<Row> table;
};
OptimalShape optimal_shape(const ScalingFit& fit, const std::vector<double>& widths = {
                                                      256, 512, 1024, 2048, 4096, 8192, 16384});
// ℓ*(m) for the fitted parameters (numeric when depth_offset ≠ 0); NaN without an optimum.
double optimal_depth(const ScalingParams& p, double width, double depth_offset = 0.0);

// ============================================================================================
// The shared analysis of a ScalingData: the fit with its table, fit.csv and parts.csv, then the
// bootstrap and held-out checks. `depthscale fit-scaling` (the Chinchilla CSV) and `depthscale
// reduce --decompose` (the cells of a toy sweep, reduce.hpp) both run it, so the two entry points
// share one solver, one set of SEs and one report; they differ only in how rows are named.
// ============================================================================================

struct ScalingAnalysisOptions {
  double depth_offset = 0.0;
  int bootstrap = 0;              // resamples over points (0: none)
  int holdout = 0;                // repeats of the 80/20 split (0: none)
  std::uint64_t seed = 20260122;  // bootstrap seed; the held-out splits use seed + 1
  std::string out_dir;  // write fit.csv, parts.csv, bootstrap.csv, holdout.csv here; empty: none
  std::string points_label = "rows kept";  // the printed table's name for the points fitted
  // parts.csv: its leading columns (a comma list naming each point and its m, ℓ, D) and their
  // cells for point i; loss,predicted,width_part,depth_part,data_part,L0,log_residual follow.
  std::string parts_header = "line,model_size,FLOP,num_tokens,d_model,n_layers";
  // Unset: the ScalingData's line, model_size, FLOP, D, m, ℓ (the header above).
  std::function<std::string(std::size_t)> parts_row;
  // Extra name,value rows of fit.csv, written before depth_offset.
  std::vector<std::pair<std::string, std::string>> fit_rows;
};

struct ScalingAnalysis {
  ScalingFit fit;
  double mean_relative_error = kNaN;  // mean over points of |L̂ − L| / L
  std::optional<BootstrapResult> bootstrap;
  std::optional<HoldoutResult> holdout;
};

// The main fit: prints its table and mean relative error, writes fit.csv and parts.csv. Throws
// Error when the fit does not converge (and std::invalid_argument for unusable data, as
// fit_scaling does).
ScalingAnalysis analyse_scaling_fit(const ScalingData& data, const ScalingAnalysisOptions& options,
                                    std::ostream& out);
// The checks of that fit: bootstrap over points and the 80/20 held-out validation (as requested in
// `options`), printed and written to bootstrap.csv and holdout.csv; stored in `analysis`.
void analyse_scaling_checks(const ScalingData& data, const ScalingAnalysisOptions& options,
                            ScalingAnalysis& analysis, std::ostream& out);

// ============================================================================================
// The `depthscale fit-scaling` analysis (apps/ parses its command line)
// ============================================================================================

struct FitScalingOptions {
  std::string data_path;
  double depth_offset = 0.0;  // --depth-offset
  int bootstrap = 0;          // --bootstrap N (0: none)
  int holdout = 0;            // --holdout K: repeats of the 80/20 split (0: none)
  // --exclude-top: the first value is used for the main fit (and its bootstrap, holdout, parts
  // and shape); with more than one value the exclusion scan fits every listed value.
  std::vector<int> exclude_top = {40};
  std::string out_dir;  // --out: write CSVs here (created); empty: write nothing
  // --shapes: model shapes (read_shapes_csv) whose depth-against-width slope is fitted and drawn
  // beside the fitting data's own shapes and the fit's implied optimum; empty: the data's only.
  std::string shapes_path;
  std::uint64_t seed = 20260122;
};

// "0,20,40,60" → {0, 20, 40, 60}; throws std::invalid_argument naming the bad item.
std::vector<int> parse_int_list(const std::string& text);

// Runs the whole analysis, prints the tables to `out`, writes fit.csv, parts.csv, shapes.csv,
// shapes_fit.csv and (when requested) bootstrap.csv, holdout.csv, exclusion_scan.csv,
// optimal_shape.csv into out_dir.
// Throws DataError for bad data (naming row and column), Error for anything else that stops it.
void fit_scaling_report(const FitScalingOptions& options, std::ostream& out);

}  // namespace depthscale::fit
