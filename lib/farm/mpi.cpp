#include "farm/mpi.hpp"

#include <sched.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <exception>
#include <stdexcept>
#include <thread>

#include "error/error.hpp"

namespace depthscale::farm {

namespace {

void send_bytes(int dest, Tag tag, const std::vector<char>& bytes) {
  if (bytes.size() > size_t(INT_MAX))
    throw Error("a message of " + std::to_string(bytes.size()) + " bytes exceeds MPI's int count");
  MPI_Send(bytes.data(), int(bytes.size()), MPI_BYTE, dest, int(tag), MPI_COMM_WORLD);
}

Message receive_bytes(int source, int tag) {
  MPI_Status st;
  MPI_Probe(source, tag, MPI_COMM_WORLD, &st);
  int n = 0;
  MPI_Get_count(&st, MPI_BYTE, &n);
  Message m;
  m.worker = st.MPI_SOURCE;
  m.tag = Tag(st.MPI_TAG);
  m.bytes.resize(size_t(std::max(n, 0)));
  MPI_Recv(m.bytes.data(), n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return m;
}

}  // namespace

MpiHub::MpiHub() : local_(1) {
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

bool MpiHub::poll(Message* out) {
  if (local_.poll(out)) {
    out->worker = 0;
    return true;
  }
  if (size_ <= 1) return false;
  int flag = 0;
  MPI_Status st;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
  if (!flag) return false;
  *out = receive_bytes(st.MPI_SOURCE, st.MPI_TAG);
  return true;
}

void MpiHub::send(int worker, Tag tag, std::vector<char> bytes) {
  if (worker == 0)
    local_.send(0, tag, std::move(bytes));
  else
    send_bytes(worker, tag, bytes);
}

void MpiLink::send(Tag tag, std::vector<char> bytes) {
  send_bytes(0, tag, bytes);
}

Message MpiLink::receive() {
  return receive_bytes(0, MPI_ANY_TAG);
}

bool MpiLink::take_stop() {
  int flag = 0;
  MPI_Iprobe(0, int(Tag::Stop), MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
  if (flag) receive_bytes(0, int(Tag::Stop));
  return flag != 0;
}

FarmReport run_over_mpi(std::deque<UnitTicket> units, UnitSource* source, UnitRunner& runner,
                        const CoordinatorOptions& options) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    MpiLink link;
    serve(link, runner, rank, options.stop_signal);
    return {};
  }
  MpiHub hub;
  // Worker 0 also leaves when the coordinator fails outside the protocol (an MPI error).
  std::atomic<bool> abandon{false};
  auto stop = options.stop_signal;
  // Nothing may leave the thread (an exception there is std::terminate): serve's own failure
  // (a protocol error; a unit's failure is reported to the coordinator) is raised after the join.
  std::exception_ptr local_failed;
  std::thread local([&] {
    try {
      serve(hub.local_link(), runner, 0, [&] { return abandon.load() || (stop && stop()); });
    } catch (...) {
      local_failed = std::current_exception();
    }
  });
  // Every path joins the thread before leaving: a std::thread still joinable when destroyed is
  // std::terminate, which would hide the error and abort the process.
  FarmReport report;
  try {
    report = run_coordinator(hub, std::move(units), *source, options);
  } catch (...) {
    abandon = true;
    hub.send(0, Tag::NoMoreWork, {});
    local.join();
    throw;
  }
  local.join();
  if (local_failed) std::rethrow_exception(local_failed);
  return report;
}

int threads_per_rank(int threads, int ranks_per_node) {
  if (threads > 0) return threads;
  cpu_set_t set;
  CPU_ZERO(&set);
  const int cores = sched_getaffinity(0, sizeof(set), &set) == 0
                        ? CPU_COUNT(&set)
                        : int(std::thread::hardware_concurrency());
  // Every rank of the node sees the same set when mpirun does not bind: share it.
  return std::max(1, cores / std::max(ranks_per_node, 1));
}

torch::Device setup_compute(bool cuda, int threads, const std::string& what) {
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
  int local_rank = 0, local_size = 1;
  MPI_Comm_rank(local, &local_rank);
  MPI_Comm_size(local, &local_size);
  MPI_Comm_free(&local);
  // run.threads is capped by the job's validation (docs/job-file.md, "Caps"); more threads than
  // this node has cores only oversubscribe it, which is worth saying once per node.
  const int cores = int(std::thread::hardware_concurrency());
  if (threads > 0 && cores > 0 && local_rank == 0 && int64_t(threads) * local_size > 2 * cores)
    spdlog::warn(
        "run.threads is {} on each of {} rank(s) of this node, which has {} cores: {} threads "
        "oversubscribe it (0: cores per node / ranks per node)",
        threads, local_size, cores, int64_t(threads) * local_size);
  torch::set_num_threads(threads_per_rank(threads, local_size));
  if (cuda) {
    if (!torch::cuda::is_available())
      throw InputError(what + " is cuda but this LibTorch sees no GPU");
    return torch::Device(torch::kCUDA, local_rank % int(torch::cuda::device_count()));
  }
  return torch::kCPU;
}

}  // namespace depthscale::farm
