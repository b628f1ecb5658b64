#include "farm/ranks.hpp"

#include <sched.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <thread>

namespace depthscale::farm {

void send(int dest, int tag, const std::vector<char>& bytes) {
  if (bytes.size() > size_t(INT_MAX))
    throw std::runtime_error("a message of " + std::to_string(bytes.size()) +
                             " bytes exceeds MPI's int count");
  MPI_Send(bytes.data(), int(bytes.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD);
}

void send(int dest, int tag, const std::string& text) {
  send(dest, tag, std::vector<char>(text.begin(), text.end()));
}

std::vector<char> receive(int source, int tag, MPI_Status* status_out) {
  MPI_Status st;
  MPI_Probe(source, tag, MPI_COMM_WORLD, &st);
  int n = 0;
  MPI_Get_count(&st, MPI_BYTE, &n);
  std::vector<char> buf(size_t(std::max(n, 0)));
  MPI_Recv(buf.data(), n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (status_out) *status_out = st;
  return buf;
}

torch::Device setup_compute(bool cuda, int threads, const std::string& what) {
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
  int local_rank = 0, local_size = 1;
  MPI_Comm_rank(local, &local_rank);
  MPI_Comm_size(local, &local_size);
  MPI_Comm_free(&local);
  if (threads <= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    const int cores = sched_getaffinity(0, sizeof(set), &set) == 0
                          ? CPU_COUNT(&set)
                          : int(std::thread::hardware_concurrency());
    // Every rank of the node sees the same set when mpirun does not bind: share it.
    threads = std::max(1, cores / std::max(local_size, 1));
  }
  torch::set_num_threads(threads);
  if (cuda) {
    if (!torch::cuda::is_available())
      throw std::runtime_error(what + " is cuda but this LibTorch sees no GPU");
    return torch::Device(torch::kCUDA, local_rank % int(torch::cuda::device_count()));
  }
  return torch::kCPU;
}

}  // namespace depthscale::farm
