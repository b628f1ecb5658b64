// `depthscale reduce`: the depth fits of a sweep. For every (ρ, temperature, teacher) group the
// test losses of its depths are fitted with L(ℓ) = c·ℓ^−α + L0 at every evaluated step (the last
// is the final fit), written to /fits/<group>/; across teacher replicates the α's are summarised
// as mean ± standard error in /fits_summary/<rho_T>/, with a weighted fit of the replicate-mean
// losses (weights 1/SEM²) beside them.
#pragma once

#include <string>

namespace depthscale::fit {

struct ReduceOptions {
  std::string path;
  double depth_offset = 0.0;  // 2: fit ℓ − 2 (first and last layers excluded)
};

// Returns an exit code: 0, or 1 with a message naming the file.
int reduce_sweep(const ReduceOptions& options);

}  // namespace depthscale::fit
