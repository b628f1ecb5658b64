// What every MPI rank of depthscale needs, whatever it computes: byte messages to and from other
// ranks, and its share of the node (device and intra-op threads).
#pragma once

#include <mpi.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace depthscale::farm {

// Sends bytes as one message (throws when it exceeds MPI's int count).
void send(int dest, int tag, const std::vector<char>& bytes);
void send(int dest, int tag, const std::string& text);
// Receives the next message with `tag` from `source` (MPI_ANY_SOURCE/MPI_ANY_TAG allowed), of
// whatever length; `status_out` gets its envelope.
std::vector<char> receive(int source, int tag, MPI_Status* status_out = nullptr);

// Sets this rank's intra-op threads and returns its device: the GPU of its node-local rank when
// `cuda`, else the CPU. `threads` <= 0 shares the CPUs this process may use (its affinity, i.e.
// SLURM's allocation, not the whole machine) between the ranks of the node. `what` names the job
// key for the error when no GPU is visible.
torch::Device setup_compute(bool cuda, int threads, const std::string& what);

}  // namespace depthscale::farm
