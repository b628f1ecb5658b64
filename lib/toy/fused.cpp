#include "toy/fused.hpp"

#include "toy/matmul.hpp"
#include "toy/profile.hpp"

#include <ATen/Parallel.h>

#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>

namespace depthscale::toy::fused {

namespace {

using torch::Tensor;

// Activations one MLP branch saves for its backward pass. u = a² is not saved: it is rebuilt
// from `a` block by block in the backward pass, which costs less than moving it through memory.
struct Branch {
  Tensor v, r, a;  // RMSNorm output [B,m] and 1/rms [B]; relu(z) [B,4m]
};
struct LayerState {
  Tensor h;    // the layer's input [B,m]
  Tensor mid;  // RK2 midpoint state [B,m] (RK2 only)
  Branch br[2];
};

Branch make_branch(int64_t B, int64_t m) {
  auto o = torch::TensorOptions().dtype(torch::kFloat32);
  return Branch{torch::empty({B, m}, o), torch::empty({B}, o), torch::empty({B, 4 * m}, o)};
}

// The batch is processed in blocks of kRowBlock rows, each through a whole branch (RMSNorm,
// matmul, ReLU², matmul) before the next: a block's [rows, 4m] intermediates stay in L2 instead
// of streaming [B, 4m] arrays through memory once per elementwise pass.
constexpr int64_t kRowBlock = 256;

// Buffers reused across steps and students of one thread: nothing is allocated in the step loop
// once the deepest student has run once.
struct Workspace {
  int64_t B = 0, m = 0, n = 0;
  bool rk2 = false;
  std::vector<LayerState> layers;
  Tensor h_out, f, r_out, logits, dlogits, df, g[2], dmid;
  Tensor u, dU, dv;  // per row block: [kRowBlock, 4m], [kRowBlock, 4m], [kRowBlock, m]
  std::vector<double> bias_sum;
  std::vector<float> grad_b_t;

  void ensure(int64_t batch, int64_t width, int64_t vocab, int64_t depth, bool with_rk2) {
    if (batch != B || width != m || vocab != n || with_rk2 != rk2) {
      layers.clear();
      B = batch;
      m = width;
      n = vocab;
      rk2 = with_rk2;
      auto o = torch::TensorOptions().dtype(torch::kFloat32);
      h_out = torch::empty({B, m}, o);
      f = torch::empty({B, m}, o);
      r_out = torch::empty({B}, o);
      logits = torch::empty({B, n}, o);
      dlogits = torch::empty({B, n}, o);
      df = torch::empty({B, m}, o);
      g[0] = torch::empty({B, m}, o);
      g[1] = torch::empty({B, m}, o);
      dmid = torch::empty({B, m}, o);
      u = torch::empty({kRowBlock, 4 * m}, o);
      dU = torch::empty({kRowBlock, 4 * m}, o);
      dv = torch::empty({kRowBlock, m}, o);
      bias_sum.assign(4 * m, 0.0);
    }
    auto o = torch::TensorOptions().dtype(torch::kFloat32);
    while (int64_t(layers.size()) < depth) {
      LayerState s;
      s.h = torch::empty({B, m}, o);
      s.br[0] = make_branch(B, m);
      if (rk2) {
        s.mid = torch::empty({B, m}, o);
        s.br[1] = make_branch(B, m);
      }
      layers.push_back(std::move(s));
    }
  }
};

Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

constexpr int64_t kRowGrain = 64;

// The elementwise kernels are compiled for AVX-512, AVX2+FMA and baseline x86-64 and picked at
// load time (GCC function multiversioning): a binary built on one node runs on any other, and
// each gets full-width vectors. Reductions vectorise through `omp simd reduction` (-fopenmp-simd)
// rather than -ffast-math, so nothing else about the arithmetic changes.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DS_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DS_VECTOR_CLONES
#endif

// exp(x) with Cody–Waite range reduction and a degree-6 polynomial on [−ln2/2, ln2/2], in plain
// arithmetic so that the loss loops vectorise (libm's expf is one call per element). Relative
// error below 2e-7 on [−87, 88] (a test checks it against std::exp); 0 below −87, where expf
// itself is denormal or 0.
__attribute__((always_inline)) inline float exp_poly(float x) {
  const float xc = std::min(std::max(x, -87.0f), 88.0f);
  const float n = std::floor(xc * 1.44269504088896341f + 0.5f);
  const float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x < -87.0f ? 0.0f : p * scale;
}

// v = h / rms(h), r = 1/rms(h), for `rows` rows of width m.
DS_VECTOR_CLONES void rms_rows(const float* __restrict h, float* __restrict v, float* __restrict r,
                               int64_t rows, int64_t m) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* __restrict x = h + i * m;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t k = 0; k < m; ++k) s += x[k] * x[k];
    const float inv = 1.0f / std::sqrt(s / float(m) + FLT_EPSILON);
    r[i] = inv;
    float* __restrict y = v + i * m;
    for (int64_t k = 0; k < m; ++k) y[k] = x[k] * inv;
  }
}

void rms_forward(const float* h, float* v, float* r, int64_t rows, int64_t m) {
  at::parallel_for(0, rows, kRowGrain, [&](int64_t b0, int64_t b1) {
    rms_rows(h + b0 * m, v + b0 * m, r + b0, b1 - b0, m);
  });
}

// out = base + r·(dv − v·mean(dv·v)) row by row: RMSNorm's backward. base may be null, and may
// be out itself (the RK2 backward accumulates in place), so neither is restrict.
DS_VECTOR_CLONES void rms_backward_rows(const float* __restrict dv, const float* __restrict v,
                                        const float* __restrict r, const float* base, float* out,
                                        int64_t rows, int64_t m) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* __restrict d = dv + i * m;
    const float* __restrict y = v + i * m;
    float c = 0;
#pragma omp simd reduction(+ : c)
    for (int64_t k = 0; k < m; ++k) c += d[k] * y[k];
    c /= float(m);
    float* o = out + i * m;
    const float inv = r[i];
    if (base) {
      const float* b = base + i * m;
      for (int64_t k = 0; k < m; ++k) o[k] = b[k] + inv * (d[k] - y[k] * c);
    } else {
      for (int64_t k = 0; k < m; ++k) o[k] = inv * (d[k] - y[k] * c);
    }
  }
}

void rms_backward(const float* dv, const float* v, const float* r, const float* base, float* out,
                  int64_t rows, int64_t m) {
  at::parallel_for(0, rows, kRowGrain, [&](int64_t b0, int64_t b1) {
    rms_backward_rows(dv + b0 * m, v + b0 * m, r + b0, base ? base + b0 * m : nullptr, out + b0 * m,
                      b1 - b0, m);
  });
}

// a ← relu(a + bias) in place and u = a², for `rows` rows of width n. The bias is added here
// rather than by addmm (which broadcasts it into `a` in a separate pass over memory).
// Branch-free over restrict pointers so that it vectorises: with a branch on the sign the loop
// mispredicts half the time and costs more than the matmuls.
DS_VECTOR_CLONES void relu_square_rows(float* __restrict a, const float* __restrict bias,
                                       float* __restrict u, int64_t rows, int64_t n) {
  for (int64_t i = 0; i < rows; ++i) {
    float* __restrict ai = a + i * n;
    float* __restrict ui = u + i * n;
    for (int64_t j = 0; j < n; ++j) {
      const float x = std::max(ai[j] + bias[j], 0.0f);
      ai[j] = x;
      ui[j] = x * x;
    }
  }
}

void relu_square(float* a, const float* bias, float* u, int64_t rows, int64_t n) {
  at::parallel_for(0, rows, kRowGrain, [&](int64_t b0, int64_t b1) {
    relu_square_rows(a + b0 * n, bias, u + b0 * n, b1 - b0, n);
  });
}

// u = a² (rebuilding what the forward pass did not keep).
DS_VECTOR_CLONES void square_range(const float* __restrict a, float* __restrict u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) u[i] = a[i] * a[i];
}

void square(const float* a, float* u, int64_t n) {
  at::parallel_for(0, n, 16384,
                   [&](int64_t b0, int64_t b1) { square_range(a + b0, u + b0, b1 - b0); });
}

// dz = dU · 2a in place (a = relu(z) ≥ 0, so no branch is needed for z < 0), and in the same pass
// the bias gradient Σ_rows dz for the columns [0, cols) of a [rows, ld] block, added to `sum`
// (zeroed first when `first`). The sums run in double: 1,024 rows of float partial sums would
// lose digits against autograd's pairwise sum.
DS_VECTOR_CLONES void relu_square_backward_cols(float* __restrict d, const float* __restrict a,
                                                double* __restrict sum, int64_t rows, int64_t cols,
                                                int64_t ld, bool first) {
  if (first)
    for (int64_t j = 0; j < cols; ++j) sum[j] = 0;
  for (int64_t i = 0; i < rows; ++i) {
    float* __restrict di = d + i * ld;
    const float* __restrict ai = a + i * ld;
    for (int64_t j = 0; j < cols; ++j) {
      const float x = di[j] * (2.0f * ai[j]);
      di[j] = x;
      sum[j] += double(x);
    }
  }
}

void relu_square_backward(float* dU, const float* a, double* sums, int64_t rows, int64_t cols,
                          bool first) {
  // Split by columns, so that the sums do not depend on the number of threads.
  at::parallel_for(0, cols, 32, [&](int64_t c0, int64_t c1) {
    relu_square_backward_cols(dU + c0, a + c0, sums + c0, rows, c1 - c0, cols, first);
  });
}

// dst [cols×rows] = srcᵀ for a row-major src [rows×cols]: the forward matmuls take the weights
// as row-major right operands, so Aᵀ and Bᵀ are laid out once per call (4m·m floats each).
void transpose(const float* src, int64_t rows, int64_t cols, float* dst) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) dst[j * rows + i] = src[i * cols + j];
}

// A scratch buffer of at least n floats, one per thread and purpose, grown but never shrunk.
float* scratch(std::vector<float>& buffer, int64_t n) {
  if (int64_t(buffer.size()) < n) buffer.resize(size_t(n));
  return buffer.data();
}

const float* ptr(const Tensor& t) {
  return t.data_ptr<float>();
}
float* mut(const Tensor& t) {
  return t.data_ptr<float>();
}

// One MLP branch, out = residual + scale·relu(RMSNorm(x)·Aᵀ + b)²·Bᵀ, block by block; saves v, r
// and a = relu(z) in `s`. u_scratch holds one block of u = a².
void branch_forward(const Mlp& w, const float* x, const float* residual, float scale, Branch& s,
                    float* out, int64_t batch, int64_t m, float* u_scratch) {
  const int64_t h = 4 * m;
  thread_local std::vector<float> a_t, b_t;
  float* At = scratch(a_t, h * m);  // Aᵀ [m×4m]
  float* Bt = scratch(b_t, h * m);  // Bᵀ [4m×m]
  transpose(ptr(w.A), h, m, At);
  transpose(ptr(w.B), m, h, Bt);
  const float* b = ptr(w.b);
  float *v = mut(s.v), *r = mut(s.r), *a = mut(s.a);
  for (int64_t r0 = 0; r0 < batch; r0 += kRowBlock) {
    const int64_t rows = std::min(kRowBlock, batch - r0);
    rms_forward(x + r0 * m, v + r0 * m, r + r0, rows, m);
    // a = relu(v·Aᵀ + b), u = a²: in the matmul's epilogue where the kernel allows.
    if (!matmul::mm_relu_square(rows, h, m, v + r0 * m, m, At, h, b, a + r0 * h, h, u_scratch, h)) {
      matmul::mm(rows, h, m, 1.0f, v + r0 * m, m, 1, At, h, 0.0f, a + r0 * h, h);  // z = v·Aᵀ
      relu_square(a + r0 * h, b, u_scratch, rows, h);
    }
    matmul::mm_add(rows, m, h, scale, u_scratch, h, 1, Bt, m, residual + r0 * m, m, out + r0 * m,
                   m);  // out = residual + s·u·Bᵀ
  }
}

// Backward of one branch given gup = dL/d(out), block by block: accumulates the gradients of A,
// b and B over the blocks, and writes out = base + (RMSNorm backward of dL/dv), where base (may
// be null, may be out) is the gradient that reaches x by other paths.
void branch_backward(const float* gup, float scale, const Branch& s, const Mlp& w, const Mlp& grad,
                     const float* base, float* out, Workspace& ws) {
  const int64_t batch = ws.B, m = ws.m, h = 4 * m;
  const float *A = ptr(w.A), *Bw = ptr(w.B);
  const float *v = ptr(s.v), *r = ptr(s.r), *a = ptr(s.a);
  float *gA = mut(grad.A), *gb = mut(grad.b), *gB = mut(grad.B);
  float *u = mut(ws.u), *dU = mut(ws.dU), *dv = mut(ws.dv);
  float* gBt = scratch(ws.grad_b_t, h * m);  // dBᵀ [4m×m], accumulated over the blocks
  double* bias_sum = ws.bias_sum.data();
  for (int64_t r0 = 0; r0 < batch; r0 += kRowBlock) {
    const int64_t rows = std::min(kRowBlock, batch - r0);
    const bool first = r0 == 0;
    const float acc = first ? 0.0f : 1.0f;  // β: the first block overwrites, the others add
    const float* g = gup + r0 * m;
    const float* a_blk = a + r0 * h;
    matmul::mm(rows, h, m, scale, g, m, 1, Bw, h, 0.0f, dU, h);  // dU = s·g·B
    square(a_blk, u, rows * h);
    matmul::mm(h, m, rows, scale, u, 1, h, g, m, acc, gBt, m);          // dBᵀ += s·uᵀ·g
    relu_square_backward(dU, a_blk, bias_sum, rows, h, first);          // dz, and db += Σ dz
    matmul::mm(h, m, rows, 1.0f, dU, 1, h, v + r0 * m, m, acc, gA, m);  // dA += dzᵀ·v
    matmul::mm(rows, m, h, 1.0f, dU, h, 1, A, m, 0.0f, dv, m);          // dv = dz·A
    rms_backward(dv, v + r0 * m, r + r0, base ? base + r0 * m : nullptr, out + r0 * m, rows, m);
  }
  for (int64_t j = 0; j < h; ++j) gb[j] = float(bias_sum[j]);
  transpose(gBt, h, m, gB);
}

Mlp grads_of(const Mlp& w) {
  return Mlp{w.A.grad(), w.b.grad(), w.B.grad()};
}

// Runs the layers forward from h0, saving what backward needs; leaves f = RMSNorm(h_ℓ).
void forward(const StudentView& s, const Tensor& h0, Workspace& ws) {
  const auto& layers = *s.layers;
  const int64_t L = int64_t(layers.size()), B = ws.B, m = ws.m;
  float* u = mut(ws.u);
  for (int64_t l = 0; l < L; ++l) {
    auto& st = ws.layers[l];
    if (l == 0) st.h.copy_(h0);
    const float* h = ptr(st.h);
    float* next = mut(l + 1 < L ? ws.layers[l + 1].h : ws.h_out);
    if (!ws.rk2) {
      branch_forward(layers[l].first, h, h, 1.0f, st.br[0], next, B, m, u);
    } else {
      branch_forward(layers[l].first, h, h, 0.5f, st.br[0], mut(st.mid), B, m, u);
      branch_forward(layers[l].second, ptr(st.mid), h, 1.0f, st.br[1], next, B, m, u);
    }
  }
  if (L == 0) ws.h_out.copy_(h0);
  rms_forward(ptr(ws.h_out), mut(ws.f), mut(ws.r_out), B, m);
}

// One row of KL(teacher ‖ student): Σ_j p_j (log p_j − log q_j) with log q = log_softmax(x/T_s)
// and t = log p; when d is given, also writes the row's dL/dx = (q − p)/B · 1/T_s.
DS_VECTOR_CLONES double kl_row(const float* __restrict x, const float* __restrict t,
                               float* __restrict d, int64_t n, float inv_t, int64_t B) {
  float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < n; ++j) mx = std::max(mx, x[j] * inv_t);
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) sum += exp_poly(x[j] * inv_t - mx);
  const float lse = mx + std::log(sum);
  float acc = 0;
  if (d) {
    const float scale = inv_t / float(B);
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < n; ++j) {
      const float log_q = x[j] * inv_t - lse;
      const float p = exp_poly(t[j]);
      acc += p * (t[j] - log_q);
      d[j] = (exp_poly(log_q) - p) * scale;
    }
  } else {
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < n; ++j) acc += exp_poly(t[j]) * (t[j] - (x[j] * inv_t - lse));
  }
  return acc;
}

// From dL/d(logits) in ws.dlogits: dL/dW (when the head is trained) and dL/d(features) in ws.df.
void head_backward(const StudentView& s, Workspace& ws) {
  const int64_t B = ws.B, m = ws.m, n = s.head.size(0);
  if (s.head_trained)  // dW [n×m] = dlogitsᵀ·f
    matmul::mm(n, m, B, 1.0f, ptr(ws.dlogits), 1, n, ptr(ws.f), m, 0.0f,
               mut(s.grads) + s.head_offset, m);
  matmul::mm(B, m, n, 1.0f, ptr(ws.dlogits), n, 1, ptr(s.head), m, 0.0f, mut(ws.df), m);
}

// Loss of the head on ws.f and, when `grad`, dL/d(features) in ws.df (and dW when trained).
double head(const StudentView& s, const Tensor& target, Workspace& ws, bool grad) {
  const int64_t B = ws.B, m = ws.m;
  const auto& spec = *s.spec;
  if (spec.head == config::Head::None) {
    // MSE on the features: mean over all elements.
    const float* fp = ws.f.data_ptr<float>();
    const float* tp = target.data_ptr<float>();
    float* dp = ws.df.data_ptr<float>();
    const int64_t N = B * m;
    const float k = 2.0f / float(N);
    profile::Scope loss_phase(profile::Phase::loss);
    double sum = 0;
    for (int64_t i = 0; i < N; ++i) {
      const float d = fp[i] - tp[i];
      sum += double(d) * double(d);
      if (grad) dp[i] = k * d;
    }
    return sum / double(N);
  }
  const int64_t n = s.head.size(0);
  thread_local std::vector<float> w_t;
  float* Wt = scratch(w_t, n * m);  // Wᵀ [m×n]
  transpose(ptr(s.head), n, m, Wt);
  matmul::mm(B, n, m, 1.0f, ptr(ws.f), m, 1, Wt, n, 0.0f, mut(ws.logits), n);
  const float inv_t = spec.student_temperature ? float(1.0 / spec.temperature) : 1.0f;
  if (spec.loss == config::Loss::Mse) {
    // MSE on logits (a head with an MSE loss): mean over all elements.
    const float* lp = ws.logits.data_ptr<float>();
    const float* tp = target.data_ptr<float>();
    float* dp = ws.dlogits.data_ptr<float>();
    const int64_t N = B * n;
    double sum = 0;
    {
      profile::Scope loss_phase(profile::Phase::loss);
      for (int64_t i = 0; i < N; ++i) {
        const float d = lp[i] * inv_t - tp[i];
        sum += double(d) * double(d);
        if (grad) dp[i] = 2.0f * d / float(N) * inv_t;
      }
    }
    if (grad) {
      head_backward(s, ws);
    }
    return sum / double(N);
  }
  // KL(teacher ‖ student) = Σ p (log p − log q) / B with log q = log_softmax(logits / T_s);
  // its gradient with respect to the logits is (q − p)/B (times 1/T when the student is tempered).
  const float* lp = ws.logits.data_ptr<float>();
  const float* tp = target.data_ptr<float>();
  float* dp = grad ? ws.dlogits.data_ptr<float>() : nullptr;
  // One slot per row, reused across steps. The pointer is taken here: inside the parallel loop a
  // thread_local name would mean each worker thread's own (empty) vector.
  thread_local std::vector<double> row_loss;
  double loss = 0;
  {
    profile::Scope loss_phase(profile::Phase::loss);
    row_loss.assign(size_t(B), 0.0);
    double* rows = row_loss.data();
    at::parallel_for(0, B, kRowGrain, [&](int64_t b0, int64_t b1) {
      for (int64_t i = b0; i < b1; ++i)
        rows[i] = kl_row(lp + i * n, tp + i * n, dp ? dp + i * n : nullptr, n, inv_t, B);
    });
    for (double v : row_loss) loss += v;
  }
  if (grad) {
    head_backward(s, ws);
  }
  return loss / double(B);
}

}  // namespace

double loss_and_gradients(const StudentView& s, const Tensor& h0, const Tensor& target) {
  torch::NoGradGuard no_grad;
  auto& ws = workspace();
  const auto& layers = *s.layers;
  const int64_t L = int64_t(layers.size());
  ws.ensure(h0.size(0), h0.size(1), s.head.defined() ? s.head.size(0) : 1, L,
            s.spec->block == config::Block::Rk2);
  forward(s, h0, ws);
  const double loss = head(s, target, ws, true);
  // dL/dh_ℓ through the final RMSNorm, then down the layers.
  int cur = 0;
  rms_backward(ptr(ws.df), ptr(ws.f), ptr(ws.r_out), nullptr, mut(ws.g[cur]), ws.B, ws.m);
  for (int64_t l = L - 1; l >= 0; --l) {
    const auto& st = ws.layers[l];
    const float* g = ptr(ws.g[cur]);
    float* prev = mut(ws.g[1 - cur]);
    if (!ws.rk2) {
      branch_backward(g, 1.0f, st.br[0], layers[l].first, grads_of(layers[l].first), g, prev, ws);
    } else {
      // h' = h + F2(mid), mid = h + ½F1(h): dmid from F2, then h gets g + dmid + F1's share.
      float* dmid = mut(ws.dmid);
      branch_backward(g, 1.0f, st.br[1], layers[l].second, grads_of(layers[l].second), nullptr,
                      dmid, ws);
      ws.g[1 - cur].copy_(ws.g[cur]).add_(ws.dmid);
      branch_backward(dmid, 0.5f, st.br[0], layers[l].first, grads_of(layers[l].first), prev, prev,
                      ws);
    }
    cur = 1 - cur;
  }
  return loss;
}

double loss_only(const StudentView& s, const Tensor& h0, const Tensor& target) {
  torch::NoGradGuard no_grad;
  auto& ws = workspace();
  ws.ensure(h0.size(0), h0.size(1), s.head.defined() ? s.head.size(0) : 1,
            int64_t(s.layers->size()), s.spec->block == config::Block::Rk2);
  forward(s, h0, ws);
  return head(s, target, ws, false);
}

void teacher_features(const std::vector<Layer>& layers, const Tensor& h0, Tensor& features) {
  torch::NoGradGuard no_grad;
  const int64_t B = h0.size(0), m = h0.size(1);
  thread_local Branch br;
  thread_local Tensor ping, pong, r, u;
  if (!ping.defined() || ping.size(0) != B || ping.size(1) != m) {
    auto o = torch::TensorOptions().dtype(torch::kFloat32);
    ping = torch::empty({B, m}, o);
    pong = torch::empty({B, m}, o);
    r = torch::empty({B}, o);
    u = torch::empty({kRowBlock, 4 * m}, o);
    br = make_branch(B, m);
  }
  ping.copy_(h0);
  profile::Scope teacher_phase(profile::Phase::teacher);
  Tensor* cur = &ping;
  Tensor* next = &pong;
  for (const auto& layer : layers) {
    branch_forward(layer.first, ptr(*cur), ptr(*cur), 1.0f, br, mut(*next), B, m, mut(u));
    std::swap(cur, next);
  }
  features = torch::empty({B, m}, torch::kFloat32);
  rms_forward(ptr(*cur), mut(features), mut(r), B, m);
}

namespace {

// One range of Adam's update, over restrict pointers and compiled per vector width so that it
// vectorises (the sqrt and the division included); the arithmetic is the same per element.
DS_VECTOR_CLONES void adam_range(float* __restrict p, const float* __restrict g,
                                 float* __restrict mp, float* __restrict vp, int64_t n, float b1,
                                 float b2, float c1, float c2, float step_size, float inv_bc2_sqrt,
                                 float e) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = mp[i] * b1 + gi * c1;
    const float vi = vp[i] * b2 + gi * gi * c2;
    mp[i] = mi;
    vp[i] = vi;
    p[i] -= step_size * mi / (std::sqrt(vi) * inv_bc2_sqrt + e);
  }
}

}  // namespace

void adam_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, double lr, int64_t step,
               double beta1, double beta2, double eps) {
  profile::Scope adam_phase(profile::Phase::adam);
  const double bc1 = 1 - std::pow(beta1, double(step));
  const double bc2 = 1 - std::pow(beta2, double(step));
  const float step_size = float(lr / bc1), inv_bc2_sqrt = float(1.0 / std::sqrt(bc2));
  const float b1 = float(beta1), b2 = float(beta2), c1 = float(1 - beta1), c2 = float(1 - beta2),
              e = float(eps);
  float* p = params.data_ptr<float>();
  const float* g = grads.data_ptr<float>();
  float* mp = m.data_ptr<float>();
  float* vp = v.data_ptr<float>();
  at::parallel_for(0, params.numel(), 16384, [&](int64_t b0, int64_t b1_) {
    adam_range(p + b0, g + b0, mp + b0, vp + b0, b1_ - b0, b1, b2, c1, c2, step_size, inv_bc2_sqrt,
               e);
  });
}

}  // namespace depthscale::toy::fused
