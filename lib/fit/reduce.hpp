// `depthscale reduce`: the depth fits of a sweep. For every (ρ, temperature, teacher) group the
// test losses of its depths are fitted with L(ℓ) = c·ℓ^−α + L0 at every evaluated step (the last
// is the final fit), written to /fits/<group>/; across teacher replicates the α's are summarised
// as mean ± standard error in /fits_summary/<rho_T>/, with a weighted fit of the replicate-mean
// losses (weights 1/SEM²) beside them.
#pragma once

#include <optional>
#include <string>

#include "error/error.hpp"

namespace depthscale::fit {

struct ReduceOptions {
  std::string path;
  double depth_offset = 0.0;  // 2: fit ℓ − 2 (first and last layers excluded)
  // Where a free fit's L0 falls below this (0: a loss cannot; short runs at ρ = 1 do), the fit is
  // redone with L0 held at it, and the table and /fits (L0_held) say so. Unset: free fits only.
  std::optional<double> L0_floor;
};

// A sweep file with nothing to reduce (the message names it).
class ReduceError : public Error {
 public:
  using Error::Error;
};

// Fits, writes /fits and /fits_summary, and returns the tables it found (per group, and across
// replicates) as text. Throws ReduceError, or store::StoreError for a file that cannot be read.
std::string reduce_sweep(const ReduceOptions& options);

}  // namespace depthscale::fit
