// `depthscale reduce`: the depth fits of a sweep. For every (ρ, temperature, teacher) group the
// test losses of its depths are fitted with L(ℓ) = c·ℓ^−α + L0 at every evaluated step (the last
// is the final fit), written to /fits/<group>/; across teacher replicates the α's are summarised
// as mean ± standard error in /fits_summary/<rho_T>/, with a weighted fit of the replicate-mean
// losses (weights 1/SEM²) beside them.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "fit/fit.hpp"

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

// ============================================================================================
// `depthscale reduce FILE --decompose`: the study's decomposition
//   L = c_m/m^α_m + c_ℓ/(ℓ − offset)^α_ℓ + c_D/D^α_D + L0
// fitted to a toy sweep across the student's width m, its depth ℓ and the data it has seen,
// D = step · train.batch, with the scaling-law solver, SEs, bootstrap, held-out check and report
// of `fit-scaling` (analyse_scaling_fit / analyse_scaling_checks in fit.hpp).
//
// Cells. The decomposition is fitted separately per cell: every grid setting other than width,
// depth, teacher replicate and step, i.e. (ρ, or teacher_groups K when K > 0; teacher_depth ℓ*;
// temperature T). The law's L0 and its coefficients belong to one task: the temperature sets the
// target distribution (and so the irreducible loss), and the teacher's structure and depth set
// what there is to learn; the study's regimes even predict different α_ℓ for ρ = 0 and ρ = 1.
// Pooling cells would force one L0 and one exponent per term on different tasks; comparing the
// cells' fits is the result.
//
// Points. Within a cell a point is (m, ℓ, D) at one evaluated step ≥ min_step, and its loss is
// the mean of test_loss over the cell's teacher replicates. A point needs every replicate the cell
// has (a complete task of that (m, ℓ) for each, all evaluated at that step): a mean over a
// different set of teachers would mix teacher-to-teacher variation into the points unevenly.
// (m, ℓ) pairs or steps that lack a replicate are left out and the report says how many.
// The points of one (m, ℓ) at different steps come from the same training runs, so their noise is
// correlated: the Jacobian SEs and the bootstrap over points assume independent points and are
// optimistic for curves with many steps.
//
// Old files. Tasks written before the width / teacher-structure axes lack the attributes width,
// teacher_depth and teacher_groups: then width = the job's model.width, teacher_depth =
// model.teacher_depth (from the job stored in the file), teacher_groups = 0.
// ============================================================================================

struct DecomposeOptions {
  std::string path;
  double depth_offset = 0.0;  // fit the depth term in ℓ − offset
  // Steps below this are skipped (step 0 always: D = 0 has no place in a power law of D).
  int64_t min_step = 1;
  int bootstrap = 0;              // resamples over points per cell (0: none)
  int holdout = 0;                // repeats of the 80/20 split per cell (0: none)
  std::uint64_t seed = 20260122;  // bootstrap seed; held-out splits use seed + 1
  std::string out_dir;            // empty: beside the file, <stem>_decompose/
};

// The data of a sweep that cannot be decomposed (a cell with too few points, or one value of
// depth or D; no cell with two widths; no job text to find train.batch). The message names the
// file and the cell. Like ReduceError, a problem of the data: exit code 1.
class DecomposeError : public ReduceError {
 public:
  using ReduceError::ReduceError;
};

struct DecomposeCell {
  std::string name;  // e.g. "rho0_L128_T1" or "K4_L128_T1"; also the subfolder's name
  double rho = 0, temperature = 0;
  int64_t teacher_depth = 0, teacher_groups = 0;
  std::string dir;            // where its CSVs are
  ScalingData data;           // the points fitted (line = 0)
  std::vector<int64_t> step;  // the step of each point
  int replicates = 0;
  ScalingAnalysis analysis;
};

struct DecomposeResult {
  std::string out_dir;
  std::vector<DecomposeCell> cells;  // fitted
  std::vector<std::string> skipped;  // "cell: why" for cells not fitted (one width)
};

// Reads the sweep, fits every cell, prints each cell's report and a summary table to `out`, and
// writes <out_dir>/<cell>/{fit,parts,bootstrap,holdout}.csv. Throws DecomposeError (naming the
// cell and what is missing), ReduceError (no complete tasks) or store::StoreError (unreadable).
DecomposeResult decompose_sweep(const DecomposeOptions& options, std::ostream& out);

}  // namespace depthscale::fit
