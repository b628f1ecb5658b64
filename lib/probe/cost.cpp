// The probe's cost model (probe/cost.hpp has every formula).
#include "probe/cost.hpp"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>

namespace depthscale::probe {

namespace {

// The per-layer readout groups of one batch, as compute_site_metrics forms them: whole documents
// with sites, in order, while (documents + 1)·width·V ≤ max_logits (at least one), width = the
// group's last site + 1.
void add_readout_groups(const std::vector<int64_t>& lengths, size_t begin, size_t end, int64_t V,
                        int64_t max_logits, ProbeWorkload& w) {
  max_logits = std::max<int64_t>(max_logits, 1);
  size_t i = begin;
  while (i < end) {
    int64_t docs = 0, width = 0;
    while (i < end) {
      if (lengths[i] < 2) {  // no site: not in any group
        ++i;
        continue;
      }
      const int64_t wdt = std::max(width, lengths[i] - 1);
      if (docs > 0 && (docs + 1) * wdt * V > max_logits) break;
      ++docs;
      width = wdt;
      ++i;
    }
    if (docs == 0) break;
    w.readout_positions += docs * width;
    w.readout_attention_pairs += double(docs) * double(width) * double(width) / 2;
  }
}

}  // namespace

ProbeWorkload workload_of(const std::vector<int64_t>& lengths, int64_t batch, int64_t vocab_size,
                          const MetricsOptions& metrics) {
  ProbeWorkload w;
  w.exact = true;
  batch = std::max<int64_t>(batch, 1);
  w.documents = int64_t(lengths.size());
  for (size_t a = 0; a < lengths.size(); a += size_t(batch)) {
    const size_t e = std::min(lengths.size(), a + size_t(batch));
    const int64_t B = int64_t(e - a);
    int64_t T = 1, sites = 0;  // run_batch pads to the longest document, at least 1
    for (size_t i = a; i < e; ++i) {
      T = std::max(T, lengths[i]);
      w.tokens += lengths[i];
      sites += std::max<int64_t>(lengths[i] - 1, 0);
    }
    w.positions += B * T;
    w.attention_pairs += double(B) * double(T) * double(T) / 2;
    w.sites += sites;
    if (B * T > w.batch * w.longest) {
      w.batch = B;
      w.longest = T;
    }
    w.max_batch_sites = std::max(w.max_batch_sites, sites);
    add_readout_groups(lengths, a, e, vocab_size, metrics.max_logits, w);
  }
  return w;
}

ProbeWorkload workload_upper_bound(int64_t documents, int64_t max_tokens, int64_t batch,
                                   int64_t vocab_size, const MetricsOptions& metrics) {
  ProbeWorkload w = workload_of(std::vector<int64_t>(size_t(std::max<int64_t>(documents, 0)),
                                                     std::max<int64_t>(max_tokens, 1)),
                                batch, vocab_size, metrics);
  w.exact = false;
  return w;
}

int64_t parameter_count(const ModelConfig& config) {
  int64_t n = 0;
  for (const auto& spec : expected_weights(config)) {
    int64_t e = 1;
    for (auto s : spec.shape) e *= s;
    n += e;
  }
  return n;
}

int64_t layer_matmul_params(const ModelConfig& c) {
  const int64_t d = c.hidden_size, I = c.intermediate_size;
  switch (c.family) {
    case Family::qwen2: {
      const int64_t q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
      return 2 * d * q + 2 * d * kv + 3 * d * I;
    }
    case Family::gpt_neox:
    case Family::opt:
      return 4 * d * d + 2 * d * I;
  }
  return 0;
}

namespace {

// Bytes of one block's activations on B documents of T positions (cost.hpp's forward block).
double block_bytes(const ModelConfig& c, double B, double T, double s, int64_t E) {
  const double d = double(c.hidden_size), I = double(c.intermediate_size);
  const double q = double(c.num_heads * c.head_dim), kv = double(c.num_kv_heads * c.head_dim);
  const double heads = double(c.num_heads), N = B * T;
  const double rows =
      std::clamp(std::floor(double(E) / std::max(B * heads * T, 1.0)), 1.0, std::max(T, 1.0));
  const double attention = N * s * (4 * d + 2 * q + 4 * kv) + 8 * B * heads * rows * T;
  const double mlp_rows = std::min(N, std::max(1.0, std::floor(double(E) / std::max(I, 1.0))));
  const double m = c.family == Family::qwen2 ? 4 : 2;
  const double mlp = 3 * N * d * s + m * mlp_rows * I * s;
  return std::max(attention, mlp);
}

}  // namespace

ProbeCost probe_cost(const ModelConfig& c, const ProbeWorkload& w, const ProbeCostOptions& o) {
  ProbeCost r;
  const double L = double(c.num_layers), d = double(c.hidden_size), V = double(c.vocab_size);
  const double q = double(c.num_heads * c.head_dim), s = double(o.dtype_bytes);
  r.params = parameter_count(c);
  r.layer_matmul_params = layer_matmul_params(c);
  r.head_params = c.hidden_size * c.vocab_size;
  r.weight_bytes = double(r.params) * s;
  const double W = double(r.layer_matmul_params), head = double(r.head_params);

  r.forward_flops =
      L * (2 * W * double(w.positions) + 4 * w.attention_pairs * q) + 2 * head * double(w.sites);
  // The tiled readout (metrics.fused_cross_entropy) runs the head on the sites' rows only.
  const double head_rows =
      o.metrics.fused_cross_entropy ? double(w.sites) : double(w.readout_positions);
  if (o.with_cross_entropy_readouts && c.num_layers >= 2)
    r.readout_flops = (L - 1) * (2 * W * double(w.readout_positions) + 2 * head * head_rows +
                                 4 * w.readout_attention_pairs * q);

  // Memory of the largest batch.
  auto& m = r.memory;
  const double B = double(w.batch), T = double(w.longest), n = double(w.max_batch_sites);
  m.weights = r.weight_bytes;
  m.process = kProcessBytes;
  // With the final-norm convention the metrics hold final_norm(hidden[L]) beside the L+1 states.
  m.hidden = (L + 1 + (o.metrics.last_hidden_after_final_norm ? 1 : 0)) * B * T * d * s;
  m.forward_block = block_bytes(c, B, T, s, o.block_elements);
  const double gather_rows =
      std::min(n, std::max(1.0, std::floor(double(o.metrics.max_gather) / std::max(d, 1.0))));
  const double angles = 80 * gather_rows * d;
  const double own_rows =
      std::min(n, std::max(1.0, std::floor(double(o.metrics.max_logits) / std::max(V, 1.0))));
  const double copy = s == 4 ? 0 : 4;  // the float32 copy of the logits
  const bool fused = o.metrics.fused_cross_entropy;
  // The tiled readout's logits tile (model dtype and its float32 copy): CausalLM::kReadoutTile.
  const double tile = double(CausalLM::kReadoutTile) * (s + copy);
  double ce = fused ? 2 * n * d * s + tile : own_rows * V * (s + copy + 4);
  if (o.with_cross_entropy_readouts && c.num_layers >= 2 && n > 0) {
    const double M = std::min(B * T * V, std::max(double(o.metrics.max_logits), T * V));
    const double P = M / V;
    const double docs = std::max(1.0, std::floor(P / std::max(T, 1.0)));
    const double block = P * d * s + block_bytes(c, docs, T, s, o.block_elements);
    ce = fused ? std::max({ce, block, 3 * P * d * s + tile})
               : std::max({ce, block, 3 * P * d * s + 2 * M * s, M * (s + copy + 4)});
  }
  m.metrics = std::max(angles, ce);
  m.results = n * ((6 * L + 1) * 4 + 4 * 8);
  m.checkpoint = o.checkpoint_bytes >= 0 ? o.checkpoint_bytes : r.weight_bytes;
  m.peak =
      m.process +
      std::max(m.weights + m.checkpoint,
               m.weights + std::max(m.hidden + std::max(m.forward_block, m.metrics) + m.results,
                                    (o.store_per_token ? 2 : 1) * m.results));
  return r;
}

double measure_matmul_rate(torch::Device device, torch::Dtype dtype, int64_t d, double seconds,
                           int64_t* rows_used) {
  if (device.is_cuda() && !torch::cuda::is_available())
    throw ModelError("cannot time a matmul on cuda: this LibTorch sees no GPU");
  at::NoGradGuard no_grad;
  d = std::max<int64_t>(d, 1);
  auto opts = torch::TensorOptions().dtype(dtype).device(device);
  auto w = at::randn({d, d}, opts);
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  auto flops = [&](int64_t rows) { return 2.0 * double(rows) * double(d) * double(d); };
  // 64 rows first: the first call starts the thread pool and the BLAS buffers (untimed), the
  // next ones give a first rate; when one alone takes a quarter of the budget (a slow dtype on
  // this device), that is the measurement.
  int64_t rows = 64;
  auto x = at::randn({rows, d}, opts);
  auto y = at::empty({rows, d}, opts);
  at::mm_out(y, x, w);
  sync();
  double first = 0;  // the fastest of up to three calls: a busy machine's slow start aside
  for (int i = 0; i < 3 && first < seconds / 4; ++i) {
    const auto t = std::chrono::steady_clock::now();
    at::mm_out(y, x, w);
    sync();
    first = i == 0 ? since(t) : std::min(first, since(t));
  }
  if (first >= seconds / 4) {
    if (rows_used) *rows_used = rows;
    return flops(rows) / first;
  }
  // Then double the rows (up to 1024, a multiple of 64) while a call stays under a tenth of the
  // budget. Growing from measured calls rather than extrapolating the 64-row rate: OpenBLAS on
  // two threads runs 64 rows at a tenth of its large-block rate, which made the extrapolation
  // stop at ~448 rows and the estimate 2-3x slow.
  double last = first;
  while (rows < 1024 && 2 * last < seconds / 10) {
    rows *= 2;
    x = at::randn({rows, d}, opts);
    y = at::empty({rows, d}, opts);
    at::mm_out(y, x, w);  // untimed: first touch of y
    sync();
    const auto t = std::chrono::steady_clock::now();
    at::mm_out(y, x, w);
    sync();
    last = since(t);
  }
  int64_t reps = 0;
  double elapsed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  do {
    at::mm_out(y, x, w);
    sync();
    ++reps;
    elapsed = since(t0);
  } while (elapsed < seconds / 2);
  if (rows_used) *rows_used = rows;
  return flops(rows) * double(reps) / elapsed;
}

}  // namespace depthscale::probe
