// Job files: YAML → validated structs, grid expansion, --set overrides, stable task keys.
// The YAML keys are the product's interface (docs/job-file.md); every mistake is reported as a
// JobError naming the file, the dotted key and the line.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/probe.hpp"
#include "error/error.hpp"

namespace depthscale::config {

enum class JobKind { Toy, Probe };
enum class Block { Plain, Rk2 };             // student block: Euler (plain) or midpoint (rk2)
enum class Head { Trained, Teacher, None };  // student readout
enum class Loss { Kl, Mse };
enum class DepthScaling { None, InvSqrt };  // lr = base · depth^-1/2 for inv_sqrt
enum class Schedule { Constant, LinearTail };
enum class Inputs { Shared, Independent };  // one input batch per (teacher, step), or per student
// The toy training step: hand-derived loops per student (CPU; on CUDA it means batched), LibTorch
// autograd per student (the reference path), or every student of one depth and input stream as
// one batched autograd program over stacked parameters (bmm; the GPU path).
enum class Engine { Fused, Autograd, Batched };

// A bad job file or override: message names file, key and line ("job.yaml:12: train.steps: ...").
class JobError : public depthscale::InputError {
 public:
  using depthscale::InputError::InputError;
};

struct ModelSpec {
  int width = 32;           // m: the students' width (grid.width, when given, replaces it)
  int vocab = 128;          // n
  int teacher_depth = 128;  // ℓ* (grid.teacher_depth, when given, replaces it)
  // m*: the teacher's width, and so the inputs' (defaults to `width`). A student of another width
  // reads the inputs through a fixed random isometry (toy/model.hpp, student_input_map).
  int teacher_width = 32;
  // d: the inputs' intrinsic dimension (defaults to `teacher_width`): the Gaussian inputs are drawn
  // in d dimensions and embedded in the teacher's m* by a fixed isometry, so students of width
  // m >= d see all of the input and their width limits only their capacity.
  int input_dim = 32;
  Block block = Block::Plain;
  Head head = Head::Trained;
};

struct LrSpec {
  double base = 6e-4;
  DepthScaling depth_scaling = DepthScaling::None;
  Schedule schedule = Schedule::Constant;
};

struct EvalSpec {
  int64_t every = 0;  // 0: test loss only at the end
  int batches = 10;
};

struct TrainSpec {
  Loss loss = Loss::Kl;
  int64_t steps = 40000;
  int batch = 1024;
  LrSpec lr;
  Inputs inputs = Inputs::Shared;
  EvalSpec eval;
  int64_t checkpoint_every = 2000;
  bool student_temperature = false;  // exp9-3: divide the student's logits by T too
};

struct ProbeHiddenSpec {
  int inputs = 2048;  // fresh Gaussian inputs for the hidden-state probes (0 disables)
};

struct RunSpec {
  int unit_size = 0;  // students per work unit; 0 = planner decides from the number of ranks
  int threads = 0;    // intra-op threads per rank; 0 = cores per node / ranks per node
  Device device = Device::Cpu;
  // fused: the hand-derived forward/backward (CPU; CUDA falls back to autograd). autograd: the
  // reference path through LibTorch's autograd. Both compute the same numbers to float rounding.
  Engine engine = Engine::Fused;
  // Job-array shape: slice `slice_index` of `slice_count` ("run.slice: 2/8") runs every
  // slice_count-th task of the grid (a similar mix of depths in every slice) into its own file;
  // `depthscale merge` joins the slices.
  int slice_index = 0, slice_count = 1;
};

// The grid: each axis is the expanded list of values (a job may omit temperature or rho; they then
// hold one value, 1.0 and 0.0). The axes beyond the study's (width, teacher_depth,
// teacher_groups) stay empty when the job does not give them: the model: keys then hold.
struct Grid {
  std::vector<double> temperature;
  std::vector<double> rho;
  std::vector<int> depth;
  std::vector<int> teacher;        // teacher replicate indices
  std::vector<int> width;          // the students' widths m
  std::vector<int> teacher_depth;  // ℓ*
  // K: the teacher's layers tied in K contiguous groups (one draw per group). K = 1 is the tied
  // teacher of ρ = 1 and K = ℓ* the independent one of ρ = 0, exactly; excludes grid.rho.
  std::vector<int> teacher_groups;
};

struct Job {
  std::string name;
  JobKind kind = JobKind::Toy;
  uint64_t seed = 0;
  Grid grid;
  ModelSpec model;
  TrainSpec train;
  ProbeHiddenSpec probe_hidden;
  RunSpec run;
  std::string source_path;  // the file it came from ("<string>" for text)
  std::string yaml_text;    // the exact text of the file
  std::string effective;    // canonical YAML of the job after overrides (for resume comparison)
  // kind probe: the validated `probe:` mapping (config/probe.hpp); empty for toy jobs.
  ProbeSpec probe;
};

// One student: a point of the grid. The key is stable across runs of the same job and safe as an
// HDF5 name, e.g. "rho0_T0.01_t0_d6"; an axis beyond the study's adds its part only when the job
// gives it: "K4_L64_T1_t0_m16_d6" (K teacher groups, ℓ* = 64, width 16).
struct ToyTask {
  std::string key;
  double temperature = 1.0;
  // ρ, the weight correlation between the teacher's layers. With teacher groups: 1 (layers tied
  // within a group), or 0 when every group is one layer (K = ℓ*).
  double rho = 0.0;
  int depth = 1;
  int teacher = 0;
  int width = 32;           // the student's width m
  int teacher_depth = 128;  // ℓ*
  int teacher_groups = 0;   // K; 0 when the job has no grid.teacher_groups
  bool width_axis = false, teacher_depth_axis = false;  // whether the key shows them
  // The group the depth fit runs over: every grid parameter but depth ("rho0_T0.01_t0").
  std::string group() const;
  // The cell the fits of teacher replicates pool into: the group without the replicate
  // ("rho0_T0.01").
  std::string cell() const;
  // The teacher this student learns from ("rho0_t0"): its draws, its input stream and its probes.
  // A teacher of K = 1 groups is the ρ = 1 teacher and one of K = ℓ* the ρ = 0 teacher, so they
  // take those keys ("rho1_t0", "rho0_t0") and with them the same inputs; 1 < K < ℓ*: "K4_t0".
  std::string teacher_key() const;
  // The grid parameters as a sweep file records them on the task (temperature, rho, depth,
  // teacher, and width, teacher_depth, teacher_groups where the job gives those axes), and back:
  // an absent axis takes `model`'s value.
  std::map<std::string, double> params() const;
  static ToyTask from_params(const std::map<std::string, double>& params,
                             const ModelSpec& model = {});
};

// Parses and validates a job file; `overrides` are "dotted.key=value" strings applied on top of the
// YAML before validation (values are YAML: "grid.depth=[6,12]").
Job load_job(const std::string& path, const std::vector<std::string>& overrides = {});
Job parse_job(const std::string& yaml_text, const std::string& source_name,
              const std::vector<std::string>& overrides = {});

// The cartesian product of the grid, in a fixed order (rho or teacher_groups, teacher_depth,
// teacher, temperature, width, depth).
std::vector<ToyTask> expand(const Job& job);

// Canonical number formatting used in keys (shortest round-trip form, no trailing zeros).
// The shortest digits that read back to the same double, always written as a plain decimal
// (never exponent notation): 0.01, 0.013593563908785255, 1, 40000, 0.0006, 0.00001.
std::string format_number(double v);

// numpy.linspace / numpy.logspace (endpoint included), with numpy's arithmetic: y_i = i·step + lo,
// the last point exactly hi, logspace = 10^y_i. The grid's {linspace: ...}/{logspace: ...} forms.
std::vector<double> linspace(double lo, double hi, int count);
std::vector<double> logspace(double lo_exp, double hi_exp, int count);

// Compares the effective settings of an earlier job with a new one. Returns "" when the new job
// is the same or only adds grid points; otherwise a message naming the first key that changed.
// A probe job (`after`) is compared by its probe: settings only: models may be added or dropped
// and the device may change; documents, max_tokens, batch, the dtype, separators, the shards and
// a model's path may not (they shape the batches or their numbers).
// Compares the `effective` texts (so a Job parsed from a stored job_yaml, with `effective` replaced
// by the stored one, compares with its overrides); a Job whose `effective` is empty or unreadable
// is compared by its fields. Keys are compared in the sorted order of `effective`. Settings that
// cannot change a result (run.unit_size, run.threads, train.checkpoint_every) may change freely.
std::string incompatible_change(const Job& before, const Job& after);

// The identity of a job: a stable hash (hash/hash.hpp, 16 hex digits) of what determines its
// results, i.e. its effective settings without the operational keys (run.threads, run.unit_size,
// run.engine, train.checkpoint_every), without run.slice (the slices of one job share it) and
// without the grid lists (a task's grid point is in its key; adding grid points keeps the
// identity). Every piece a sweep stores carries task_identity(job, key): a piece of another job
// is recognised as such.
std::string job_identity(const Job& job);
std::string task_identity(const Job& job, const std::string& key);

const char* to_string(Loss);
const char* to_string(Head);
const char* to_string(Block);
const char* to_string(JobKind);
const char* to_string(DepthScaling);
const char* to_string(Schedule);
const char* to_string(Inputs);
const char* to_string(Device);
const char* to_string(Engine);

}  // namespace depthscale::config
