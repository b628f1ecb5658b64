// Fit the depth law L(ℓ) = c·ℓ^−α + L0 to losses you already have: here, a noiseless α = 1 curve
// (the study's ensemble-averaging regime) that the fit must give back.
//
//   build/examples/fit_power_law
#include <cmath>
#include <cstdio>
#include <vector>

#include "fit/fit.hpp"

int main() {
  const std::vector<double> depth = {6, 12, 16, 24, 32, 48};
  std::vector<double> loss;
  for (double l : depth) loss.push_back(0.8 / l + 0.05);  // c = 0.8, α = 1, L0 = 0.05

  const auto fit = depthscale::fit::fit_power_law(depth, loss);
  if (!fit.ok()) {
    std::fprintf(stderr, "fit failed: %s\n", fit.message.c_str());
    return 1;
  }
  std::printf("alpha = %.4f ± %.2g, c = %.4f, L0 = %.4f (%d points)\n", fit.alpha, fit.alpha_se,
              fit.c, fit.L0, fit.n_points);
  // The example checks itself, so ctest can run it.
  return std::fabs(fit.alpha - 1.0) < 1e-3 && std::fabs(fit.L0 - 0.05) < 1e-4 ? 0 : 1;
}
