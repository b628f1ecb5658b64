// Per-site metrics and summaries (lib/probe/metrics) against the independent float64 reference
// (tests/reference/probe_metrics_reference.py, on the tiny models and outputs of
// tests/reference/llm_reference.py), plus hand-made cases: site selection, exact zero angles,
// BF16 hidden states, the early-stop classification, PCA, exact merge and resume.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>

#include "probe/logsumexp.hpp"
#include "probe/metrics.hpp"
#include "probe/model.hpp"
#include "probe/safetensors.hpp"
#include "probe/tests/reference_cache.hpp"

namespace depthscale::probe {
namespace {

namespace fs = std::filesystem;
using torch::Tensor;

constexpr double kPi = 3.14159265358979323846;
// FP32 model and float32 outputs against float64: model error ~1e-7–1e-6 (model_test), angles
// and CE rounded once to float32.
constexpr double kTol = 1e-5;

// Models and reference metrics, made once per version of the two scripts (reference_cache.hpp).
class MetricsReference : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    const std::string python = DEPTHSCALE_PYTHON;
    if (python.empty() || made_) return;
    dir_ = testing::cached_reference(
        DEPTHSCALE_METRICS_REFERENCE_CACHE,
        {DEPTHSCALE_LLM_REFERENCE, DEPTHSCALE_METRICS_REFERENCE}, [&](const std::string& tmp) {
          return python + " " + DEPTHSCALE_LLM_REFERENCE + " make " + tmp + " > /dev/null && " +
                 python + " " + DEPTHSCALE_METRICS_REFERENCE + " metrics " + tmp;
        });
    made_ = !dir_.empty();
  }

 protected:
  void SetUp() override {
    if (std::string(DEPTHSCALE_PYTHON).empty())
      GTEST_SKIP() << "DEPTHSCALE_PYTHON is empty (no python3 with torch found by CMake)";
    ASSERT_TRUE(made_) << "llm_reference.py make / probe_metrics_reference.py metrics failed";
  }
  static std::string model(const std::string& name) { return (dir_ / name).string(); }
  static SafetensorsFile inputs(const std::string& name) {
    return SafetensorsFile((dir_ / name / "reference.safetensors").string());
  }
  // The reference with hidden[L] before the final norm (last_block) or, `hf`, after it as the
  // study's scripts read Hugging Face's hidden_states.
  static SafetensorsFile want(const std::string& name, bool hf = false) {
    return SafetensorsFile(
        (dir_ / name / (hf ? "metrics_reference_hf.safetensors" : "metrics_reference.safetensors"))
            .string());
  }

  static inline fs::path dir_;
  static inline bool made_ = false;
};

// max |got − want| / max |want| (want float64).
double rel_err(const Tensor& got, const Tensor& want) {
  EXPECT_EQ(got.sizes(), want.sizes());
  if (want.numel() == 0) return 0;
  auto g = got.to(torch::kFloat64);
  return ((g - want).abs().max() / want.abs().max().clamp_min(1e-300)).item<double>();
}

double rel_err(const std::vector<double>& got, const Tensor& want) {
  return rel_err(torch::tensor(got, torch::kFloat64), want);
}

const Tensor& field(const SiteMetrics& m, Metric k) {
  return m.of(k);
}
const Metric kAll[] = {Metric::norms,        Metric::theta,         Metric::theta_dh,
                       Metric::angle_to_end, Metric::cross_entropy, Metric::proj_s};

MetricsOptions last_block() {
  MetricsOptions o;
  o.last_hidden_after_final_norm = false;
  return o;
}

class Case : public MetricsReference, public ::testing::WithParamInterface<std::string> {};

// Both conventions for hidden[L], column by column: the default against an implementation of the
// study's script (Hugging Face's hidden_states, the last entry after the final norm), the other
// against the same script on the raw last block output.
TEST_P(Case, SiteMetricsMatchReference) {
  for (bool hf : {true, false}) {
    auto m = CausalLM::load(model(GetParam()));
    auto in = inputs(GetParam());
    auto r = want(GetParam(), hf);
    auto got = compute_site_metrics(*m, in.load("input_ids"), in.load("attention_mask"),
                                    hf ? MetricsOptions{} : last_block());
    EXPECT_EQ(got.num_layers, m->num_layers());
    for (const char* k : {"doc", "position", "token", "next_token"}) {
      const Tensor& t = std::string(k) == "doc"        ? got.doc
                        : std::string(k) == "position" ? got.position
                        : std::string(k) == "token"    ? got.token
                                                       : got.next_token;
      EXPECT_EQ(t.scalar_type(), torch::kInt64) << k;
      EXPECT_TRUE(torch::equal(t, r.load(k))) << k;
    }
    std::cout << "[ " << GetParam() << (hf ? " final_norm" : " last_block")
              << " ] N = " << got.size() << ", worst column rel err:";
    for (auto k : kAll) {
      const Tensor& t = field(got, k);
      EXPECT_EQ(t.scalar_type(), torch::kFloat32) << metric_name(k);
      EXPECT_EQ(t.size(1), metric_columns(k, m->num_layers())) << metric_name(k);
      const Tensor w = r.load(metric_name(k));
      double worst = 0;
      for (int64_t c = 0; c < t.size(1); ++c) {
        const double e = rel_err(t.select(1, c), w.select(1, c));
        worst = std::max(worst, e);
        EXPECT_LT(e, kTol) << metric_name(k) << " column " << c << (hf ? " (final_norm)" : "");
      }
      std::cout << " " << metric_name(k) << " " << worst;
    }
    std::cout << "\n";
  }
}

// The switch changes exactly the columns that read hidden[L]: theta[:, L−1], theta_dh[:, L−2],
// angle_to_end, proj_s, norms[:, L]; cross-entropy and every other column are bit-identical.
TEST_P(Case, ConventionChangesOnlyTheColumnsOfTheLastState) {
  auto m = CausalLM::load(model(GetParam()));
  auto in = inputs(GetParam());
  auto ids = in.load("input_ids"), mask = in.load("attention_mask");
  auto hf = compute_site_metrics(*m, ids, mask);
  auto raw = compute_site_metrics(*m, ids, mask, last_block());
  const int L = m->num_layers();
  EXPECT_TRUE(torch::equal(hf.cross_entropy, raw.cross_entropy));
  auto same = [&](const Tensor& a, const Tensor& b, int64_t c) {
    return torch::equal(a.select(1, c), b.select(1, c));
  };
  for (int c = 0; c < L; ++c) {
    EXPECT_EQ(same(hf.theta, raw.theta, c), c != L - 1) << "theta " << c;
    EXPECT_FALSE(same(hf.angle_to_end, raw.angle_to_end, c)) << "angle_to_end " << c;
  }
  for (int c = 0; c + 1 < L; ++c)
    EXPECT_EQ(same(hf.theta_dh, raw.theta_dh, c), c != L - 2) << "theta_dh " << c;
  for (int c = 0; c <= L; ++c) EXPECT_EQ(same(hf.norms, raw.norms, c), c != L) << "norms " << c;
  EXPECT_TRUE(same(hf.proj_s, raw.proj_s, 0));  // h_0 − h_0 = 0 whatever h_L is
  EXPECT_FALSE(same(hf.proj_s, raw.proj_s, 1));
}

// The paper's early-stop statistic: PC1 scores of θ above a threshold, cross-tabulated with
// position 0, against the reference's numpy PCA (same sign convention) at two thresholds.
TEST_P(Case, EarlyStopClusterMatchesReference) {
  auto m = CausalLM::load(model(GetParam()));
  auto in = inputs(GetParam());
  auto r = want(GetParam(), true);
  auto got = compute_site_metrics(*m, in.load("input_ids"), in.load("attention_mask"));
  Summary s(m->num_layers());
  s.add(got);
  const Pca p = s.pca();
  auto theta = got.theta.contiguous();
  auto pos = got.position.contiguous();
  // Scores near a threshold could fall either side of it with float32 θ: the reference's scores
  // tell how close the nearest is.
  auto scores = r.load("pc1_score");
  for (const char* t : {"0", "0.5"}) {
    const double threshold = std::stod(t);
    EarlyStopCluster c(p, threshold);
    c.add(theta.data_ptr<float>(), pos.data_ptr<int64_t>(), got.size());
    auto want_counts = r.load(std::string("early_stop_counts.") + t);
    const double margin = (scores - threshold).abs().min().item<double>();
    ASSERT_GT(margin, 1e-4) << "a reference score lies on the threshold " << t;
    EXPECT_EQ(c.counts().sites, want_counts[0].item<int64_t>());
    EXPECT_EQ(c.counts().members, want_counts[1].item<int64_t>()) << "threshold " << t;
    EXPECT_EQ(c.counts().first_position, want_counts[2].item<int64_t>());
    EXPECT_EQ(c.counts().members_first, want_counts[3].item<int64_t>()) << "threshold " << t;
  }
}

// bf16 angles: the float64 cosine rounded to bf16, then the angle: the reference's definition
// exactly, except where a cosine lies within float rounding of a bf16 boundary; and within a few
// bf16 steps of torch's own bf16 cosine_similarity on bf16-rounded states (the authors' path).
TEST_P(Case, Bf16AnglesMatchReference) {
  auto m = CausalLM::load(model(GetParam()));
  auto in = inputs(GetParam());
  auto r = want(GetParam(), true);
  MetricsOptions o;
  o.bf16_angles = true;
  auto got = compute_site_metrics(*m, in.load("input_ids"), in.load("attention_mask"), o);
  for (const char* k : {"theta", "angle_to_end", "theta_dh"}) {
    auto g = field(got, k == std::string("theta")          ? Metric::theta
                        : k == std::string("angle_to_end") ? Metric::angle_to_end
                                                           : Metric::theta_dh)
                 .to(torch::kFloat64);
    auto w = r.load(std::string(k) + "_bf16");
    // every value is a bf16 number
    EXPECT_TRUE(torch::equal(g, g.to(torch::kBFloat16).to(torch::kFloat64))) << k;
    const double exact = (g == w).to(torch::kFloat64).mean().item<double>();
    const double worst = (g - w).abs().max().item<double>();
    std::cout << "[ " << GetParam() << " ] bf16 " << k << ": " << exact * 100 << "% exact, worst "
              << worst << "\n";
    EXPECT_GT(exact, 0.95) << k;
    EXPECT_LE(worst, 0.0079) << k;  // two bf16 steps at θ < 2
  }
  auto torch_path = r.load("theta_bf16_torch");
  const double dev = (got.theta.to(torch::kFloat64) - torch_path).abs().max().item<double>();
  std::cout << "[ " << GetParam() << " ] vs torch bf16 cosine_similarity: worst " << dev << "\n";
  EXPECT_LT(dev, 0.035);
}

// Skipping cross_entropy leaves it undefined (no readouts run) and changes nothing else; a
// Summary takes such batches.
TEST_P(Case, WithoutCrossEntropy) {
  auto m = CausalLM::load(model(GetParam()));
  auto in = inputs(GetParam());
  auto ids = in.load("input_ids"), mask = in.load("attention_mask");
  MetricsOptions o;
  o.cross_entropy = false;
  auto got = compute_site_metrics(*m, ids, mask, o);
  auto all = compute_site_metrics(*m, ids, mask);
  EXPECT_FALSE(got.cross_entropy.defined());
  for (auto k : kAll) {
    if (k != Metric::cross_entropy) {
      EXPECT_TRUE(torch::equal(field(got, k), field(all, k)));
    }
  }
  Summary s(m->num_layers()), t(m->num_layers());
  s.add(got);
  t.add(all);
  EXPECT_EQ(s.mean(Metric::theta), t.mean(Metric::theta));
  EXPECT_EQ(s.count(), t.count());
}

// Tiny chunks (one site per gather, one document per readout group, one row per own-readout
// chunk) give the same numbers as the defaults.
TEST_P(Case, ChunkingDoesNotChangeResults) {
  auto m = CausalLM::load(model(GetParam()));
  auto in = inputs(GetParam());
  auto ids = in.load("input_ids"), mask = in.load("attention_mask");
  auto a = compute_site_metrics(*m, ids, mask);
  MetricsOptions tiny;
  tiny.max_logits = 1;
  tiny.max_gather = 1;
  auto b = compute_site_metrics(*m, ids, mask, tiny);
  for (auto k : kAll)
    EXPECT_LT(rel_err(field(b, k), field(a, k).to(torch::kFloat64)), 1e-6) << metric_name(k);
}

// The tiled readout (the default) against the former path that held the logits and used
// LibTorch's logsumexp: the same CE to float round-off, in both conventions, with tiny groups too.
TEST_P(Case, FusedCrossEntropyMatchesFormerPath) {
  auto m = CausalLM::load(model(GetParam()));
  auto in = inputs(GetParam());
  auto ids = in.load("input_ids"), mask = in.load("attention_mask");
  for (const bool tiny : {false, true}) {
    MetricsOptions fused, former;
    former.fused_cross_entropy = false;
    if (tiny) fused.max_logits = former.max_logits = 1;
    auto a = compute_site_metrics(*m, ids, mask, fused);
    auto b = compute_site_metrics(*m, ids, mask, former);
    EXPECT_LT(rel_err(a.cross_entropy, b.cross_entropy.to(torch::kFloat64)), 1e-6);
    for (auto k : kAll)
      EXPECT_TRUE(k == Metric::cross_entropy || torch::equal(field(a, k), field(b, k)));
  }
}

TEST_P(Case, SummaryMatchesReference) {
  auto m = CausalLM::load(model(GetParam()));
  auto in = inputs(GetParam());
  auto r = want(GetParam(), true);
  const int L = m->num_layers();
  Summary s(L);
  s.add(compute_site_metrics(*m, in.load("input_ids"), in.load("attention_mask")));
  EXPECT_EQ(s.count(), r.load("doc").size(0));
  for (auto k : kAll)
    EXPECT_LT(rel_err(s.mean(k), r.load(std::string("mean.") + metric_name(k))), kTol)
        << metric_name(k);
  const double mid = r.load("theta_middle_mean").item<double>();
  if (L < 3) {
    EXPECT_TRUE(std::isnan(s.theta_middle_mean()));
  } else {
    EXPECT_NEAR(s.theta_middle_mean(), mid, kTol * mid);
  }
  EXPECT_DOUBLE_EQ(s.reference_early_stop_fraction(),
                   r.load("reference_early_stop_fraction").item<double>());
  EXPECT_LT(rel_err(early_stop_reference(L), r.load("early_stop_reference")), 1e-15);
  EXPECT_LT(rel_err(even_reference(L), r.load("even_reference")), 1e-15);
  auto p = s.pca();
  EXPECT_LT(rel_err(p.mean, r.load("pca.mean")), kTol);
  EXPECT_LT(rel_err(p.explained_variance, r.load("pca.explained_variance")), 1e-4);
  EXPECT_LT(rel_err(p.explained_ratio, r.load("pca.explained_ratio")), 1e-4);
  auto comps = r.load("pca.components");
  // Each axis up to the reference's accuracy; only well-separated eigenvalues pin an axis.
  for (int k = 0; k < L; ++k)
    EXPECT_LT(rel_err(p.components[k], comps[k]), 1e-3) << "component " << k;
}

INSTANTIATE_TEST_SUITE_P(Models, Case,
                         ::testing::Values("neox_parallel", "neox_serial", "qwen2",
                                           "qwen2_tied_bf16", "opt", "opt_f16"));

// The reference batch has documents of 11, 6, 1 and 9 tokens, right-padded to 11: 10 + 5 + 0 + 8
// sites; the 1-token document has none.
TEST_F(MetricsReference, ValidSitesWithRightPaddingAndOneTokenDocument) {
  auto m = CausalLM::load(model("neox_serial"));
  auto in = inputs("neox_serial");
  auto ids = in.load("input_ids"), mask = in.load("attention_mask");
  auto got = compute_site_metrics(*m, ids, mask);
  ASSERT_EQ(got.size(), 23);
  const int64_t len[] = {11, 6, 1, 9};
  int64_t i = 0;
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t t = 0; t + 1 < len[b]; ++t, ++i) {
      EXPECT_EQ(got.doc[i].item<int64_t>(), b);
      EXPECT_EQ(got.position[i].item<int64_t>(), t);
      EXPECT_EQ(got.token[i].item<int64_t>(), ids[b][t].item<int64_t>());
      EXPECT_EQ(got.next_token[i].item<int64_t>(), ids[b][t + 1].item<int64_t>());
    }
  EXPECT_EQ(i, 23);
  // Only 1-token documents: no sites, every tensor empty with its column count.
  auto ones = torch::zeros_like(mask);
  ones.select(1, 0).fill_(1);
  auto none = compute_site_metrics(*m, ids, ones);
  EXPECT_EQ(none.size(), 0);
  for (auto k : kAll) {
    EXPECT_EQ(field(none, k).size(0), 0);
    EXPECT_EQ(field(none, k).size(1), metric_columns(k, m->num_layers()));
  }
  Summary s(m->num_layers());
  s.add(none);
  EXPECT_EQ(s.count(), 0);
  EXPECT_TRUE(std::isnan(s.mean(Metric::theta)[0]));
  EXPECT_TRUE(std::isnan(s.reference_early_stop_fraction()));
}

// Geometry needs no model and no right padding: a site needs its token and the next to be real.
TEST(Sites, SelectionFromAnyMask) {
  const int64_t B = 3, T = 4, d = 5;
  auto ids = torch::arange(B * T, torch::kInt64).view({B, T});
  auto mask = torch::tensor({1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1}, torch::kInt64).view({B, T});
  std::vector<Tensor> hidden;
  for (int l = 0; l < 3; ++l) hidden.push_back(torch::randn({B, T, d}));
  auto g = compute_site_geometry(hidden, ids, mask);
  EXPECT_TRUE(torch::equal(g.doc, torch::tensor({0, 0, 1, 2, 2, 2}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(g.position, torch::tensor({0, 1, 2, 0, 1, 2}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(g.next_token, g.token + 1));
  EXPECT_FALSE(g.cross_entropy.defined());
  // T = 1: no prediction sites at all.
  auto g1 = compute_site_geometry({hidden[0].narrow(1, 0, 1), hidden[1].narrow(1, 0, 1)},
                                  ids.narrow(1, 0, 1), mask.narrow(1, 0, 1));
  EXPECT_EQ(g1.size(), 0);
  EXPECT_EQ(g1.theta.sizes(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(g1.theta_dh.sizes(), (std::vector<int64_t>{0, 0}));
}

// Writes a GPT-NeoX model whose blocks are exactly the identity: every layer norm has gain and
// bias 0, so attention and MLP add exactly 0.
std::string identity_model() {
  const auto dir = fs::temp_directory_path() / ("ds-metrics-identity-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "config.json")
      << R"({"model_type": "gpt_neox", "hidden_size": 16, "num_hidden_layers": 4,
             "num_attention_heads": 2, "intermediate_size": 32, "vocab_size": 40,
             "rotary_pct": 0.25, "use_parallel_residual": false})";
  std::map<std::string, Tensor> w;
  for (const auto& s : expected_weights(read_config(dir.string())))
    w[s.name] = (s.name == "gpt_neox.embed_in.weight" || s.name == "embed_out.weight" ||
                 s.name.find("final_layer_norm") != std::string::npos)
                    ? torch::randn(s.shape)
                    : torch::zeros(s.shape);
  write_safetensors((dir / "model.safetensors").string(), w);
  return dir.string();
}

// Identical consecutive states: θ and the angle to the end are exactly 0 (not ~1e-8), Δh = 0 has
// no direction (π/2 by definition), proj_s is 0/(0 + 1e-10) = 0, nothing is NaN; every readout
// sees the same state, so every CE column is the same.
TEST(Angles, IdenticalStatesGiveExactlyZero) {
  const auto dir = identity_model();
  auto m = CausalLM::load(dir);
  auto ids = torch::randint(0, 40, {3, 7}, torch::kInt64);
  auto mask = torch::ones({3, 7}, torch::kInt64);
  mask[1].narrow(0, 4, 3).fill_(0);
  // The raw block outputs are the identical states (the final norm would rescale the last).
  auto got = compute_site_metrics(*m, ids, mask, last_block());
  ASSERT_EQ(got.size(), 6 + 3 + 6);
  for (auto k : kAll)
    EXPECT_TRUE(torch::isfinite(field(got, k)).all().item<bool>()) << metric_name(k);
  EXPECT_EQ(got.theta.abs().max().item<float>(), 0.0f);
  EXPECT_EQ(got.angle_to_end.abs().max().item<float>(), 0.0f);
  EXPECT_EQ(got.proj_s.abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(torch::all(got.theta_dh == float(kPi / 2)).item<bool>());
  EXPECT_TRUE(
      torch::allclose(got.norms, got.norms.select(1, 0).unsqueeze(1).expand_as(got.norms), 0, 0));
  auto ce = got.cross_entropy;
  EXPECT_LT((ce - ce.select(1, 3).unsqueeze(1)).abs().max().item<float>(), 1e-5);
  fs::remove_all(dir);

  // The same directly on hidden states, of random scales: a = b gives 0 bit-exactly.
  auto h = torch::randn({2, 5, 33}, torch::kFloat64) * torch::rand({2, 5, 1}) * 1e3;
  auto g = compute_site_geometry({h, h.clone(), h * 2, h * 2}, torch::zeros({2, 5}, torch::kInt64),
                                 torch::ones({2, 5}));
  EXPECT_EQ(g.theta.abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(torch::isfinite(g.theta_dh).all().item<bool>());
}

// BF16 hidden states whose consecutive angles are 1e-3–3e-2 rad: a BF16 cosine rounds to 1 (or
// 1 − 2^−8) and cannot see them; the metrics are computed from the upcast values and agree with
// float64 on the same BF16 numbers to float32 rounding.
TEST(Angles, SmallAnglesFromBf16StatesResolvedInFloat64) {
  torch::manual_seed(7);
  const int64_t B = 2, T = 6, d = 256;
  std::vector<Tensor> hidden{torch::randn({B, T, d}).to(torch::kBFloat16)};
  for (double step : {3e-2, 1e-2, 3e-3}) {
    auto prev = hidden.back().to(torch::kFloat32);
    auto next =
        prev + step * torch::randn({B, T, d}) / std::sqrt(double(d)) * prev.norm(2, -1, true);
    hidden.push_back(next.to(torch::kBFloat16));
  }
  auto ids = torch::zeros({B, T}, torch::kInt64);
  auto g = compute_site_geometry(hidden, ids, torch::ones({B, T}));
  EXPECT_EQ(g.theta.scalar_type(), torch::kFloat32);
  double worst = 0, bf16_worst = 0;
  for (int l = 0; l < 3; ++l) {
    auto a = hidden[l].to(torch::kFloat64).narrow(1, 0, T - 1).reshape({-1, d});
    auto b = hidden[l + 1].to(torch::kFloat64).narrow(1, 0, T - 1).reshape({-1, d});
    auto want = ((a * b).sum(-1) / (a.norm(2, -1) * b.norm(2, -1))).clamp(-1, 1).acos();
    auto got = g.theta.select(1, l).to(torch::kFloat64);
    worst = std::max(worst, ((got - want).abs() / want).max().item<double>());
    auto a16 = hidden[l].narrow(1, 0, T - 1).reshape({-1, d});
    auto b16 = hidden[l + 1].narrow(1, 0, T - 1).reshape({-1, d});
    auto cos16 = torch::cosine_similarity(a16, b16, -1);  // BF16 throughout
    auto naive = cos16.clamp(-1, 1).to(torch::kFloat64).acos();
    bf16_worst = std::max(bf16_worst, ((naive - want).abs() / want).max().item<double>());
    EXPECT_GT(want.min().item<double>(), 5e-4);
  }
  std::cout << "θ from BF16 states: rel err " << worst << " (BF16 cosine: " << bf16_worst << ")\n";
  EXPECT_LT(worst, 1e-6);
  EXPECT_GT(bf16_worst, 0.3);  // the failure the upcast avoids
}

// The bf16 mode's quantised small angles: cosines round to 1 − k·2^−8 (or 1), so θ takes only
// 0 (below ~0.0625 rad), arccos(1 − 2^−8) ≈ 0.0884, arccos(1 − 2^−7) ≈ 0.125, ... as the
// authors' arrays do; the default resolves them.
TEST(Angles, Bf16ModeQuantisesSmallAnglesAsTheAuthorsArrays) {
  const int64_t d = 2;
  const std::vector<double> angles{0.03, 0.05, 0.07, 0.1, 0.13, 0.2};
  // Layer 0 at angle 0, layer 1 at angle a per site: θ[:, 0] = a.
  const int64_t N = int64_t(angles.size());
  auto h0 = torch::zeros({1, N + 1, d}, torch::kFloat64), h1 = h0.clone();
  for (int64_t i = 0; i < N; ++i) {
    h0[0][i][0] = 1.0;
    h1[0][i][0] = std::cos(angles[size_t(i)]);
    h1[0][i][1] = std::sin(angles[size_t(i)]);
  }
  auto ids = torch::zeros({1, N + 1}, torch::kInt64), mask = torch::ones({1, N + 1});
  MetricsOptions o;
  o.bf16_angles = true;
  auto q = compute_site_geometry({h0, h1}, ids, mask, o).theta.select(1, 0);
  auto exact = compute_site_geometry({h0, h1}, ids, mask).theta.select(1, 0);
  auto bf = [](double x) { return double(c10::BFloat16(float(x))); };
  const double want[] = {0.0,
                         0.0,
                         bf(std::acos(1 - std::ldexp(1.0, -8))),
                         bf(std::acos(1 - std::ldexp(1.0, -8))),
                         bf(std::acos(1 - std::ldexp(1.0, -7))),
                         bf(std::acos(double(c10::BFloat16(float(std::cos(0.2))))))};
  for (int64_t i = 0; i < N; ++i) {
    EXPECT_EQ(q[i].item<double>(), float(want[i])) << "θ = " << angles[size_t(i)];
    EXPECT_NEAR(exact[i].item<double>(), angles[size_t(i)], 1e-6);
  }
  EXPECT_NEAR(want[2], 0.0884, 5e-4);
  EXPECT_NEAR(want[4], 0.125, 5e-4);
}

// A BF16 model: outputs are float32, θ agrees with float64 arithmetic on its own BF16 hidden
// states to float32 rounding, and all metrics stay near the float64 reference (BF16 compute).
TEST_F(MetricsReference, Bf16ModelGivesFp32Angles) {
  auto m = CausalLM::load(model("qwen2_tied_bf16"), torch::kBFloat16);
  auto in = inputs("qwen2_tied_bf16");
  auto r = want("qwen2_tied_bf16");
  auto ids = in.load("input_ids"), mask = in.load("attention_mask");
  auto fwd = m->forward(ids, mask, false);
  ASSERT_EQ(fwd.hidden[0].scalar_type(), torch::kBFloat16);
  auto got = compute_site_metrics(*m, fwd.hidden, ids, mask, last_block());
  for (auto k : kAll) EXPECT_EQ(field(got, k).scalar_type(), torch::kFloat32) << metric_name(k);
  const int L = m->num_layers();
  const int64_t T = ids.size(1);
  auto flat = got.doc * T + got.position;
  double own = 0;
  for (int l = 0; l < L; ++l) {
    auto a = fwd.hidden[l]
                 .reshape({-1, fwd.hidden[l].size(2)})
                 .index_select(0, flat)
                 .to(torch::kFloat64);
    auto b = fwd.hidden[l + 1].reshape({-1, a.size(1)}).index_select(0, flat).to(torch::kFloat64);
    auto want_l = ((a * b).sum(-1) / (a.norm(2, -1) * b.norm(2, -1))).clamp(-1, 1).acos();
    own = std::max(own, ((got.theta.select(1, l) - want_l).abs() / want_l).max().item<double>());
  }
  EXPECT_LT(own, 1e-6);
  std::cout << "[ qwen2_tied_bf16 bf16 ] vs float64 reference:";
  for (auto k : kAll) {
    const double e = rel_err(field(got, k), r.load(metric_name(k)));
    std::cout << " " << metric_name(k) << " " << e;
    EXPECT_LT(e, 0.02) << metric_name(k);  // measured ~3e-3
  }
  std::cout << "\n";
}

// The readout's polynomial exp against std::exp on [−87, 0] (and 0 below), and its running
// logsumexp over tiles of a vocabulary that no tile width divides, against float64.
TEST(Logsumexp, PolynomialExpAndTiledLogsumexp) {
  double worst = 0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = -87.0f * float(i) / 200000.0f;
    const double want = std::exp(double(x));
    worst = std::max(worst, std::fabs(double(logsumexp_exp(x)) - want) / want);
  }
  EXPECT_LT(worst, 2e-7);
  EXPECT_EQ(logsumexp_exp(-90.0f), 0.0f);
  EXPECT_EQ(logsumexp_exp(0.0f), 1.0f);

  const int64_t n = 37, V = 5003;
  auto z = torch::randn({n, V}, torch::kFloat32) * 6.0f;
  z.select(1, 17).fill_(40.0f);  // a dominant logit in the middle of a tile
  auto target = torch::randint(0, V, {n}, torch::kInt64);
  for (const int64_t tile : {int64_t(64), int64_t(1000), V}) {
    std::vector<float> mx(n, -std::numeric_limits<float>::infinity()), picked(n, 0);
    std::vector<double> sum(n, 0);
    for (int64_t v0 = 0; v0 < V; v0 += tile) {
      const int64_t c = std::min(tile, V - v0);
      auto t = z.narrow(1, v0, c).contiguous();
      online_logsumexp(t.data_ptr<float>(), n, c, c, v0, target.data_ptr<int64_t>(), mx.data(),
                       sum.data(), picked.data());
    }
    auto z64 = z.to(torch::kFloat64);
    auto want = z64.logsumexp(-1) - z64.gather(1, target.unsqueeze(1)).squeeze(1);
    auto got = torch::empty({n}, torch::kFloat64);
    for (int64_t i = 0; i < n; ++i)
      got[i] = double(mx[size_t(i)]) + std::log(sum[size_t(i)]) - double(picked[size_t(i)]);
    EXPECT_LT(((got - want).abs() / want.abs().clamp_min(1.0)).max().item<double>(), 1e-6)
        << "tile " << tile;
  }
}

// --- reference trajectories and the early-stop classification ------------------------------------

TEST(EarlyStop, ReferencesForTwentyFourLayersAreTheSpecs) {
  std::vector<double> early{kPi / 2}, even{kPi / 2};
  for (int i = 0; i < 6; ++i) early.push_back(0.45);
  for (int i = 0; i < 16; ++i) early.push_back(0.0);
  for (int i = 0; i < 22; ++i) even.push_back(0.45);
  early.push_back(kPi / 2);
  even.push_back(kPi / 2);
  EXPECT_EQ(early_stop_reference(24), early);
  EXPECT_EQ(even_reference(24), even);
}

TEST(EarlyStop, ReferencesScaleTheSplitWithDepth) {
  // k = round(6 (L − 2) / 22) middle entries at 0.45, then zeros.
  const std::map<int, int> k{{3, 0}, {6, 1}, {12, 3}, {16, 4}, {24, 6}, {32, 8}, {36, 9}, {48, 13}};
  for (auto [L, n] : k) {
    auto e = early_stop_reference(L);
    auto v = even_reference(L);
    ASSERT_EQ(int(e.size()), L);
    EXPECT_EQ(e.front(), kPi / 2);
    EXPECT_EQ(e.back(), kPi / 2);
    EXPECT_EQ(v.front(), kPi / 2);
    EXPECT_EQ(v.back(), kPi / 2);
    for (int i = 1; i + 1 < L; ++i) {
      EXPECT_EQ(v[i], 0.45) << L;
      EXPECT_EQ(e[i], i <= n ? 0.45 : 0.0) << "L = " << L << ", i = " << i;
    }
  }
  EXPECT_EQ(early_stop_reference(2), even_reference(2));
  EXPECT_EQ(early_stop_reference(1), std::vector<double>{kPi / 2});
  const float t2[] = {0.f, 0.f};
  EXPECT_FALSE(is_nearer_early_reference(t2, 2));  // identical references: ties go to even
}

// Hand-made θ trajectories for L = 24: the classification depends only on the 16 entries where
// the references differ (0 against 0.45), so the boundary is their mean at 0.225.
TEST(EarlyStop, HandMadeTrajectories) {
  const int L = 24;
  auto as_float = [](const std::vector<double>& v) {
    return std::vector<float>(v.begin(), v.end());
  };
  auto early = as_float(early_stop_reference(L)), even = as_float(even_reference(L));
  EXPECT_TRUE(is_nearer_early_reference(early.data(), L));
  EXPECT_FALSE(is_nearer_early_reference(even.data(), L));
  auto with_tail = [&](float tail) {
    auto t = even;
    for (int i = 7; i < 23; ++i) t[i] = tail;
    return t;
  };
  EXPECT_TRUE(is_nearer_early_reference(with_tail(0.2f).data(), L));
  EXPECT_FALSE(is_nearer_early_reference(with_tail(0.25f).data(), L));
  EXPECT_TRUE(is_nearer_early_reference(with_tail(0.2249f).data(), L));
  EXPECT_FALSE(is_nearer_early_reference(with_tail(0.2251f).data(), L));
  // First layers far from both and a steep decay in the middle: still early stop.
  std::vector<float> decay(L);
  for (int i = 0; i < L; ++i) decay[i] = float(1.2 * std::exp(-0.4 * i));
  decay.back() = 1.4f;
  EXPECT_TRUE(is_nearer_early_reference(decay.data(), L));

  // Through Summary: 3 early-stop sites out of 5.
  SiteMetrics m;
  m.num_layers = L;
  auto rows = torch::stack({torch::tensor(early), torch::tensor(even), torch::tensor(decay),
                            torch::tensor(with_tail(0.2f)), torch::tensor(with_tail(0.3f))});
  const int64_t N = 5;
  m.doc = m.position = m.token = m.next_token = torch::zeros({N}, torch::kInt64);
  m.theta = rows;
  m.theta_dh = torch::zeros({N, L - 1});
  m.norms = m.proj_s = torch::zeros({N, L + 1});
  m.angle_to_end = m.cross_entropy = torch::zeros({N, L});
  Summary s(L);
  s.add(m);
  EXPECT_EQ(s.reference_early_stop_count(), 3);
  EXPECT_DOUBLE_EQ(s.reference_early_stop_fraction(), 0.6);
}

// --- Summary: PCA, merge, resume ----------------------------------------------------------------

// Random metrics of a batch (values of the right kinds, not from a model).
SiteMetrics random_batch(int L, int64_t N, uint64_t seed) {
  torch::manual_seed(seed);
  SiteMetrics m;
  m.num_layers = L;
  m.doc = torch::arange(N, torch::kInt64);
  m.position = m.token = m.next_token = torch::zeros({N}, torch::kInt64);
  m.theta = torch::rand({N, L}) * 1.5f;
  m.theta_dh = torch::rand({N, L - 1}) * 3.0f;
  m.angle_to_end = torch::rand({N, L}) * 3.0f;
  m.norms = torch::rand({N, L + 1}) * 1000.0f;
  m.cross_entropy = torch::rand({N, L}) * 12.0f;
  m.proj_s = torch::randn({N, L + 1});
  return m;
}

TEST(Summary, PcaRecoversPlantedDirection) {
  const int L = 12;
  const int64_t N = 4000;
  torch::manual_seed(3);
  auto u = torch::randn({L}, torch::kFloat64);
  u /= u.norm();
  auto base = torch::linspace(1.4, 0.2, L, torch::kFloat64);
  auto theta = base + 0.3 * torch::randn({N, 1}, torch::kFloat64) * u +
               0.01 * torch::randn({N, L}, torch::kFloat64);
  auto m = random_batch(L, N, 1);
  m.theta = theta.to(torch::kFloat32);
  Summary s(L);
  s.add(m);
  auto p = s.pca();
  ASSERT_EQ(int(p.components.size()), L);
  auto c0 = torch::tensor(p.components[0], torch::kFloat64);
  const double align = (c0 * u).sum().item<double>();
  std::cout << "planted axis: |cos| = " << std::fabs(align) << ", explained "
            << p.explained_ratio[0] << "\n";
  EXPECT_GT(std::fabs(align), 0.999);
  EXPECT_GT(p.explained_ratio[0], 0.98);
  EXPECT_NEAR(p.explained_variance[0], 0.09 + 1e-4, 0.01);
  // Sign convention: PC1 towards the early-stop trajectory, the others largest |entry| positive;
  // axes orthonormal; ratios sum to 1, descending.
  auto towards = torch::tensor(early_stop_reference(L)) - torch::tensor(even_reference(L));
  EXPECT_GT((c0 * towards).sum().item<double>(), 0);
  for (int k = 1; k < L; ++k) {
    auto ck = torch::tensor(p.components[k], torch::kFloat64);
    EXPECT_GT(ck.index({ck.abs().argmax()}).item<double>(), 0) << k;
  }
  double total = 0;
  for (int k = 0; k < L; ++k) {
    total += p.explained_ratio[k];
    if (k) {
      EXPECT_LE(p.explained_variance[k], p.explained_variance[k - 1]);
    }
    for (int j = 0; j < L; ++j) {
      auto cj = torch::tensor(p.components[j], torch::kFloat64);
      auto ck = torch::tensor(p.components[k], torch::kFloat64);
      EXPECT_NEAR((cj * ck).sum().item<double>(), j == k ? 1.0 : 0.0, 1e-12);
    }
  }
  EXPECT_NEAR(total, 1.0, 1e-12);
  for (int i = 0; i < L; ++i)
    EXPECT_NEAR(p.mean[i], theta.select(1, i).mean().item<double>(), 1e-6);
  EXPECT_THROW(Summary(L).pca(), MetricsError);
}

TEST(Summary, MeansAreTheColumnMeans) {
  const int L = 5;
  auto a = random_batch(L, 300, 11), b = random_batch(L, 200, 12);
  Summary s(L);
  s.add(a);
  s.add(b);
  for (auto k : kAll) {
    auto all = torch::cat({field(a, k), field(b, k)}).to(torch::kFloat64);
    auto want = all.mean(0);
    EXPECT_LT(rel_err(s.mean(k), want), 1e-14) << metric_name(k);
  }
  auto th = torch::cat({a.theta, b.theta}).to(torch::kFloat64);
  EXPECT_NEAR(s.theta_middle_mean(), th.narrow(1, 1, L - 2).mean().item<double>(), 1e-14);
}

// Per-rank summaries merged in any grouping and order equal the summary of one rank that added
// every batch, bit for bit; so does a summary resumed from state().
TEST(Summary, MergeAndResumeAreExact) {
  const int L = 7;
  std::vector<SiteMetrics> batches;
  for (int i = 0; i < 6; ++i) batches.push_back(random_batch(L, 50 + 37 * i, 100 + i));
  Summary whole(L);
  for (const auto& b : batches) whole.add(b);
  Summary first(L), second(L);
  for (int i = 0; i < 3; ++i) first.add(batches[i]);
  for (int i = 3; i < 6; ++i) second.add(batches[i]);
  Summary ab = first;
  ab.merge(second);
  Summary ba = second;
  ba.merge(first);
  EXPECT_EQ(ab.state(), whole.state());
  EXPECT_EQ(ba.state(), whole.state());
  // Interleaved, one summary per batch, merged back to front.
  Summary odd(L), even(L);
  for (int i = 0; i < 6; ++i) (i % 2 ? odd : even).add(batches[5 - i]);
  Summary acc(L);
  acc.merge(odd);
  acc.merge(even);
  EXPECT_TRUE(acc == whole);
  for (auto k : kAll) EXPECT_EQ(acc.mean(k), whole.mean(k)) << metric_name(k);
  EXPECT_EQ(acc.pca().explained_variance, whole.pca().explained_variance);

  // Resume: stop after 2 batches, restore from the state, continue.
  Summary part(L);
  for (int i = 0; i < 2; ++i) part.add(batches[i]);
  Summary resumed = Summary::from_state(part.state());
  EXPECT_TRUE(resumed == part);
  for (int i = 2; i < 6; ++i) resumed.add(batches[i]);
  EXPECT_EQ(resumed.state(), whole.state());
  EXPECT_EQ(resumed.count(), whole.count());
  EXPECT_EQ(resumed.reference_early_stop_count(), whole.reference_early_stop_count());
}

TEST(Summary, RejectsBadInputAndState) {
  const int L = 4;
  Summary s(L);
  EXPECT_THROW(s.add(random_batch(L + 1, 3, 1)), MetricsError);
  auto no_theta = random_batch(L, 3, 1);
  no_theta.theta = Tensor();  // other metrics may be skipped (probe.metrics), θ may not
  EXPECT_THROW(s.add(no_theta), MetricsError);
  auto bad_ce = random_batch(L, 3, 1);
  bad_ce.cross_entropy = torch::zeros({3, L + 1});
  EXPECT_THROW(s.add(bad_ce), MetricsError);
  auto nan = random_batch(L, 3, 1);
  nan.proj_s[1][2] = NAN;
  EXPECT_THROW(s.add(nan), MetricsError);
  auto huge = random_batch(L, 3, 1);
  huge.norms[0][0] = 1e30f;
  EXPECT_THROW(s.add(huge), MetricsError);
  EXPECT_EQ(s.count(), 0) << "a failed add leaves the summary unchanged";
  EXPECT_TRUE(s == Summary(L));
  EXPECT_THROW(s.merge(Summary(L + 1)), MetricsError);
  EXPECT_THROW(Summary(0), MetricsError);
  auto st = s.state();
  EXPECT_THROW(Summary::from_state({}), MetricsError);
  auto bad = st;
  bad[0] = 99;
  EXPECT_THROW(Summary::from_state(bad), MetricsError);
  bad = st;
  bad.pop_back();
  EXPECT_THROW(Summary::from_state(bad), MetricsError);
  bad = st;
  bad[3] = bad[2] + 1;  // more early-stop sites than sites
  EXPECT_THROW(Summary::from_state(bad), MetricsError);
  // Negative sums (proj_s can be negative) survive the round trip.
  s.add(random_batch(L, 9, 2));
  EXPECT_TRUE(Summary::from_state(s.state()) == s);
}

TEST_F(MetricsReference, RejectsMismatchedHiddenStates) {
  auto m = CausalLM::load(model("neox_serial"));
  auto in = inputs("neox_serial");
  auto ids = in.load("input_ids"), mask = in.load("attention_mask");
  auto fwd = m->forward(ids, mask, false);
  auto fewer = fwd.hidden;
  fewer.pop_back();
  EXPECT_THROW(compute_site_metrics(*m, fewer, ids, mask), MetricsError);
  auto wrong = fwd.hidden;
  wrong[1] = wrong[1].narrow(1, 0, 3);
  EXPECT_THROW(compute_site_metrics(*m, wrong, ids, mask), MetricsError);
  EXPECT_THROW(compute_site_metrics(*m, fwd.hidden, ids, mask.narrow(1, 0, 3)), MetricsError);
}

// Not a check: time of the metrics against the forward for a small random Pythia-like config,
// and of Summary::add for a Pythia-12b-sized batch (L = 36, 48 × 1023 sites). Run with
// --gtest_also_run_disabled_tests --gtest_filter='*MetricsBench*'.
TEST(MetricsBench, DISABLED_Throughput) {
  at::set_num_threads(1);
  const auto dir = fs::temp_directory_path() / ("ds-metricsbench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "config.json")
      << R"({"model_type": "gpt_neox", "hidden_size": 512, "num_hidden_layers": 6,
             "num_attention_heads": 8, "intermediate_size": 2048, "vocab_size": 8192,
             "rotary_pct": 0.25, "use_parallel_residual": true})";
  std::map<std::string, Tensor> w;
  for (const auto& s : expected_weights(read_config(dir.string())))
    w[s.name] = torch::randn(s.shape) * 0.02;
  write_safetensors((dir / "model.safetensors").string(), w);
  auto m = CausalLM::load(dir.string());
  const int64_t B = 4, T = 256;
  auto ids = torch::randint(0, 8192, {B, T}, torch::kInt64);
  auto mask = torch::ones({B, T}, torch::kInt64);
  auto seconds = [](auto&& f) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<Tensor> hidden;
  const double fwd = seconds([&] { hidden = m->forward(ids, mask, false).hidden; });
  const double met = seconds([&] { compute_site_metrics(*m, hidden, ids, mask); });
  std::cout << "d=512 L=6 V=8192 B=" << B << " T=" << T << ": forward " << fwd << " s, metrics "
            << met << " s (1 thread, fp32)\n";
  fs::remove_all(dir);
  auto batch = random_batch(36, 48 * 1023, 1);
  Summary s(36);
  std::cout << "Summary::add L=36 N=" << batch.size() << ": " << seconds([&] { s.add(batch); })
            << " s\n";
}

}  // namespace
}  // namespace depthscale::probe
