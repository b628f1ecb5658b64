// The toy teacher–student networks of docs/experiments.md §1.
//
//   h0 = RMSNorm(x),  h_l = h_{l-1} + MLP_l(RMSNorm(h_{l-1})),  MLP(v) = B·relu(A·v + b)²
//   output: logits W·RMSNorm(h_ℓ) (heads trained / teacher) or RMSNorm(h_ℓ) itself (head none).
//
// The teacher runs without autograd; a student keeps all its parameters, gradients and Adam moments
// in flat buffers (one Adam update is a handful of vector ops, and a checkpoint is three arrays).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/job.hpp"

namespace depthscale::toy {

// RMSNorm over the last dimension, no learnable gain, eps = FLT_EPSILON (docs/experiments.md §1).
torch::Tensor rms_norm(const torch::Tensor& h);

// One MLP of a residual block: A [4m, m], b [4m], B [m, 4m].
struct Mlp {
  torch::Tensor A, b, B;
  torch::Tensor operator()(const torch::Tensor& v) const;
};

// One residual layer: plain blocks use `first` only; RK2 (midpoint) blocks use both MLPs.
struct Layer {
  Mlp first, second;
};
torch::Tensor apply_block(const Layer& layer, config::Block kind, const torch::Tensor& h);

// A draw from U(−bound, bound) of the given shape. nn.Linear's defaults (kaiming-uniform weight
// with a = √5, uniform bias) are both U(±1/√fan_in).
torch::Tensor uniform(std::vector<int64_t> shape, double bound, uint64_t seed);

// The key of replicate `replicate`'s random streams ("t<replicate>"): the teacher's draws and the
// student input maps of that replicate derive from it (TaskSeeds::teacher_stream).
std::string teacher_stream(int replicate);

class Teacher {
 public:
  // Draws the teacher of `task` (its ρ or teacher groups K, its ℓ* and replicate) from the job's
  // seed, in the teacher's width m*:
  //   ρ:  each layer is √ρ·shared + √(1−ρ)·own (exactly the shared draw at ρ = 1, its own at 0);
  //   K:  the layers in K contiguous groups as equal as possible, every layer of a group the same
  //       draw: the shared draw for K = 1, else the own draw of the group's first layer, so
  //       K = 1 is exactly the ρ = 1 teacher and K = ℓ* exactly the ρ = 0 one;
  // then every B is scaled by 1/√ℓ*.
  Teacher(const config::Job& job, const config::ToyTask& task, torch::Device device = torch::kCPU);
  // The teacher of replicate `replicate` at weight correlation `rho` (model.teacher_depth).
  Teacher(const config::Job& job, double rho, int replicate, torch::Device device = torch::kCPU);

  struct Output {
    torch::Tensor features;  // RMSNorm(h_ℓ*)      [batch, m]
    torch::Tensor logits;    // W·features (undefined for head none) [batch, n]
  };
  Output forward(const torch::Tensor& h0) const;  // h0 = RMSNorm(x); no autograd
  // h_0 … h_ℓ* for the hidden-state probes.
  std::vector<torch::Tensor> hidden_states(const torch::Tensor& h0) const;

  const std::vector<Layer>& layers() const { return layers_; }
  const torch::Tensor& head() const { return head_; }  // [n, m], undefined for head none
  int depth() const { return int(layers_.size()); }

 private:
  std::vector<Layer> layers_;
  torch::Tensor head_;
};

// The inputs: z ~ N(0, I_d) in the inputs' intrinsic dimension d = model.input_dim, embedded in the
// teacher's width m* as x = z·E_tᵀ by a fixed isometry E_t [m*, d] (one per job). Undefined when
// d = m*: then x = z, the study's inputs. Drawn once per process and shared: read only.
torch::Tensor input_embedding(const config::Job& job);
// `rows` inputs drawn from `seed`, in the teacher's width: [rows, m*].
torch::Tensor draw_inputs(const config::Job& job, uint64_t seed, int64_t rows);

// How a student of width m reads the inputs: h0_student = RMSNorm(h0 · Eᵀ) with E [m, m*] a fixed
// random isometry of the input space into the student's width, E = E_s·E_tᵀ with E_s [m, d] drawn
// once per (teacher replicate, width): orthonormal columns for m >= d (the student sees all of the
// input, in its own basis), orthonormal rows for m < d (a random m-dimensional view of it).
// Undefined when m = m*: the study's students read h0 itself. E is fixed, not trained, so width
// changes the student's capacity (its residual stream and head), never the task; with d <= every
// width, no student loses any of the input.
torch::Tensor student_input_map(const config::Job& job, int width, int replicate);
// h0 as a student of `map`'s width reads it (h0 itself when the map is undefined).
torch::Tensor student_inputs(const torch::Tensor& h0, const torch::Tensor& map);

// Hyperparameters of one student (from the job and its grid point).
struct StudentSpec {
  int width = 32, vocab = 128, depth = 6;
  config::Block block = config::Block::Plain;
  config::Head head = config::Head::Trained;
  config::Loss loss = config::Loss::Kl;
  double temperature = 1.0;
  bool student_temperature = false;
  config::TrainSpec train;
  config::Engine engine = config::Engine::Fused;
  static StudentSpec from(const config::Job& job, const config::ToyTask& task);
};

class Cohort;

class Student {
 public:
  // Where a student's flat buffers live when it is not their owner: rows of a Cohort's stacked
  // buffers (each [P], on the cohort's device).
  struct Storage {
    torch::Tensor params, grads, adam_m, adam_v;
  };

  // A fresh student: A and b as nn.Linear defaults, every B = 0 and a trained head W = 0.
  // `teacher_head` is the fixed head used when spec.head == Head::Teacher. With `storage`, the
  // buffers are those views (a cohort member) instead of its own.
  Student(const StudentSpec& spec, uint64_t init_seed, torch::Tensor teacher_head,
          torch::Device device = torch::kCPU, const Storage* storage = nullptr);
  static int64_t parameter_count(const StudentSpec& spec);

  // Forward pass: the student's output (logits for KL heads, RMSNorm(h_ℓ) for head none).
  torch::Tensor forward(const torch::Tensor& h0) const;
  std::vector<torch::Tensor> hidden_states(const torch::Tensor& h0) const;

  // The loss against the teacher's target for this student's temperature.
  //   KL:  target = log softmax(teacher logits / T)   MSE: target = teacher features
  torch::Tensor loss(const torch::Tensor& h0, const torch::Tensor& target) const;

  // One training step: forward, backward, Adam with the scheduled learning rate. Returns the
  // loss as a 0-dim tensor on the device (no host sync).
  torch::Tensor train_step(const torch::Tensor& h0, const torch::Tensor& target);

  // Loss and gradients of one step without the update (gradients() holds them afterwards); for
  // checking the fused engine against autograd.
  double loss_and_gradients(const torch::Tensor& h0, const torch::Tensor& target);
  const torch::Tensor& gradients() const { return grads_; }
  bool fused() const { return fused_; }

  const StudentSpec& spec() const { return spec_; }
  int64_t step() const { return step_; }
  int64_t parameter_count() const { return params_.numel(); }

  // Checkpoint state: flat parameters, Adam moments and the step count.
  void save_state(std::vector<float>& params, std::vector<float>& m, std::vector<float>& v) const;
  void load_state(const std::vector<float>& params, const std::vector<float>& m,
                  const std::vector<float>& v, int64_t step);

  // Named views of the parameters ("layer_3/A", "W", ...), for cross-checks and probes.
  std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const;

 private:
  friend class Cohort;  // steps its members in one batched program
  StudentSpec spec_;
  torch::Tensor params_, grads_, adam_m_, adam_v_;  // flat [P]
  std::vector<Layer> layers_;                       // views into params_
  torch::Tensor head_;                              // view into params_, or the teacher's head
  int64_t head_offset_ = 0;                         // where W starts in params_ (head trained)
  int64_t step_ = 0;
  bool fused_ = false;  // hand-derived step (CPU) instead of autograd
};

// Adam exactly as torch.optim.Adam's single-tensor path (β = 0.9, 0.999, eps = 1e-8, no weight
// decay), in place over whole buffers; `step` counts from 1. The autograd and batched engines use
// it; the fused engine has its own single-pass loop (the PyTorch cross-check covers both).
void adam_update(torch::Tensor& params, const torch::Tensor& grads, torch::Tensor& m,
                 torch::Tensor& v, double lr, int64_t step);

// Target for a student's loss from the teacher's output: KL → log softmax(logits / T),
// MSE → the teacher's logits when there is a head, else its features.
torch::Tensor teacher_target(const Teacher::Output& out, config::Loss loss, double temperature);

// The file of the library that provides the sgemm_ LibTorch calls (what the dynamic linker
// resolves first), e.g. ".../openblas-openmp/libblas.so.3"; "" when LibTorch calls none.
std::string blas_library();

// Which kernels that BLAS runs. OpenBLAS's DYNAMIC_ARCH builds (Debian's) pick a core type at load
// time from the CPU model; on virtual machines whose CPU model they do not know they fall back to
// generic SSE3 kernels ("Prescott"), 3-5× slower on a CPU with AVX2 or AVX-512.
struct BlasCore {
  std::string core;    // openblas_get_corename(), e.g. "Zen", "Haswell", "SkylakeX"; "" if not
                       // OpenBLAS
  std::string cpu;     // the widest vectors this CPU has: "avx512", "avx2" or "" (older)
  std::string advice;  // the OPENBLAS_CORETYPE to export when the core is generic for this CPU
                       // (e.g. "Haswell"), else ""
};
BlasCore blas_core();
// The core type OpenBLAS should run on a CPU with these vectors ("avx512", "avx2"; amd: AMD's
// name for AVX2 cores), and whether `core` is one that uses them.
std::string blas_core_for(const std::string& cpu, bool amd);
bool blas_core_uses(const std::string& core, const std::string& cpu);

// Hidden-state probes from h_0 … h_ℓ (each [N, m]), in float32 on the CPU:
//   theta [N, ℓ] = ∠(h_l, h_{l+1}); theta_dh [N, ℓ−1] = ∠(Δh_l, Δh_{l+1}); norms [N, ℓ+1].
struct HiddenProbe {
  int64_t inputs = 0, depth = 0;
  std::vector<float> theta, theta_dh, norms;
};
HiddenProbe probe_hidden(const std::vector<torch::Tensor>& hidden);

}  // namespace depthscale::toy
