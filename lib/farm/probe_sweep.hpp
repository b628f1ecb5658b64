// `depthscale run` for `kind: probe` jobs (SPEC.md §2; the schema and HDF5 layout are in
// probe/runner.hpp). Work units are (model, batch); rank 0 reads the documents and hands a batch's
// token ids to whichever rank asks next (models in job order, so each rank loads each model at
// most once), works on a thread of its own, and is the only writer of the output file. Results
// come back as HDF5 file images. A signal abandons the batches in progress (they are redone on
// resume) and exits 3; --resume skips complete batches and finished models.
#pragma once

#include "config/job.hpp"
#include "farm/run.hpp"

namespace depthscale::farm {

// Runs on every rank (MPI initialised); returns the exit code, the same on every rank.
int run_probe_sweep(const RunOptions& options, const config::Job& job);

}  // namespace depthscale::farm
