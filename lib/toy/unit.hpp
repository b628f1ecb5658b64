// Work units: the students of one teacher replicate trained side by side. One teacher forward
// per step serves every student of the unit (temperature only rescales the teacher's logits), which
// is where most of the original's FLOPs went. A student's numbers never depend on which unit it
// is in: its inputs are drawn from (seed, teacher, step) and its init from (seed, its key).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/job.hpp"
#include "toy/model.hpp"
#include "toy/result.hpp"

namespace depthscale::toy {

struct UnitSpec {
  int id = 0;
  int64_t start_step = 0;  // every task of the unit continues from this step
  // Every task of a unit learns from one teacher (the same ToyTask::teacher_key()).
  std::vector<config::ToyTask> tasks;
  double cost = 0;  // estimated FLOPs still to do
  std::string describe() const;
};

// FLOPs to train one student from `from_step` to the end (forward + backward + its evals).
double student_cost(const config::Job& job, const config::ToyTask& task, int64_t from_step);
// FLOPs of the teacher forwards one unit needs from `from_step` on (the teacher of `task`).
double teacher_cost(const config::Job& job, const config::ToyTask& task, int64_t from_step);

// The cost model behind `run --dry-run` and the wall-time guard. Rates are one core's, measured
// by bench/run_toy_bench.sh on an exp9 work unit, and depend on which kernels the fused engine's
// matmuls run on this CPU (matmul.hpp): the AVX-512 tiles (measured on a Xeon with AVX-512:
// 95 GFLOP/s, 90 used), the AVX2 tiles (an AMD EPYC Zen 3: 64, 60 used) or the BLAS (the same
// Zen 3 through OpenBLAS's Zen kernels: 50, 45 used); the autograd engine 36 (Xeon). The
// original's per-student loop, measured in the same runs, is modelled from two rates: its
// 128-layer teacher forward and its student forward+backward (Xeon: 60 and 32 GFLOP/s; Zen 3
// with OpenBLAS's Zen kernels: 35 and 25).
struct CostModel {
  double flops_per_core = 90e9;  // this engine's rate; --gflops-per-core overrides it
  double reference_teacher = 60e9, reference_student = 32e9;  // the original's loop, same CPU
  std::string basis;  // which measurement the rate comes from, for the dry run's report
  static constexpr double kFusedAvx512 = 90e9, kFusedAvx2 = 60e9, kFusedBlas = 45e9,
                          kAutograd = 36e9;
  static constexpr double kReferenceTeacher = 60e9, kReferenceStudent = 32e9;
  static constexpr double kReferenceTeacherAvx2 = 35e9, kReferenceStudentAvx2 = 25e9;
  static CostModel of(const config::Job& job);  // the default rate of the job's engine here
};

// Core-seconds of the tasks as the original ran them: one process per student, its own teacher
// forward every step (and the same evaluations).
double reference_core_seconds(const config::Job& job, const std::vector<config::ToyTask>& tasks,
                              const CostModel& model);

// Resident memory a work unit needs on top of the process (about 0.2 GB of LibTorch, BLAS and
// MPI): every student's parameters, gradients and Adam moments (16 bytes per parameter) and its
// per-step losses, plus the saved activations of its deepest student and the teacher's buffers.
struct UnitMemory {
  double student_state = 0, activations = 0;
  double total() const { return student_state + activations; }
};
UnitMemory unit_memory(const config::Job& job, const UnitSpec& unit);
// Parameters of a student of this depth and width (0: model.width).
int64_t student_parameters(const config::Job& job, int depth, int width = 0);

// Splits tasks into units: grouped by (teacher, resume step), each group dealt round-robin
// over depth into as many units as keeps `workers` busy (at least two units per worker in all),
// or into units of `job.run.unit_size` when the job fixes it. Sorted most expensive first.
std::vector<UnitSpec> plan_units(const config::Job& job, const std::vector<config::ToyTask>& tasks,
                                 const std::map<std::string, int64_t>& resume_step, int workers);

struct UnitEvents {
  std::function<void(const TaskCheckpoint&)> checkpoint;
  std::function<void(const TaskResult&)> result;
  std::function<void(int64_t step)> progress;  // after every step (callers throttle)
  std::function<bool()> stop_requested;        // polled at step boundaries
};

enum class UnitOutcome { Finished, Stopped };

struct UnitContext {
  torch::Device device = torch::kCPU;
  std::string host;
  int rank = 0;
  // Fault injection for the failure-path tests: "<key>[@step]" makes that task fail at that step
  // (apps sets it from DEPTHSCALE_FAIL_TASK); empty: none.
  std::string fail_task;
};

// Trains the unit to the end (results through events.result, one per task) or until a stop is
// requested (then every unfinished student is checkpointed first). A task that throws or whose
// loss turns non-finite is reported failed and the others go on.
UnitOutcome run_unit(const config::Job& job, const UnitSpec& unit,
                     const std::map<std::string, TaskCheckpoint>& resume, UnitEvents& events,
                     const UnitContext& ctx);

// A result for `task` carrying its grid parameters, its seeds and where it ran (not yet complete:
// the caller fills in the arrays, or the error of a failure).
TaskResult task_result(const config::Job& job, const config::ToyTask& task, const UnitContext& ctx);

// What the job's loss measures (TaskResult::loss in toy/result.hpp).
std::string loss_kind(const config::Job& job);

// The seeds and stream keys that determine `task` (TaskSeeds), the one place that names them.
TaskSeeds task_seeds(const config::Job& job, const config::ToyTask& task);
// The key of the task's training and test input streams: the teacher's key when the job shares
// inputs across the teacher's students (train.inputs: shared), else the task's own key.
std::string input_stream(const config::Job& job, const config::ToyTask& task);

// The random input batches of the study (all counter-based: the position is the step index).
torch::Tensor training_inputs(const config::Job& job, const std::string& stream, int64_t step);
torch::Tensor eval_inputs(const config::Job& job, const std::string& stream, int64_t step,
                          int batch);
torch::Tensor probe_inputs(const config::Job& job, const std::string& teacher_key);
uint64_t student_seed(const config::Job& job, const config::ToyTask& task);

}  // namespace depthscale::toy
