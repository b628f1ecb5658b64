#include "toy/model.hpp"

#include "toy/fused.hpp"
#include "toy/schedule.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <dlfcn.h>

#include <cctype>
#include <cfloat>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <tuple>

namespace depthscale::toy {

using config::Head;
using config::Loss;

namespace {

at::Generator generator(uint64_t seed) {
  return at::detail::createCPUGenerator(seed);
}

// √ρ·shared + √(1−ρ)·own, written so that ρ = 0 and ρ = 1 return a draw unchanged.
torch::Tensor correlate(const torch::Tensor& shared, const torch::Tensor& own, double rho) {
  if (rho <= 0.0) return own;
  if (rho >= 1.0) return shared.clone();
  return shared * std::sqrt(rho) + own * std::sqrt(1.0 - rho);
}

// One MLP as nn.Linear initialises it: A [4m, m] and b [4m] in ±1/√m, B [m, 4m] in ±1/√(4m).
Mlp draw_mlp(int64_t m, uint64_t seed) {
  Mlp mlp;
  const double bound_a = 1.0 / std::sqrt(double(m)), bound_b = 1.0 / std::sqrt(4.0 * double(m));
  mlp.A = uniform({4 * m, m}, bound_a, derive_seed(seed, "A", ""));
  mlp.b = uniform({4 * m}, bound_a, derive_seed(seed, "b", ""));
  mlp.B = uniform({m, 4 * m}, bound_b, derive_seed(seed, "B", ""));
  return mlp;
}

double angle(double dot, double na, double nb) {
  double c = dot / (na * nb);
  if (!(c == c))
    c = 1.0;  // 0/0 (a zero update): treat as aligned, as arccos(clip(nan)) is undefined
  return std::acos(std::min(1.0, std::max(-1.0, c)));
}

}  // namespace

torch::Tensor rms_norm(const torch::Tensor& h) {
  return h * torch::rsqrt(h.square().mean(-1, /*keepdim=*/true) + FLT_EPSILON);
}

torch::Tensor Mlp::operator()(const torch::Tensor& v) const {
  return torch::mm(torch::relu(torch::addmm(b, v, A.t())).square(), B.t());
}

torch::Tensor apply_block(const Layer& layer, config::Block kind, const torch::Tensor& h) {
  if (kind == config::Block::Plain) return h + layer.first(rms_norm(h));
  // Midpoint rule: h + F2(h + ½·F1(h)), each F = MLP∘RMSNorm.
  auto mid = h + 0.5 * layer.first(rms_norm(h));
  return h + layer.second(rms_norm(mid));
}

torch::Tensor uniform(std::vector<int64_t> shape, double bound, uint64_t seed) {
  auto gen = generator(seed);
  return torch::rand(shape, gen, torch::kFloat32).mul_(2 * bound).sub_(bound);
}

// ---- teacher ----------------------------------------------------------------------------------

Teacher::Teacher(const config::Job& job, double rho, int replicate, torch::Device device)
    : Teacher(
          job,
          [&] {
            config::ToyTask t;
            t.rho = rho;
            t.teacher = replicate;
            t.teacher_depth = job.model.teacher_depth;
            return t;
          }(),
          device) {}

std::string teacher_stream(int replicate) {
  return "t" + std::to_string(replicate);
}

Teacher::Teacher(const config::Job& job, const config::ToyTask& task, torch::Device device) {
  const int m = job.model.teacher_width, n = job.model.vocab, L = task.teacher_depth;
  const int replicate = task.teacher, K = task.teacher_groups;
  const double rho = task.rho;
  // Own draws depend on (replicate, layer) only, so teachers of one replicate at different ρ
  // interpolate between the same two extremes, and teacher groups reuse them.
  const std::string rep = teacher_stream(replicate);
  const uint64_t shared_seed = derive_seed(job.seed, "teacher-shared", rep);
  const double scale = 1.0 / std::sqrt(double(L));
  if (K > 0) {
    Mlp draw;
    for (int l = 0; l < L; ++l) {
      const int64_t group = int64_t(l) * K / L;
      const int first = int((group * L + K - 1) / K);  // the group's first layer
      if (l == first)
        draw = K == 1 ? draw_mlp(m, shared_seed)
                      : draw_mlp(m, derive_seed(job.seed, "teacher-layer", rep, first));
      Layer blk;
      blk.first.A = K == 1 ? draw.A.clone() : draw.A;
      blk.first.b = K == 1 ? draw.b.clone() : draw.b;
      blk.first.B = draw.B.mul(scale);
      blk.first.A = blk.first.A.to(device);
      blk.first.b = blk.first.b.to(device);
      blk.first.B = blk.first.B.to(device);
      layers_.push_back(std::move(blk));
    }
  } else {
    Mlp shared;
    if (rho > 0.0) shared = draw_mlp(m, shared_seed);
    for (int l = 0; l < L; ++l) {
      Mlp own;
      if (rho < 1.0) own = draw_mlp(m, derive_seed(job.seed, "teacher-layer", rep, l));
      Layer blk;
      blk.first.A = correlate(shared.A, own.A, rho).to(device);
      blk.first.b = correlate(shared.b, own.b, rho).to(device);
      blk.first.B = correlate(shared.B, own.B, rho).mul(scale).to(device);
      layers_.push_back(std::move(blk));
    }
  }
  const uint64_t head_seed = derive_seed(job.seed, "teacher-head", rep);
  if (job.model.head == Head::Teacher) {
    // exp9-3: a fixed random head W ~ N(0,1)/√m shared by teacher and students.
    auto gen = generator(head_seed);
    head_ = torch::randn({n, m}, gen, torch::kFloat32).div_(std::sqrt(double(m))).to(device);
  } else if (job.model.head == Head::Trained) {
    head_ = uniform({n, m}, 1.0 / std::sqrt(double(m)), head_seed).to(device);
  }
}

Teacher::Output Teacher::forward(const torch::Tensor& h0) const {
  torch::NoGradGuard no_grad;
  Output out;
  if (h0.is_cpu()) {
    fused::teacher_features(layers_, h0.contiguous(), out.features);
  } else {
    auto h = h0;
    for (const auto& blk : layers_) h = apply_block(blk, config::Block::Plain, h);
    out.features = rms_norm(h);
  }
  if (head_.defined()) out.logits = torch::mm(out.features, head_.t());
  return out;
}

std::vector<torch::Tensor> Teacher::hidden_states(const torch::Tensor& h0) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> hs{h0};
  for (const auto& blk : layers_) hs.push_back(apply_block(blk, config::Block::Plain, hs.back()));
  return hs;
}

namespace {
// A [rows, cols] matrix with orthonormal rows (rows <= cols) from a Gaussian draw: Gram–Schmidt
// twice, in double. Written out rather than a LAPACK QR so the map is the same bits on every BLAS.
torch::Tensor orthonormal_rows(int64_t rows, int64_t cols, uint64_t seed) {
  auto gen = generator(seed);
  auto g = torch::randn({rows, cols}, gen, torch::kFloat64).contiguous();
  double* q = g.data_ptr<double>();
  for (int64_t i = 0; i < rows; ++i) {
    double* qi = q + i * cols;
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t j = 0; j < i; ++j) {
        const double* qj = q + j * cols;
        double dot = 0;
        for (int64_t c = 0; c < cols; ++c) dot += qi[c] * qj[c];
        for (int64_t c = 0; c < cols; ++c) qi[c] -= dot * qj[c];
      }
    double norm = 0;
    for (int64_t c = 0; c < cols; ++c) norm += qi[c] * qi[c];
    norm = std::sqrt(norm);
    for (int64_t c = 0; c < cols; ++c) qi[c] /= norm;
  }
  return g;
}

// An isometry between dimensions a and b as an [a, b] matrix: orthonormal rows (a <= b) or
// columns (a > b). float64.
torch::Tensor isometry(int64_t a, int64_t b, uint64_t seed) {
  return a <= b ? orthonormal_rows(a, b, seed) : orthonormal_rows(b, a, seed).t().contiguous();
}
}  // namespace

torch::Tensor input_embedding(const config::Job& job) {
  const int64_t ms = job.model.teacher_width, d = job.model.input_dim;
  if (d >= ms) return {};
  // A constant of the job that every input batch uses: orthonormalised once per process, not
  // at every step (its Gram–Schmidt is O(m*·d²) in double).
  static std::mutex mutex;
  static std::map<std::tuple<uint64_t, int64_t, int64_t>, torch::Tensor> drawn;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& e = drawn[{job.seed, ms, d}];
  if (!e.defined())
    e = isometry(ms, d, derive_seed(job.seed, "input-embedding", "")).to(torch::kFloat32);
  return e;
}

torch::Tensor draw_inputs(const config::Job& job, uint64_t seed, int64_t rows) {
  auto gen = generator(seed);
  auto z = torch::randn({rows, int64_t(job.model.input_dim)}, gen, torch::kFloat32);
  const auto embed = input_embedding(job);
  return embed.defined() ? torch::mm(z, embed.t()) : z;
}

torch::Tensor student_input_map(const config::Job& job, int width, int replicate) {
  const int64_t ms = job.model.teacher_width, d = job.model.input_dim, m = width;
  if (m == ms) return {};
  // The isometry the study's inputs (d = m*) have always had: the same draw as before input_dim.
  auto es = isometry(m, d, derive_seed(job.seed, "student-input", teacher_stream(replicate), m));
  const auto embed = input_embedding(job);
  if (embed.defined()) es = torch::mm(es, embed.to(torch::kFloat64).t());  // [m, d]·[d, m*]
  return es.to(torch::kFloat32).contiguous();
}

torch::Tensor student_inputs(const torch::Tensor& h0, const torch::Tensor& map) {
  if (!map.defined()) return h0;
  return rms_norm(torch::mm(h0, map.to(h0.device()).t()));
}

// ---- student ----------------------------------------------------------------------------------

StudentSpec StudentSpec::from(const config::Job& job, const config::ToyTask& task) {
  StudentSpec s;
  s.width = task.width;
  s.vocab = job.model.vocab;
  s.depth = task.depth;
  s.block = job.model.block;
  s.head = job.model.head;
  s.loss = job.train.loss;
  s.temperature = task.temperature;
  s.student_temperature = job.train.student_temperature;
  s.train = job.train;
  s.engine = job.run.engine;
  return s;
}

int64_t Student::parameter_count(const StudentSpec& spec) {
  const int64_t m = spec.width, n = spec.vocab;
  const int mlps = spec.block == config::Block::Rk2 ? 2 : 1;
  const int64_t per_mlp = 4 * m * m + 4 * m + m * 4 * m;
  return spec.depth * mlps * per_mlp + (spec.head == Head::Trained ? n * m : 0);
}

Student::Student(const StudentSpec& spec, uint64_t init_seed, torch::Tensor teacher_head,
                 torch::Device device, const Storage* storage)
    : spec_(spec) {
  const int64_t m = spec.width;
  const int mlps = spec.block == config::Block::Rk2 ? 2 : 1;
  const int64_t per_mlp = 4 * m * m + 4 * m + m * 4 * m;
  const int64_t total = parameter_count(spec);

  // Draw on the CPU so every device starts from the same numbers; B and W stay zero.
  auto flat = torch::zeros({total}, torch::kFloat32);
  int64_t off = 0;
  for (int l = 0; l < spec.depth; ++l) {
    for (int k = 0; k < mlps; ++k) {
      const Mlp drawn = draw_mlp(m, derive_seed(init_seed, "mlp", "", int64_t(l) * mlps + k));
      flat.narrow(0, off, 4 * m * m).copy_(drawn.A.view({-1}));
      flat.narrow(0, off + 4 * m * m, 4 * m).copy_(drawn.b);
      off += per_mlp;  // B stays zero: a fresh student is the identity map
    }
  }
  if (storage) {
    for (const auto* t : {&storage->params, &storage->grads, &storage->adam_m, &storage->adam_v})
      if (t->numel() != total || t->device() != device || !t->is_contiguous())
        throw std::invalid_argument("Student: storage rows do not fit this student");
    params_ = storage->params;
    params_.copy_(flat);
    grads_ = storage->grads.zero_();
    adam_m_ = storage->adam_m.zero_();
    adam_v_ = storage->adam_v.zero_();
  } else {
    params_ = flat.to(device);
    grads_ = torch::zeros_like(params_);
    adam_m_ = torch::zeros_like(params_);
    adam_v_ = torch::zeros_like(params_);
  }

  // Leaf tensors that alias the flat buffers: autograd accumulates each gradient in place into
  // grads_, and Adam then runs over whole buffers.
  off = 0;
  auto take = [&](std::vector<int64_t> shape) {
    int64_t size = 1;
    for (auto d : shape) size *= d;
    auto p = params_.narrow(0, off, size).view(shape).detach().requires_grad_(true);
    p.mutable_grad() = grads_.narrow(0, off, size).view(shape);
    off += size;
    return p;
  };
  for (int l = 0; l < spec.depth; ++l) {
    Layer blk;
    for (int k = 0; k < mlps; ++k) {
      Mlp& mlp = k == 0 ? blk.first : blk.second;
      mlp.A = take({4 * m, m});
      mlp.b = take({4 * m});
      mlp.B = take({m, 4 * m});
    }
    layers_.push_back(std::move(blk));
  }
  head_offset_ = off;
  if (spec.head == Head::Trained)
    head_ = take({int64_t(spec.vocab), m});
  else if (spec.head == Head::Teacher)
    head_ = teacher_head.detach();
  fused_ = spec.engine == config::Engine::Fused && device.is_cpu();
}

namespace {
fused::StudentView view_of(const StudentSpec& spec, const torch::Tensor& params,
                           const torch::Tensor& grads, const std::vector<Layer>& layers,
                           const torch::Tensor& head, int64_t head_offset) {
  fused::StudentView v;
  v.spec = &spec;
  v.params = params;
  v.grads = grads;
  v.layers = &layers;
  v.head = head;
  v.head_trained = spec.head == Head::Trained;
  v.head_offset = head_offset;
  return v;
}
}  // namespace

std::vector<torch::Tensor> Student::hidden_states(const torch::Tensor& h0) const {
  std::vector<torch::Tensor> hs{h0};
  for (const auto& blk : layers_) hs.push_back(apply_block(blk, spec_.block, hs.back()));
  return hs;
}

torch::Tensor Student::forward(const torch::Tensor& h0) const {
  auto h = h0;
  for (const auto& blk : layers_) h = apply_block(blk, spec_.block, h);
  auto features = rms_norm(h);
  if (spec_.head == Head::None) return features;
  auto logits = torch::mm(features, head_.t());
  if (spec_.student_temperature) logits = logits / spec_.temperature;
  return logits;
}

torch::Tensor Student::loss(const torch::Tensor& h0, const torch::Tensor& target) const {
  if (fused_ && !torch::GradMode::is_enabled()) {
    return torch::scalar_tensor(fused::loss_only(
        view_of(spec_, params_, grads_, layers_, head_, head_offset_), h0, target));
  }
  auto out = forward(h0);
  if (spec_.loss == Loss::Mse) return (out - target).square().mean();  // logits or features
  // KL(teacher ‖ student), summed over classes and averaged over the batch; target = log p.
  auto log_q = torch::log_softmax(out, -1);
  return (target.exp() * (target - log_q)).sum() / double(out.size(0));
}

double Student::loss_and_gradients(const torch::Tensor& h0, const torch::Tensor& target) {
  if (fused_)
    return fused::loss_and_gradients(view_of(spec_, params_, grads_, layers_, head_, head_offset_),
                                     h0, target);
  grads_.zero_();
  auto l = loss(h0, target);
  l.backward();
  return l.item<double>();
}

torch::Tensor Student::train_step(const torch::Tensor& h0, const torch::Tensor& target) {
  if (fused_) {
    const double l = loss_and_gradients(h0, target);
    ++step_;
    fused::adam_step(params_, grads_, adam_m_, adam_v_,
                     learning_rate(spec_.train, spec_.depth, step_ - 1), step_);
    return torch::scalar_tensor(float(l));
  }
  grads_.zero_();
  auto l = loss(h0, target);
  l.backward();
  ++step_;
  adam_update(params_, grads_, adam_m_, adam_v_, learning_rate(spec_.train, spec_.depth, step_ - 1),
              step_);
  return l.detach();
}

void adam_update(torch::Tensor& params, const torch::Tensor& grads, torch::Tensor& m,
                 torch::Tensor& v, double lr, int64_t step) {
  torch::NoGradGuard no_grad;
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  m.mul_(beta1).add_(grads, 1 - beta1);
  v.mul_(beta2).addcmul_(grads, grads, 1 - beta2);
  const double bc1 = 1 - std::pow(beta1, double(step));
  const double bc2 = 1 - std::pow(beta2, double(step));
  auto denom = (v.sqrt() / std::sqrt(bc2)).add_(eps);
  params.addcdiv_(m, denom, -lr / bc1);
}

void Student::save_state(std::vector<float>& params, std::vector<float>& m,
                         std::vector<float>& v) const {
  auto copy = [](const torch::Tensor& t, std::vector<float>& out) {
    auto c = t.to(torch::kCPU).contiguous();
    out.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  };
  copy(params_, params);
  copy(adam_m_, m);
  copy(adam_v_, v);
}

void Student::load_state(const std::vector<float>& params, const std::vector<float>& m,
                         const std::vector<float>& v, int64_t step) {
  const auto n = params_.numel();
  if (int64_t(params.size()) != n || int64_t(m.size()) != n || int64_t(v.size()) != n)
    throw std::runtime_error("checkpoint has " + std::to_string(params.size()) +
                             " parameters, the student has " + std::to_string(n));
  torch::NoGradGuard no_grad;
  auto load = [&](torch::Tensor& dst, const std::vector<float>& src) {
    dst.copy_(torch::from_blob(const_cast<float*>(src.data()), {n}, torch::kFloat32));
  };
  load(params_, params);
  load(adam_m_, m);
  load(adam_v_, v);
  step_ = step;
}

std::vector<std::pair<std::string, torch::Tensor>> Student::named_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const std::string p = "layer_" + std::to_string(l) + "/";
    const auto& b = layers_[l];
    if (spec_.block == config::Block::Plain) {
      out.emplace_back(p + "A", b.first.A);
      out.emplace_back(p + "b", b.first.b);
      out.emplace_back(p + "B", b.first.B);
    } else {
      out.emplace_back(p + "A1", b.first.A);
      out.emplace_back(p + "b1", b.first.b);
      out.emplace_back(p + "B1", b.first.B);
      out.emplace_back(p + "A2", b.second.A);
      out.emplace_back(p + "b2", b.second.b);
      out.emplace_back(p + "B2", b.second.B);
    }
  }
  if (spec_.head == Head::Trained) out.emplace_back("W", head_);
  return out;
}

torch::Tensor teacher_target(const Teacher::Output& out, Loss loss, double temperature) {
  torch::NoGradGuard no_grad;
  if (loss == Loss::Mse) return out.logits.defined() ? out.logits : out.features;
  return torch::log_softmax(out.logits / temperature, -1);
}

std::string blas_library() {
  void* sym = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info info{};
  if (!sym || !dladdr(sym, &info) || !info.dli_fname) return "";
  char real[4096] = {0};
  return realpath(info.dli_fname, real) ? std::string(real) : std::string(info.dli_fname);
}

std::string blas_core_for(const std::string& cpu, bool amd) {
  if (cpu == "avx512") return "SkylakeX";  // OpenBLAS's AVX-512 kernels (Intel and AMD Zen 4)
  if (cpu == "avx2") return amd ? "Zen" : "Haswell";
  return "";
}

bool blas_core_uses(const std::string& core, const std::string& cpu) {
  std::string c;
  for (char ch : core) c += char(std::tolower(static_cast<unsigned char>(ch)));
  // OpenBLAS's core names with AVX-512 kernels, and with AVX2 ones (which an AVX-512 CPU can run,
  // but slower than its own).
  static const std::set<std::string> avx512 = {"skylakex", "cooperlake", "sapphirerapids"};
  static const std::set<std::string> avx2 = {"haswell", "zen", "excavator"};
  if (cpu == "avx512") return avx512.count(c) > 0;
  if (cpu == "avx2") return avx512.count(c) > 0 || avx2.count(c) > 0;
  return true;  // no vector unit worth asking for
}

BlasCore blas_core() {
  BlasCore b;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    b.cpu = "avx512";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    b.cpu = "avx2";
  const bool amd = __builtin_cpu_is("amd");
#else
  const bool amd = false;
#endif
  using CoreName = char* (*)();
  if (auto f = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))) {
    const char* name = f();
    b.core = name ? name : "";
  }
  if (!b.core.empty() && !blas_core_uses(b.core, b.cpu)) b.advice = blas_core_for(b.cpu, amd);
  return b;
}

// ---- probes -----------------------------------------------------------------------------------

HiddenProbe probe_hidden(const std::vector<torch::Tensor>& hidden) {
  torch::NoGradGuard no_grad;
  HiddenProbe p;
  const int64_t L = int64_t(hidden.size()) - 1;
  // Angles in double from float32 states: cosines near 1 need the precision (docs/experiments.md §2
  // note).
  auto h = torch::stack(hidden, 1).to(torch::kCPU, torch::kFloat64).contiguous();  // [N, L+1, m]
  const int64_t N = h.size(0), m = h.size(2);
  p.inputs = N;
  p.depth = L;
  p.theta.resize(N * L);
  p.theta_dh.resize(N * std::max<int64_t>(L - 1, 0));
  p.norms.resize(N * (L + 1));
  auto a = h.accessor<double, 3>();
  std::vector<double> d0(m), d1(m);
  for (int64_t i = 0; i < N; ++i) {
    std::vector<double> norm(L + 1);
    for (int64_t l = 0; l <= L; ++l) {
      double s = 0;
      for (int64_t k = 0; k < m; ++k) s += a[i][l][k] * a[i][l][k];
      norm[l] = std::sqrt(s);
      p.norms[i * (L + 1) + l] = float(norm[l]);
    }
    for (int64_t l = 0; l < L; ++l) {
      double dot = 0;
      for (int64_t k = 0; k < m; ++k) dot += a[i][l][k] * a[i][l + 1][k];
      p.theta[i * L + l] = float(angle(dot, norm[l], norm[l + 1]));
    }
    // Δh_l = h_l − h_{l−1} for l = 1..L; angles between consecutive updates.
    for (int64_t l = 1; l < L; ++l) {
      double dot = 0, n0 = 0, n1 = 0;
      for (int64_t k = 0; k < m; ++k) {
        d0[k] = a[i][l][k] - a[i][l - 1][k];
        d1[k] = a[i][l + 1][k] - a[i][l][k];
        dot += d0[k] * d1[k];
        n0 += d0[k] * d0[k];
        n1 += d1[k] * d1[k];
      }
      p.theta_dh[i * (L - 1) + (l - 1)] = float(angle(dot, std::sqrt(n0), std::sqrt(n1)));
    }
  }
  return p;
}

}  // namespace depthscale::toy
