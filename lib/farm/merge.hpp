// `depthscale merge SLICE.h5... --out FILE.h5`: joins the files of a job-array sweep (one per
// `run.slice: i/n`) into one sweep file, as if one run had written it.
#pragma once

#include <string>
#include <vector>

namespace depthscale::farm {

struct MergeOptions {
  std::vector<std::string> inputs;  // slice files
  std::string out;
  // Replace an existing `out` (which must still be an earlier merge's: a sweep run straight into
  // it is never replaced). Without it an existing `out` is refused: `reduce` may have added its
  // fits to it. The reduction job passes it, since a requeued job merges again.
  bool overwrite = false;
};

struct MergeReport {
  int slices = 0;  // of n
  int slice_count = 1;
  std::vector<int> missing;  // slice indices of 0..n-1 not among the inputs
  int64_t complete = 0, failed = 0, skipped = 0, teachers = 0;  // tasks, or probe batches
  bool probe = false;  // a probe job: complete/failed count batches
  int64_t models = 0;  // probe: models finalised by the merge
};

// Merges the slices into `out`: the same job modulo run.slice (else config::JobError naming the
// first key that differs), distinct slice indices, every /tasks/<key> and /teachers/<key> copied,
// the header's job_effective with run.slice reset to 0/1. `out` is written aside and renamed into
// place; an existing `out` is replaced only with `overwrite`, and only if an earlier merge wrote it
// (root attr merged_from).
// Throws config::JobError for jobs that do not match, store::StoreError for anything else.
MergeReport merge_slices(const MergeOptions& options);

}  // namespace depthscale::farm
