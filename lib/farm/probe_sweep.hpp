// The probe kind on the farm (docs/experiments.md §2; the schema and HDF5 layout are in
// probe/runner.hpp). Work units are (model, batch); rank 0 reads the documents and hands a batch's
// token ids to whichever worker asks next (models in job order, so each rank loads each model at
// most once), and is the only writer of the output file. Results come back as HDF5 file images. A
// signal abandons the batches in progress (they are redone on resume) and exits 3; --resume skips
// complete batches and finished models; `run.slice` runs every n-th batch, `merge` joins slices.
#pragma once

#include "config/job.hpp"
#include "farm/run.hpp"

namespace depthscale::farm {

// Finalises every model of a probe sweep file whose batches are all complete (what a `run
// --resume` does before it runs anything), then compacts the file; returns the models finalised.
// The model folders and shards must be readable. Used by `depthscale merge`.
int64_t finalize_probe_file(const config::Job& job, const std::string& out);

// The intra-op threads per rank a probe sweep's batches are computed with (root attribute
// `probe_threads` of `out`): recorded by the first run, and a resume with another count is refused
// naming both (InputError), since the per-token reductions' float rounding follows the thread
// count (differences of ~1e-5 between batches of one file). `threads` is what the run sets:
// run.threads, or the cores / ranks per node (threads_per_rank), which follows -np.
void check_probe_threads(const std::string& out, int threads);

}  // namespace depthscale::farm
