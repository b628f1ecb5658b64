#include "probe/metrics.hpp"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace depthscale::probe {

using torch::Tensor;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Valid sites of a batch, on the CPU, in (document, position) order.
struct Sites {
  Tensor doc, position, token, next_token;  // [N] int64
};

Sites select_sites(const Tensor& ids, const Tensor& mask) {
  if (ids.dim() != 2) throw MetricsError("metrics: ids must be [B, T]");
  if (!mask.defined() || mask.sizes() != ids.sizes())
    throw MetricsError("metrics: mask must have the shape of ids [B, T]");
  auto m = mask.to(torch::kCPU).to(torch::kBool);
  auto tok = ids.to(torch::kCPU).to(torch::kInt64);
  const int64_t T = ids.size(1);
  Sites s;
  if (T < 2) {
    s.doc = s.position = s.token = s.next_token = torch::zeros({0}, torch::kInt64);
    return s;
  }
  auto valid = m.narrow(1, 0, T - 1) & m.narrow(1, 1, T - 1);
  auto nz = valid.nonzero();  // row-major, so (document, position) order
  s.doc = nz.select(1, 0).contiguous();
  s.position = nz.select(1, 1).contiguous();
  s.token = tok.index({s.doc, s.position});
  s.next_token = tok.index({s.doc, s.position + 1});
  return s;
}

Tensor row_sq(const Tensor& a) {
  return (a * a).sum(-1);
}
Tensor row_dot(const Tensor& a, const Tensor& b) {
  return (a * b).sum(-1);
}

// arccos(clip(cos)) from a·b, ‖a‖², ‖b‖². sqrt(‖a‖²‖b‖²) rather than ‖a‖‖b‖: for a = b it is
// exactly a·a, so identical states give 0, not ~1e-8. Zero vectors get cos = 0 (π/2). With
// `bf16`, the cosine and then the angle are rounded to bfloat16 (the header's bf16 mode).
Tensor row_angle(const Tensor& ab, const Tensor& aa, const Tensor& bb, bool bf16) {
  auto den = (aa * bb).sqrt();
  auto cos = torch::where(den > 0, ab / den, torch::zeros_like(ab)).clamp(-1.0, 1.0);
  if (!bf16) return cos.acos();
  auto rounded = cos.to(torch::kBFloat16).to(torch::kFloat64);
  return rounded.acos().to(torch::kBFloat16).to(torch::kFloat64);
}

// −log softmax(logits)[target] per row, in float32 whatever the logits' dtype.
Tensor row_cross_entropy(const Tensor& logits, const Tensor& target) {
  auto z = logits.to(torch::kFloat32);
  return z.logsumexp(-1) - z.gather(1, target.unsqueeze(1)).squeeze(1);
}

void check_hidden(const std::vector<Tensor>& hidden, const Tensor& ids) {
  if (hidden.size() < 2) throw MetricsError("metrics: need L+1 >= 2 hidden states");
  const auto& h0 = hidden[0];
  if (!h0.defined() || h0.dim() != 3 || h0.size(0) != ids.size(0) || h0.size(1) != ids.size(1))
    throw MetricsError("metrics: hidden states must be [B, T, d] with ids' B and T");
  for (size_t l = 1; l < hidden.size(); ++l)
    if (!hidden[l].defined() || hidden[l].sizes() != h0.sizes() ||
        hidden[l].scalar_type() != h0.scalar_type() || hidden[l].device() != h0.device())
      throw MetricsError("metrics: hidden[" + std::to_string(l) +
                         "] differs from hidden[0] in shape, dtype or device");
}

SiteMetrics geometry(const std::vector<Tensor>& hidden, const Tensor& ids, const Tensor& mask,
                     const MetricsOptions& options) {
  const bool bf16 = options.bf16_angles;
  if (ids.dim() != 2) throw MetricsError("metrics: ids must be [B, T]");
  check_hidden(hidden, ids);
  Sites s = select_sites(ids, mask);
  const int L = int(hidden.size()) - 1;
  const int64_t d = hidden[0].size(2), N = s.doc.size(0);
  const auto dev = hidden[0].device();

  SiteMetrics out;
  out.num_layers = L;
  out.doc = s.doc;
  out.position = s.position;
  out.token = s.token;
  out.next_token = s.next_token;
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  out.norms = torch::empty({N, L + 1}, f32);
  out.theta = torch::empty({N, L}, f32);
  out.theta_dh = torch::empty({N, L - 1}, f32);
  out.angle_to_end = torch::empty({N, L}, f32);
  out.proj_s = torch::empty({N, L + 1}, f32);
  if (N == 0) return out;

  // Advanced indexing gathers only the sites' rows (a reshape of a non-contiguous state would copy
  // all of it).
  const auto doc_dev = s.doc.to(dev), pos_dev = s.position.to(dev);
  const int64_t chunk = std::max<int64_t>(1, options.max_gather / std::max<int64_t>(d, 1));
  for (int64_t a = 0; a < N; a += chunk) {
    const int64_t n = std::min(chunk, N - a);
    const auto di = doc_dev.narrow(0, a, n), pi = pos_dev.narrow(0, a, n);
    auto gather = [&](int l) { return hidden[l].index({di, pi}).to(torch::kFloat64); };
    std::vector<Tensor> norms, theta, theta_dh, to_end, proj;
    auto h0 = gather(0), hL = gather(L);
    auto v = hL - h0;
    auto vv = row_sq(v), hL2 = row_sq(hL);
    auto hl = h0, hl2 = row_sq(h0);
    Tensor dprev, dprev2;
    norms.push_back(hl2.sqrt());
    for (int l = 0; l < L; ++l) {
      auto hn = l + 1 == L ? hL : gather(l + 1);
      auto hn2 = l + 1 == L ? hL2 : row_sq(hn);
      theta.push_back(row_angle(row_dot(hl, hn), hl2, hn2, bf16));
      to_end.push_back(row_angle(row_dot(hl, hL), hl2, hL2, bf16));
      proj.push_back(row_dot(hl - h0, v) / (vv + 1e-10));
      auto dl = hn - hl;
      auto dl2 = row_sq(dl);
      if (l > 0) theta_dh.push_back(row_angle(row_dot(dprev, dl), dprev2, dl2, bf16));
      dprev = dl;
      dprev2 = dl2;
      hl = hn;
      hl2 = hn2;
      norms.push_back(hl2.sqrt());
    }
    proj.push_back(row_dot(hL - h0, v) / (vv + 1e-10));
    auto put = [&](Tensor& dst, const std::vector<Tensor>& cols) {
      if (!cols.empty()) dst.narrow(0, a, n).copy_(torch::stack(cols, 1).to(torch::kCPU));
    };
    put(out.norms, norms);
    put(out.theta, theta);
    put(out.theta_dh, theta_dh);
    put(out.angle_to_end, to_end);
    put(out.proj_s, proj);
  }
  return out;
}

// cross_entropy [N, L] for the sites of `m` (already selected from ids and mask).
Tensor cross_entropy(const CausalLM& model, const std::vector<Tensor>& hidden, const Tensor& mask,
                     const SiteMetrics& m, const MetricsOptions& options) {
  const int L = model.num_layers();
  const int64_t V = model.vocab_size(), N = m.size();
  auto ce = torch::empty({N, L}, torch::TensorOptions().dtype(torch::kFloat32));
  if (N == 0) return ce;
  const auto dev = hidden[0].device();
  const int64_t max_logits = std::max<int64_t>(options.max_logits, 1);
  auto target = m.next_token.to(dev);

  // Column L−1, the model's own readout: only the final norm and head, so any rows will do.
  const auto doc_dev = m.doc.to(dev), pos_dev = m.position.to(dev);
  const bool fused = options.fused_cross_entropy;
  const int64_t rows = fused ? N : std::max<int64_t>(1, max_logits / V);
  for (int64_t a = 0; a < N; a += rows) {
    if (fused) {
      ce.select(1, L - 1).copy_(
          model.readout_cross_entropy(hidden[L].index({doc_dev, pos_dev}), m.next_token));
      break;
    }
    const int64_t n = std::min(rows, N - a);
    auto logits =
        model.readout(hidden[L].index({doc_dev.narrow(0, a, n), pos_dev.narrow(0, a, n)}));
    ce.select(1, L - 1).narrow(0, a, n).copy_(
        row_cross_entropy(logits, target.narrow(0, a, n)).to(torch::kCPU));
  }
  if (L < 2) return ce;

  // Columns l < L−1 re-run the last block, whose attention needs every earlier position of the
  // document: group whole documents, cut each group at its last site (causal attention, so the
  // sites do not see what is cut), and read out one layer of one group at a time.
  auto docs_cpu = m.doc.contiguous();
  auto pos_cpu = m.position.contiguous();
  const int64_t* dp = docs_cpu.data_ptr<int64_t>();
  const int64_t* pp = pos_cpu.data_ptr<int64_t>();
  const auto mask_dev = mask.to(dev);
  int64_t a = 0;
  while (a < N) {
    // Documents [a, e) of the site list: sites of one document are contiguous.
    std::vector<int64_t> docs;
    int64_t e = a, width = 0;
    while (e < N) {
      int64_t f = e, last = 0;
      while (f < N && dp[f] == dp[e]) last = std::max(last, pp[f++]);
      const int64_t w = std::max(width, last + 1);
      if (!docs.empty() && int64_t(docs.size() + 1) * w * V > max_logits) break;
      docs.push_back(dp[e]);
      width = w;
      e = f;
    }
    const int64_t g = int64_t(docs.size()), n = e - a;
    auto doc_idx = torch::tensor(docs, torch::kInt64).to(dev);
    auto sub_mask = mask_dev.index_select(0, doc_idx).narrow(1, 0, width);
    // Row of each site in the group's [g·width, V] logits.
    std::vector<int64_t> local(n);
    for (int64_t i = 0, k = -1; i < n; ++i) {
      if (i == 0 || dp[a + i] != dp[a + i - 1]) ++k;
      local[i] = k * width + pp[a + i];
    }
    auto rows_idx = torch::tensor(local, torch::kInt64).to(dev);
    auto tgt = target.narrow(0, a, n);
    for (int l = 0; l + 1 < L; ++l) {
      if (fused) {  // the sites' rows of the last block's output, then the tiled head
        auto h = hidden[l].narrow(1, 0, width).index_select(0, doc_idx);
        auto y = model.last_block(h, sub_mask).reshape({g * width, -1}).index_select(0, rows_idx);
        ce.select(1, l).narrow(0, a, n).copy_(
            model.readout_cross_entropy(y, m.next_token.narrow(0, a, n)));
        continue;
      }
      Tensor site_logits;
      {  // the group's logits go before the float32 work on the sites' rows
        auto h = hidden[l].narrow(1, 0, width).index_select(0, doc_idx);
        auto logits = model.readout_via_last_block(h, sub_mask);
        site_logits = logits.reshape({g * width, V}).index_select(0, rows_idx);
      }
      ce.select(1, l).narrow(0, a, n).copy_(row_cross_entropy(site_logits, tgt).to(torch::kCPU));
    }
    a = e;
  }
  return ce;
}

}  // namespace

SiteMetrics compute_site_geometry(const std::vector<Tensor>& hidden, const Tensor& ids,
                                  const Tensor& mask, const MetricsOptions& options) {
  at::NoGradGuard no_grad;
  return geometry(hidden, ids, mask, options);
}

SiteMetrics compute_site_metrics(const CausalLM& model, const std::vector<Tensor>& hidden,
                                 const Tensor& ids, const Tensor& mask,
                                 const MetricsOptions& options) {
  at::NoGradGuard no_grad;
  if (int(hidden.size()) != model.num_layers() + 1)
    throw MetricsError("metrics: expected " + std::to_string(model.num_layers() + 1) +
                       " hidden states (L+1), got " + std::to_string(hidden.size()));
  if (hidden[0].defined() && hidden[0].dim() == 3 && hidden[0].size(2) != model.hidden_size())
    throw MetricsError("metrics: hidden states are not of the model's width");
  SiteMetrics out;
  if (options.last_hidden_after_final_norm) {
    // Hugging Face's last hidden state; the other L tensors are shared, not copied.
    auto normed = hidden;
    normed.back() = model.final_norm(hidden.back());
    out = geometry(normed, ids, mask, options);
  } else {
    out = geometry(hidden, ids, mask, options);
  }
  // The readouts take the raw last-block output, so cross-entropy is the same in both conventions.
  if (options.cross_entropy) out.cross_entropy = cross_entropy(model, hidden, mask, out, options);
  return out;
}

SiteMetrics compute_site_metrics(const CausalLM& model, const Tensor& ids, const Tensor& mask,
                                 const MetricsOptions& options) {
  at::NoGradGuard no_grad;
  auto fwd = model.forward(ids, mask, /*with_logits=*/false);
  return compute_site_metrics(model, fwd.hidden, ids, mask, options);
}

// --- reference trajectories ----------------------------------------------------------------------

std::vector<double> even_reference(int L) {
  if (L < 1) throw MetricsError("reference trajectory: num_layers must be >= 1");
  std::vector<double> r(L, 0.45);
  r.front() = r.back() = kPi / 2;
  return r;
}

std::vector<double> early_stop_reference(int L) {
  auto r = even_reference(L);
  const int middle = std::max(L - 2, 0);
  const int k = int(std::lround(6.0 * middle / 22.0));
  for (int i = 1 + k; i < L - 1; ++i) r[i] = 0.0;
  return r;
}

namespace {

bool closer_to_early(const float* t, const double* early, const double* even, int L) {
  double de = 0, dv = 0;
  for (int i = 0; i < L; ++i) {
    const double x = t[i];
    de += (x - early[i]) * (x - early[i]);
    dv += (x - even[i]) * (x - even[i]);
  }
  return de < dv;
}

}  // namespace

bool is_nearer_early_reference(const float* theta, int L) {
  const auto e = early_stop_reference(L), v = even_reference(L);
  return closer_to_early(theta, e.data(), v.data(), L);
}

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::norms:
      return "norms";
    case Metric::theta:
      return "theta";
    case Metric::theta_dh:
      return "theta_dh";
    case Metric::angle_to_end:
      return "angle_to_end";
    case Metric::cross_entropy:
      return "cross_entropy";
    case Metric::proj_s:
      return "proj_s";
  }
  return "?";
}

int64_t metric_columns(Metric m, int L) {
  switch (m) {
    case Metric::norms:
    case Metric::proj_s:
      return L + 1;
    case Metric::theta_dh:
      return L - 1;
    default:
      return L;
  }
}

// --- Summary -------------------------------------------------------------------------------------

namespace {

constexpr Metric kMetrics[] = {Metric::norms,        Metric::theta,         Metric::theta_dh,
                               Metric::angle_to_end, Metric::cross_entropy, Metric::proj_s};
constexpr int64_t kStateVersion = 1;
constexpr int kFixedBits = 64;  // quantum 2^-64

size_t sums_size(int L) {
  size_t n = 0;
  for (auto m : kMetrics) n += size_t(metric_columns(m, L));
  return n + size_t(L) * size_t(L + 1) / 2;
}

__int128 to_fixed(double v, const char* what) {
  if (!std::isfinite(v)) throw MetricsError(std::string("Summary: non-finite sum of ") + what);
  const double x = std::ldexp(v, kFixedBits);
  if (std::fabs(x) >= std::ldexp(1.0, 125))
    throw MetricsError(std::string("Summary: sum of ") + what + " out of range (|sum| >= 2^61)");
  return static_cast<__int128>(std::nearbyint(x));
}

long double to_real(__int128 s) {
  return std::ldexp(static_cast<long double>(s), -kFixedBits);
}

}  // namespace

Summary::Summary(int num_layers) : layers_(num_layers) {
  if (num_layers < 1) throw MetricsError("Summary: num_layers must be >= 1");
  sums_.assign(sums_size(num_layers), 0);
}

size_t Summary::offset(Metric m) const {
  size_t o = 0;
  for (auto k : kMetrics) {
    if (k == m) return o;
    o += size_t(metric_columns(k, layers_));
  }
  return o;
}

size_t Summary::moments_offset() const {
  return sums_.size() - size_t(layers_) * (layers_ + 1) / 2;
}

const Tensor& SiteMetrics::of(Metric k) const {
  switch (k) {
    case Metric::norms:
      return norms;
    case Metric::theta:
      return theta;
    case Metric::theta_dh:
      return theta_dh;
    case Metric::angle_to_end:
      return angle_to_end;
    case Metric::cross_entropy:
      return cross_entropy;
    default:
      return proj_s;
  }
}

void Summary::add(const SiteMetrics& m) {
  const int L = layers_;
  if (m.num_layers != L)
    throw MetricsError("Summary::add: metrics of " + std::to_string(m.num_layers) +
                       " layers into a summary of " + std::to_string(L));
  const int64_t N = m.size();
  // Batch sums in float64, fixed loop order (no threads): the same batch always gives the same
  // bits.
  std::vector<double> batch(sums_.size(), 0.0);
  Tensor theta;
  for (auto k : kMetrics) {
    const Tensor& t = m.of(k);
    const int64_t cols = metric_columns(k, L);
    if (!t.defined() && k != Metric::theta) continue;  // not computed in this run
    if (!t.defined() || t.dim() != 2 || t.size(0) != N || t.size(1) != cols)
      throw MetricsError(std::string("Summary::add: ") + metric_name(k) + " must be [" +
                         std::to_string(N) + ", " + std::to_string(cols) + "]");
    auto c = t.to(torch::kCPU).to(torch::kFloat32).contiguous();
    if (k == Metric::theta) theta = c;
    const float* p = c.data_ptr<float>();
    double* s = batch.data() + offset(k);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < cols; ++j) s[j] += p[n * cols + j];
  }
  const float* th = theta.data_ptr<float>();
  double* mo = batch.data() + moments_offset();
  const auto early = early_stop_reference(L), even = even_reference(L);
  int64_t n_early = 0;
  for (int64_t n = 0; n < N; ++n) {
    const float* t = th + n * L;
    size_t k = 0;
    for (int i = 0; i < L; ++i)
      for (int j = i; j < L; ++j) mo[k++] += double(t[i]) * double(t[j]);
    n_early += closer_to_early(t, early.data(), even.data(), L);
  }
  // Into a copy first, so a throw leaves the summary as it was.
  auto sums = sums_;
  for (size_t i = 0; i < sums.size(); ++i)
    if (__builtin_add_overflow(sums[i], to_fixed(batch[i], "site metrics"), &sums[i]))
      throw MetricsError("Summary::add: fixed-point sum overflow");
  sums_.swap(sums);
  count_ += N;
  early_ += n_early;
}

void Summary::merge(const Summary& o) {
  if (o.layers_ != layers_)
    throw MetricsError("Summary::merge: " + std::to_string(o.layers_) + " layers into " +
                       std::to_string(layers_));
  auto sums = sums_;
  for (size_t i = 0; i < sums.size(); ++i)
    if (__builtin_add_overflow(sums[i], o.sums_[i], &sums[i]))
      throw MetricsError("Summary::merge: fixed-point sum overflow");
  sums_.swap(sums);
  count_ += o.count_;
  early_ += o.early_;
}

double Summary::reference_early_stop_fraction() const {
  return count_ ? double(early_) / double(count_) : std::numeric_limits<double>::quiet_NaN();
}

std::vector<double> Summary::mean(Metric m) const {
  const int64_t cols = metric_columns(m, layers_);
  std::vector<double> out(cols, std::numeric_limits<double>::quiet_NaN());
  if (count_ == 0) return out;
  const size_t o = offset(m);
  for (int64_t j = 0; j < cols; ++j) out[j] = double(to_real(sums_[o + j]) / count_);
  return out;
}

double Summary::theta_middle_mean() const {
  if (count_ == 0 || layers_ < 3) return std::numeric_limits<double>::quiet_NaN();
  __int128 s = 0;  // exact: the layer sums are integers
  const size_t o = offset(Metric::theta);
  for (int l = 1; l + 1 < layers_; ++l) s += sums_[o + l];
  return double(to_real(s) / (static_cast<long double>(count_) * (layers_ - 2)));
}

Pca Summary::pca() const {
  if (count_ < 2) throw MetricsError("Summary::pca: needs at least 2 sites");
  const int L = layers_;
  const long double N = count_;
  std::vector<long double> s1(L);
  const size_t o = offset(Metric::theta);
  for (int i = 0; i < L; ++i) s1[i] = to_real(sums_[o + i]);
  // Covariance from raw moments, in long double: θ is O(1) and its spread is not tiny, so the
  // cancellation costs a few digits of 19.
  auto cov = torch::empty({L, L}, torch::kFloat64);
  auto c = cov.accessor<double, 2>();
  size_t k = moments_offset();
  for (int i = 0; i < L; ++i)
    for (int j = i; j < L; ++j) {
      const long double v = (to_real(sums_[k++]) - s1[i] * s1[j] / N) / (N - 1);
      c[i][j] = c[j][i] = double(v);
    }
  auto [values, vectors] = at::linalg_eigh(cov, "L");  // ascending
  auto val = values.contiguous();
  auto vec = vectors.contiguous();
  auto va = val.accessor<double, 1>();
  auto ve = vec.accessor<double, 2>();
  Pca p;
  p.mean.resize(L);
  for (int i = 0; i < L; ++i) p.mean[i] = double(s1[i] / N);
  double total = 0;
  const auto early = early_stop_reference(L), even = even_reference(L);
  for (int r = L - 1; r >= 0; --r) {
    std::vector<double> axis(L);
    int big = 0;
    double towards_early = 0;
    for (int i = 0; i < L; ++i) {
      axis[i] = ve[i][r];
      if (std::fabs(axis[i]) > std::fabs(axis[big])) big = i;
      towards_early += axis[i] * (early[i] - even[i]);
    }
    const bool first = r == L - 1;
    if (first && towards_early != 0 ? towards_early < 0 : axis[big] < 0)
      for (auto& x : axis) x = -x;
    p.components.push_back(axis);
    p.explained_variance.push_back(std::max(va[r], 0.0));
    total += p.explained_variance.back();
  }
  for (double v : p.explained_variance) p.explained_ratio.push_back(total > 0 ? v / total : 0.0);
  return p;
}

// --- the paper's early-stop cluster --------------------------------------------------------------

double EarlyStopCounts::fraction() const {
  return sites ? double(members) / double(sites) : std::numeric_limits<double>::quiet_NaN();
}

EarlyStopCluster::EarlyStopCluster(const Pca& pca, double threshold)
    : mean_(pca.mean), threshold_(threshold) {
  if (pca.components.empty() || pca.components.front().size() != mean_.size())
    throw MetricsError("EarlyStopCluster: the PCA has no first component of its mean's length");
  axis_ = pca.components.front();
}

void EarlyStopCluster::add(const float* theta, const int64_t* position, int64_t n) {
  const size_t L = mean_.size();
  for (int64_t i = 0; i < n; ++i) {
    double score = 0;  // fixed order: the same θ row always gives the same score
    for (size_t l = 0; l < L; ++l)
      score += (double(theta[size_t(i) * L + l]) - mean_[l]) * axis_[l];
    const bool member = score > threshold_, first = position[i] == 0;
    ++counts_.sites;
    counts_.members += member;
    counts_.first_position += first;
    counts_.members_first += member && first;
  }
}

std::vector<int64_t> Summary::state() const {
  std::vector<int64_t> s{kStateVersion, layers_, count_, early_, int64_t(sums_.size())};
  for (__int128 v : sums_) {
    const auto u = static_cast<unsigned __int128>(v);
    s.push_back(static_cast<int64_t>(static_cast<uint64_t>(u >> 64)));
    s.push_back(static_cast<int64_t>(static_cast<uint64_t>(u)));
  }
  return s;
}

Summary Summary::from_state(const std::vector<int64_t>& s) {
  if (s.size() < 5 || s[0] != kStateVersion)
    throw MetricsError("Summary::from_state: not a version-1 summary state");
  if (s[1] < 1 || s[1] > 100000) throw MetricsError("Summary::from_state: bad num_layers");
  Summary out(static_cast<int>(s[1]));
  if (s[2] < 0 || s[3] < 0 || s[3] > s[2])
    throw MetricsError("Summary::from_state: bad site counts");
  if (s[4] != int64_t(out.sums_.size()) || s.size() != 5 + 2 * out.sums_.size())
    throw MetricsError("Summary::from_state: length does not match num_layers");
  out.count_ = s[2];
  out.early_ = s[3];
  for (size_t i = 0; i < out.sums_.size(); ++i) {
    const auto hi = static_cast<unsigned __int128>(static_cast<uint64_t>(s[5 + 2 * i]));
    const auto lo = static_cast<unsigned __int128>(static_cast<uint64_t>(s[6 + 2 * i]));
    out.sums_[i] = static_cast<__int128>((hi << 64) | lo);
  }
  return out;
}

bool Summary::operator==(const Summary& o) const {
  return layers_ == o.layers_ && count_ == o.count_ && early_ == o.early_ && sums_ == o.sums_;
}

}  // namespace depthscale::probe
