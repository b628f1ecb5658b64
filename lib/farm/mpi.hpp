// The farm over MPI: rank 0 coordinates and also works (worker 0, a thread of its own, reached
// in-process); ranks 1..N-1 are workers reached by messages. Only rank 0's main thread calls MPI
// (MPI_THREAD_FUNNELED). Also each rank's share of the node: its device and intra-op threads.
#pragma once

#include <mpi.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "farm/farm.hpp"

namespace depthscale::farm {

// Rank 0's end: worker 0 is local_link(), worker r ≥ 1 is rank r.
class MpiHub : public Hub {
 public:
  MpiHub();
  int workers() const override { return size_; }
  bool poll(Message* out) override;
  void send(int worker, Tag tag, std::vector<char> bytes) override;
  Link& local_link() { return local_.link(0); }

 private:
  int size_ = 1;
  InProcessHub local_;
};

// A worker rank's end (rank ≥ 1), talking to rank 0.
class MpiLink : public Link {
 public:
  void send(Tag tag, std::vector<char> bytes) override;
  Message receive() override;
  bool take_stop() override;
};

// The farm across MPI_COMM_WORLD. On rank 0: coordinates `units` with `source` while a thread
// serves `runner` as worker 0; returns the report. On other ranks: serves `runner` until told
// there is no more work, and returns an empty report. MPI must be initialised.
FarmReport run_over_mpi(std::deque<UnitTicket> units, UnitSource* source, UnitRunner& runner,
                        const CoordinatorOptions& options);

// Sets this rank's intra-op threads and returns its device: the GPU of its node-local rank when
// `cuda`, else the CPU. `threads` <= 0 shares the CPUs this process may use (its affinity, i.e.
// SLURM's allocation, not the whole machine) between the ranks of the node. `what` names the job
// key for the error when no GPU is visible.
torch::Device setup_compute(bool cuda, int threads, const std::string& what);
// The intra-op threads setup_compute gives each of `ranks_per_node` ranks: `threads` when > 0,
// else this process's usable cores shared between them.
int threads_per_rank(int threads, int ranks_per_node);

}  // namespace depthscale::farm
