#include "toy/fused.hpp"

#include <ATen/Parallel.h>

#include <cfloat>
#include <cmath>

namespace depthscale::toy::fused {

namespace {

using torch::Tensor;

// Activations one MLP branch saves for its backward pass.
struct Branch {
  Tensor v, r, a, u;  // RMSNorm output [B,m] and 1/rms [B]; relu(z) and relu(z)² [B,4m]
};
struct LayerState {
  Tensor h;    // the layer's input [B,m]
  Tensor mid;  // RK2 midpoint state [B,m]
  Branch br[2];
};

// Buffers reused across steps and students of one thread: nothing is allocated in the step loop
// once the deepest student has run once.
struct Workspace {
  int64_t B = 0, m = 0, n = 0;
  std::vector<LayerState> layers;
  Tensor h_out, f, r_out, logits, dlogits, df, dU, dv, g[2], dmid, zero_bias;

  void ensure(int64_t batch, int64_t width, int64_t vocab, int64_t depth) {
    if (batch != B || width != m || vocab != n) {
      layers.clear();
      B = batch;
      m = width;
      n = vocab;
      auto o = torch::TensorOptions().dtype(torch::kFloat32);
      h_out = torch::empty({B, m}, o);
      f = torch::empty({B, m}, o);
      r_out = torch::empty({B}, o);
      logits = torch::empty({B, n}, o);
      dlogits = torch::empty({B, n}, o);
      df = torch::empty({B, m}, o);
      dU = torch::empty({B, 4 * m}, o);
      dv = torch::empty({B, m}, o);
      g[0] = torch::empty({B, m}, o);
      g[1] = torch::empty({B, m}, o);
      dmid = torch::empty({B, m}, o);
    }
    auto o = torch::TensorOptions().dtype(torch::kFloat32);
    while (int64_t(layers.size()) < depth) {
      LayerState s;
      s.h = torch::empty({B, m}, o);
      s.mid = torch::empty({B, m}, o);
      for (auto& b : s.br) {
        b.v = torch::empty({B, m}, o);
        b.r = torch::empty({B}, o);
        b.a = torch::empty({B, 4 * m}, o);
        b.u = torch::empty({B, 4 * m}, o);
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

// v = h / rms(h), r = 1/rms(h), row by row.
void rms_forward(const Tensor& h, Tensor& v, Tensor& r) {
  const int64_t B = h.size(0), m = h.size(1);
  const float* hp = h.data_ptr<float>();
  float* vp = v.data_ptr<float>();
  float* rp = r.data_ptr<float>();
  at::parallel_for(0, B, kRowGrain, [&](int64_t b0, int64_t b1) {
    for (int64_t i = b0; i < b1; ++i) {
      const float* __restrict x = hp + i * m;
      float s = 0;
      for (int64_t k = 0; k < m; ++k) s += x[k] * x[k];
      const float inv = 1.0f / std::sqrt(s / float(m) + FLT_EPSILON);
      rp[i] = inv;
      float* __restrict y = vp + i * m;
      for (int64_t k = 0; k < m; ++k) y[k] = x[k] * inv;
    }
  });
}

// out = base + r·(dv − v·mean(dv·v)) row by row: RMSNorm's backward (base may be undefined).
void rms_backward(const Tensor& dv, const Tensor& v, const Tensor& r, const Tensor& base,
                  Tensor& out) {
  const int64_t B = dv.size(0), m = dv.size(1);
  const float* dp = dv.data_ptr<float>();
  const float* vp = v.data_ptr<float>();
  const float* rp = r.data_ptr<float>();
  const float* bp = base.defined() ? base.data_ptr<float>() : nullptr;
  float* op = out.data_ptr<float>();
  at::parallel_for(0, B, kRowGrain, [&](int64_t b0, int64_t b1) {
    for (int64_t i = b0; i < b1; ++i) {
      const float* d = dp + i * m;
      const float* y = vp + i * m;
      float c = 0;
      for (int64_t k = 0; k < m; ++k) c += d[k] * y[k];
      c /= float(m);
      float* o = op + i * m;
      const float inv = rp[i];
      if (bp) {
        const float* b = bp + i * m;
        for (int64_t k = 0; k < m; ++k) o[k] = b[k] + inv * (d[k] - y[k] * c);
      } else {
        for (int64_t k = 0; k < m; ++k) o[k] = inv * (d[k] - y[k] * c);
      }
    }
  });
}

// a ← relu(a) in place, u = a². Branch-free over restrict pointers so that it vectorises: with
// a branch on the sign the loop mispredicts half the time and costs more than the matmuls.
void relu_square_range(float* __restrict a, float* __restrict u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = std::max(a[i], 0.0f);
    a[i] = x;
    u[i] = x * x;
  }
}

void relu_square(Tensor& a, Tensor& u) {
  float* ap = a.data_ptr<float>();
  float* up = u.data_ptr<float>();
  at::parallel_for(0, a.numel(), 16384,
                   [&](int64_t b0, int64_t b1) { relu_square_range(ap + b0, up + b0, b1 - b0); });
}

// dz = dU · 2a in place (a = relu(z) ≥ 0, so no branch is needed for z < 0).
void relu_square_backward_range(float* __restrict d, const float* __restrict a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] *= 2.0f * a[i];
}

// One MLP branch: saves v, r, a, u and writes out = residual + scale·u·Bᵀ.
void branch_forward(const Mlp& w, const Tensor& x, const Tensor& residual, double scale, Branch& s,
                    Tensor& out) {
  rms_forward(x, s.v, s.r);
  at::addmm_out(s.a, w.b, s.v, w.A.t());
  relu_square(s.a, s.u);
  at::addmm_out(out, residual, s.u, w.B.t(), 1.0, scale);
}

// Backward of out = residual + scale·u·Bᵀ given gup = dL/dout: writes the gradients of A, b, B
// and leaves dL/dv in ws.dv (the caller applies RMSNorm's backward).
void branch_backward(const Tensor& gup, double scale, const Branch& s, const Mlp& w,
                     const Mlp& grad, Workspace& ws) {
  at::addmm_out(ws.dU, ws.dU, gup, w.B, 0.0, scale);  // β = 0: the old contents are ignored
  Tensor gB = grad.B, gA = grad.A, gb = grad.b;
  at::addmm_out(gB, gB, gup.t(), s.u, 0.0, scale);
  // dz = dU · 2·relu(z): where z < 0, a = 0 and so is the gradient.
  {
    float* dp = ws.dU.data_ptr<float>();
    const float* ap = s.a.data_ptr<float>();
    at::parallel_for(0, ws.dU.numel(), 16384, [&](int64_t b0, int64_t b1) {
      relu_square_backward_range(dp + b0, ap + b0, b1 - b0);
    });
  }
  at::mm_out(gA, ws.dU.t(), s.v);
  at::sum_out(gb, ws.dU, {0});
  at::mm_out(ws.dv, ws.dU, w.A);
}

Mlp grads_of(const Mlp& w) {
  return Mlp{w.A.grad(), w.b.grad(), w.B.grad()};
}

// Runs the layers forward from h0, saving what backward needs; leaves f = RMSNorm(h_ℓ).
void forward(const StudentView& s, const Tensor& h0, Workspace& ws) {
  const auto& layers = *s.layers;
  const int64_t L = int64_t(layers.size());
  const bool rk2 = s.spec->block == config::Block::Rk2;
  for (int64_t l = 0; l < L; ++l) {
    auto& st = ws.layers[l];
    if (l == 0) st.h.copy_(h0);
    Tensor& next = l + 1 < L ? ws.layers[l + 1].h : ws.h_out;
    if (!rk2) {
      branch_forward(layers[l].first, st.h, st.h, 1.0, st.br[0], next);
    } else {
      branch_forward(layers[l].first, st.h, st.h, 0.5, st.br[0], st.mid);
      branch_forward(layers[l].second, st.mid, st.h, 1.0, st.br[1], next);
    }
  }
  if (L == 0) ws.h_out.copy_(h0);
  rms_forward(ws.h_out, ws.f, ws.r_out);
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
    double sum = 0;
    for (int64_t i = 0; i < N; ++i) {
      const float d = fp[i] - tp[i];
      sum += double(d) * double(d);
      if (grad) dp[i] = k * d;
    }
    return sum / double(N);
  }
  const int64_t n = s.head.size(0);
  at::mm_out(ws.logits, ws.f, s.head.t());
  const float inv_t = spec.student_temperature ? float(1.0 / spec.temperature) : 1.0f;
  if (spec.loss == config::Loss::Mse) {
    // MSE on logits (a head with an MSE loss): mean over all elements.
    const float* lp = ws.logits.data_ptr<float>();
    const float* tp = target.data_ptr<float>();
    float* dp = ws.dlogits.data_ptr<float>();
    const int64_t N = B * n;
    double sum = 0;
    for (int64_t i = 0; i < N; ++i) {
      const float d = lp[i] * inv_t - tp[i];
      sum += double(d) * double(d);
      if (grad) dp[i] = 2.0f * d / float(N) * inv_t;
    }
    if (grad) {
      if (s.head_trained) {
        Tensor gW = s.grads.narrow(0, s.head_offset, n * m).view({n, m});
        at::mm_out(gW, ws.dlogits.t(), ws.f);
      }
      at::mm_out(ws.df, ws.dlogits, s.head);
    }
    return sum / double(N);
  }
  // KL(teacher ‖ student) = Σ p (log p − log q) / B with log q = log_softmax(logits / T_s);
  // its gradient with respect to the logits is (q − p)/B (times 1/T when the student is tempered).
  const float* lp = ws.logits.data_ptr<float>();
  const float* tp = target.data_ptr<float>();
  float* dp = ws.dlogits.data_ptr<float>();
  std::vector<double> row_loss(B);
  at::parallel_for(0, B, kRowGrain, [&](int64_t b0, int64_t b1) {
    for (int64_t i = b0; i < b1; ++i) {
      const float* x = lp + i * n;
      const float* t = tp + i * n;
      float mx = -INFINITY;
      for (int64_t j = 0; j < n; ++j) mx = std::max(mx, x[j] * inv_t);
      float sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(x[j] * inv_t - mx);
      const float lse = mx + std::log(sum);
      double acc = 0;
      float* d = dp + i * n;
      for (int64_t j = 0; j < n; ++j) {
        const float log_q = x[j] * inv_t - lse;
        const float p = std::exp(t[j]);
        acc += double(p * (t[j] - log_q));
        if (grad) d[j] = (std::exp(log_q) - p) / float(B) * inv_t;
      }
      row_loss[i] = acc;
    }
  });
  double loss = 0;
  for (double v : row_loss) loss += v;
  if (grad) {
    if (s.head_trained) {
      Tensor gW = s.grads.narrow(0, s.head_offset, n * m).view({n, m});
      at::mm_out(gW, ws.dlogits.t(), ws.f);
    }
    at::mm_out(ws.df, ws.dlogits, s.head);
  }
  return loss / double(B);
}

}  // namespace

double loss_and_gradients(const StudentView& s, const Tensor& h0, const Tensor& target) {
  torch::NoGradGuard no_grad;
  auto& ws = workspace();
  const auto& layers = *s.layers;
  const int64_t L = int64_t(layers.size());
  ws.ensure(h0.size(0), h0.size(1), s.head.defined() ? s.head.size(0) : 1, L);
  forward(s, h0, ws);
  const double loss = head(s, target, ws, true);
  // dL/dh_ℓ through the final RMSNorm, then down the layers.
  int cur = 0;
  rms_backward(ws.df, ws.f, ws.r_out, Tensor(), ws.g[cur]);
  const bool rk2 = s.spec->block == config::Block::Rk2;
  for (int64_t l = L - 1; l >= 0; --l) {
    const auto& st = ws.layers[l];
    const Tensor& g = ws.g[cur];
    Tensor& prev = ws.g[1 - cur];
    if (!rk2) {
      branch_backward(g, 1.0, st.br[0], layers[l].first, grads_of(layers[l].first), ws);
      rms_backward(ws.dv, st.br[0].v, st.br[0].r, g, prev);
    } else {
      // h' = h + F2(mid), mid = h + ½F1(h): dmid from F2, then h gets g + dmid + F1's share.
      branch_backward(g, 1.0, st.br[1], layers[l].second, grads_of(layers[l].second), ws);
      rms_backward(ws.dv, st.br[1].v, st.br[1].r, Tensor(), ws.dmid);
      branch_backward(ws.dmid, 0.5, st.br[0], layers[l].first, grads_of(layers[l].first), ws);
      prev.copy_(g).add_(ws.dmid);
      rms_backward(ws.dv, st.br[0].v, st.br[0].r, prev, prev);
    }
    cur = 1 - cur;
  }
  return loss;
}

double loss_only(const StudentView& s, const Tensor& h0, const Tensor& target) {
  torch::NoGradGuard no_grad;
  auto& ws = workspace();
  ws.ensure(h0.size(0), h0.size(1), s.head.defined() ? s.head.size(0) : 1,
            int64_t(s.layers->size()));
  forward(s, h0, ws);
  return head(s, target, ws, false);
}

void teacher_features(const std::vector<Layer>& layers, const Tensor& h0, Tensor& features) {
  torch::NoGradGuard no_grad;
  const int64_t B = h0.size(0), m = h0.size(1);
  thread_local Branch br;
  thread_local Tensor ping, pong, r;
  if (!ping.defined() || ping.size(0) != B || ping.size(1) != m) {
    auto o = torch::TensorOptions().dtype(torch::kFloat32);
    ping = torch::empty({B, m}, o);
    pong = torch::empty({B, m}, o);
    r = torch::empty({B}, o);
    br.v = torch::empty({B, m}, o);
    br.r = torch::empty({B}, o);
    br.a = torch::empty({B, 4 * m}, o);
    br.u = torch::empty({B, 4 * m}, o);
  }
  ping.copy_(h0);
  Tensor* cur = &ping;
  Tensor* next = &pong;
  for (const auto& layer : layers) {
    branch_forward(layer.first, *cur, *cur, 1.0, br, *next);
    std::swap(cur, next);
  }
  features = torch::empty({B, m}, torch::kFloat32);
  rms_forward(*cur, features, r);
}

void adam_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, double lr, int64_t step,
               double beta1, double beta2, double eps) {
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
    for (int64_t i = b0; i < b1_; ++i) {
      const float gi = g[i];
      mp[i] = mp[i] * b1 + gi * c1;
      vp[i] = vp[i] * b2 + gi * gi * c2;
      p[i] -= step_size * mp[i] / (std::sqrt(vp[i]) * inv_bc2_sqrt + e);
    }
  });
}

}  // namespace depthscale::toy::fused
