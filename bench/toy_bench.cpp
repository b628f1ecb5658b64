// Throughput of one exp9 work unit: one teacher, every depth × temperature of the grid as
// students sharing its forward pass, on one core. Also measures this core's FP32 FMA peak and the
// rate of the students' matmuls (forward + backward, layers and head) inside the unit, timed
// around each BLAS call. Prints one JSON line:
//   {"students":96,"steps":..,"student_steps_per_s":..,"ms_per_unit_step":..,"peak_rss_mb":..,
//    "fma_peak_gflops":..,"student_matmul_gflops":..,"student_matmul_fraction_of_peak":..}
// bench/run_toy_bench.sh compares it with the original's per-student loop, measured in the same
// run.
#include <sys/resource.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "config/job.hpp"
#include "fma_peak.hpp"
#include "toy/matmul.hpp"
#include "toy/model.hpp"
#include "toy/profile.hpp"
#include "toy/unit.hpp"

using namespace depthscale;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: toy_bench JOB.yaml [--steps S] [--warmup W] [--threads T] "
                 "[--kernel native|blas] [--set key=value]...\n");
    return 2;
  }
  std::string job_path = argv[1];
  int64_t steps = 20, warmup = 2;
  int threads = 1;
  bool blas_kernel = false;  // the fused engine's matmuls on the BLAS instead of the native tiles
  std::vector<std::string> overrides;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--steps")
      steps = std::stoll(v);
    else if (a == "--warmup")
      warmup = std::stoll(v);
    else if (a == "--threads")
      threads = std::stoi(v);
    else if (a == "--set")
      overrides.push_back(v);
    else if (a == "--kernel")
      blas_kernel = v == "blas";
  }
  torch::set_num_threads(threads);
  if (blas_kernel) toy::matmul::set_kernel(toy::matmul::Kernel::Blas);  // this (the only) thread
  // The full grid as the job file (and the user's --set) defines it, for the projection.
  const auto full = config::load_job(job_path, overrides);
  const double grid_student_steps = double(config::expand(full).size()) * double(full.train.steps);
  // One step more than timed: the last step is followed by the final evaluation, kept out.
  overrides.push_back("train.steps=" + std::to_string(steps + warmup + 1));
  overrides.push_back("train.eval.every=0");
  overrides.push_back("train.checkpoint_every=0");
  overrides.push_back("probe_hidden.inputs=0");
  overrides.push_back("grid.teacher=[0]");
  overrides.push_back("grid.rho=[0.0]");
  auto job = config::load_job(job_path, overrides);
  auto tasks = config::expand(job);
  const bool cuda = job.run.device == config::Device::Cuda;
  toy::UnitSpec unit;
  unit.tasks = tasks;

  using Clock = std::chrono::steady_clock;
  Clock::time_point t_start, t_end;
  int64_t finished_results = 0;
  toy::UnitEvents ev;
  // The students' last training losses, to compare kernels: the native tiles and the BLAS sum
  // in different orders, so the losses differ in the last bits and drift apart slowly.
  std::vector<double> last_loss;
  ev.result = [&](const toy::TaskResult& r) {
    finished_results += r.complete;
    if (!r.train_loss.empty()) last_loss.push_back(r.train_loss.back());
  };
  ev.checkpoint = [](const toy::TaskCheckpoint&) {};
  toy::profile::Tally mm;
  ev.progress = [&](int64_t s) {
    if (cuda) torch::cuda::synchronize();  // the steps are queued, not done, until then
    if (s == warmup) {
      toy::profile::count(true);
      t_start = Clock::now();
    }
    if (s == warmup + steps) {
      t_end = Clock::now();
      mm = toy::profile::tally();
      toy::profile::count(false);
    }
  };
  ev.stop_requested = [] { return false; };
  toy::UnitContext ctx;
  if (cuda) ctx.device = torch::Device(torch::kCUDA, 0);
  toy::run_unit(job, unit, {}, ev, ctx);
  const double seconds = std::chrono::duration<double>(t_end - t_start).count();
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const double student_steps = double(tasks.size()) * double(steps);
  // The cost model's FLOPs (toy/unit.hpp: student forward + backward, the shared teacher forward)
  // per unit step, for a rate that does not depend on the CPU profile's matmul timers (which the
  // batched engine on CUDA does not go through).
  double model_flops = toy::teacher_cost(job, tasks.front(), 0);
  for (const auto& t : tasks) model_flops += toy::student_cost(job, t, 0);
  model_flops /= double(job.train.steps);
  const double model_gflops = model_flops * double(steps) / seconds / 1e9;
  const auto peak = bench::measure_fma_peak();
  const double mm_gflops =
      mm.student_matmul_seconds > 0 ? mm.student_matmul_flops / mm.student_matmul_seconds / 1e9 : 0;
  // Shares of the timed steps' wall time (one thread: with more, only the calling thread's
  // students are counted). "rest" is the students' elementwise passes (RMSNorm, ReLU², the
  // residuals) and the bookkeeping around them.
  const double rest =
      seconds - mm.teacher_seconds - mm.student_matmul_seconds - mm.loss_seconds - mm.adam_seconds;
  std::printf(
      "{\"fma_peak_gflops\":%.1f,\"isa\":\"%s\",\"student_matmul_gflops\":%.1f,"
      "\"student_matmul_fraction_of_peak\":%.3f,\"student_matmul_share_of_time\":%.3f,"
      "\"teacher_matmul_gflops\":%.1f,\"unit_gflops\":%.1f,\"unit_fraction_of_peak\":%.3f,"
      "\"share_teacher\":%.3f,\"share_student_matmul\":%.3f,\"share_loss\":%.3f,"
      "\"share_adam\":%.3f,\"share_rest\":%.3f,\"device\":\"%s\","
      "\"grid_student_steps\":%.4g,\"projected_grid_hours\":%.4f,\"model_gflops\":%.2f,",
      peak.gflops, peak.isa.c_str(), mm_gflops, peak.gflops > 0 ? mm_gflops / peak.gflops : 0.0,
      mm.student_matmul_seconds / seconds,
      mm.teacher_matmul_seconds > 0 ? mm.teacher_matmul_flops / mm.teacher_matmul_seconds / 1e9
                                    : 0.0,
      (mm.student_matmul_flops + mm.teacher_matmul_flops) / seconds / 1e9,
      peak.gflops > 0
          ? (mm.student_matmul_flops + mm.teacher_matmul_flops) / seconds / 1e9 / peak.gflops
          : 0.0,
      mm.teacher_seconds / seconds, mm.student_matmul_seconds / seconds, mm.loss_seconds / seconds,
      mm.adam_seconds / seconds, rest / seconds, cuda ? "cuda" : "cpu", grid_student_steps,
      grid_student_steps / (student_steps / seconds) / 3600.0, model_gflops);
  std::printf(
      "\"kernel\":\"%s\",\"mean_last_train_loss\":%.9g,\"blas_core\":\"%s\",\"students\":%zu,"
      "\"steps\":%lld,\"threads\":%d,\"seconds\":%.3f,"
      "\"student_steps_per_s\":%.3f,\"student_steps_per_s_per_core\":%.3f,"
      "\"ms_per_unit_step\":%.2f,\"peak_rss_mb\":%.1f,\"complete\":%lld}\n",
      blas_kernel || !toy::matmul::native_available() ? "blas" : "native",
      last_loss.empty()
          ? 0.0
          : std::accumulate(last_loss.begin(), last_loss.end(), 0.0) / double(last_loss.size()),
      toy::blas_core().core.c_str(), tasks.size(), (long long)steps, threads, seconds,
      student_steps / seconds, student_steps / seconds / threads, 1e3 * seconds / double(steps),
      double(ru.ru_maxrss) / 1024.0, (long long)finished_results);
  return finished_results == int64_t(tasks.size()) ? 0 : 1;
}
