// The three families against the independent Python reference (tests/reference/llm_reference.py):
// tiny random models written as Hugging Face directories, right-padded batches, hidden states at
// every layer, logits and the last-block readout from every layer.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>

#include "probe/checkpoint.hpp"
#include "probe/model.hpp"
#include "probe/safetensors.hpp"
#include "probe/tests/reference_cache.hpp"

namespace depthscale::probe {
namespace {

namespace fs = std::filesystem;
using torch::Tensor;

// FP32 against the float64 reference: max |C++ − reference| over valid positions, relative to
// max |reference| of the tensor. Measured worst case is reported by each test (about 1e-7–1e-6).
constexpr double kTol = 1e-5;
// BF16 compute (weights and activations rounded to 8 mantissa bits) against the same reference.
constexpr double kTolBf16 = 0.1;

class Reference : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    const std::string python = DEPTHSCALE_PYTHON;
    if (python.empty() || made_) return;
    dir_ = testing::cached_reference(
        DEPTHSCALE_LLM_REFERENCE_CACHE, {DEPTHSCALE_LLM_REFERENCE}, [&](const std::string& tmp) {
          return python + " " + DEPTHSCALE_LLM_REFERENCE + " make " + tmp + " > /dev/null";
        });
    made_ = !dir_.empty();
  }

 protected:
  void SetUp() override {
    if (std::string(DEPTHSCALE_PYTHON).empty())
      GTEST_SKIP() << "DEPTHSCALE_PYTHON is empty (no python3 with torch found by CMake)";
    ASSERT_TRUE(made_) << "tests/reference/llm_reference.py make failed";
  }
  static std::string model(const std::string& name) { return (dir_ / name).string(); }
  static SafetensorsFile ref(const std::string& name) {
    return SafetensorsFile((dir_ / name / "reference.safetensors").string());
  }

  static inline fs::path dir_;
  static inline bool made_ = false;
};

// Max abs difference over valid positions relative to the reference's max abs. `got` and `want`
// are [B, T, ...]; valid [B, T] bool.
double rel_err(const Tensor& got, const Tensor& want, const Tensor& valid) {
  auto g = got.to(torch::kFloat64).index({valid});
  auto w = want.to(torch::kFloat64).index({valid});
  return ((g - w).abs().max() / w.abs().max()).item<double>();
}

struct Errors {
  double hidden = 0, logits = 0, normed = 0, readout = 0;
};

Errors compare(const CausalLM& m, const SafetensorsFile& r) {
  auto ids = r.load("input_ids"), mask = r.load("attention_mask");
  auto valid = mask.to(torch::kBool);
  auto hidden = r.load("hidden");
  auto out = m.forward(ids, mask);
  const int L = m.num_layers();
  EXPECT_EQ(int(out.hidden.size()), L + 1);
  EXPECT_EQ(hidden.size(0), L + 1);
  Errors e;
  for (int l = 0; l <= L; ++l)
    e.hidden = std::max(e.hidden, rel_err(out.hidden[l], hidden[l], valid));
  e.logits = rel_err(out.logits, r.load("logits"), valid);
  e.normed = rel_err(m.final_norm(out.hidden[L]), r.load("final_normed"), valid);
  auto readout = r.load("readout");
  for (int l = 0; l < L; ++l)
    e.readout = std::max(e.readout,
                         rel_err(m.readout_via_last_block(out.hidden[l], mask), readout[l], valid));
  return e;
}

class Family : public Reference, public ::testing::WithParamInterface<std::string> {};

TEST_P(Family, Fp32MatchesReference) {
  auto m = CausalLM::load(model(GetParam()));
  auto e = compare(*m, ref(GetParam()));
  std::cout << "[ " << GetParam() << " fp32 ] rel err: hidden " << e.hidden << ", logits "
            << e.logits << ", final_norm " << e.normed << ", readout " << e.readout << "\n";
  EXPECT_LT(e.hidden, kTol);
  EXPECT_LT(e.logits, kTol);
  EXPECT_LT(e.normed, kTol);
  EXPECT_LT(e.readout, kTol);
}

TEST_P(Family, Bf16ComputeCloseToReference) {
  auto m = CausalLM::load(model(GetParam()), torch::kBFloat16);
  auto r = ref(GetParam());
  auto out = m->forward(r.load("input_ids"), r.load("attention_mask"));
  EXPECT_EQ(out.hidden.back().scalar_type(), torch::kBFloat16);
  EXPECT_EQ(out.logits.scalar_type(), torch::kBFloat16);
  auto e = compare(*m, r);
  std::cout << "[ " << GetParam() << " bf16 ] rel err: hidden " << e.hidden << ", logits "
            << e.logits << ", readout " << e.readout << "\n";
  EXPECT_LT(e.hidden, kTolBf16);
  EXPECT_LT(e.logits, kTolBf16);
  EXPECT_LT(e.readout, kTolBf16);
}

// A document's valid positions do not depend on padding or on the rest of the batch: each row
// alone (no padding), the batch reversed, and the batch padded 5 columns further.
TEST_P(Family, DocumentIndependentOfBatchAndPadding) {
  auto m = CausalLM::load(model(GetParam()));
  auto r = ref(GetParam());
  auto ids = r.load("input_ids"), mask = r.load("attention_mask");
  auto batch = m->forward(ids, mask);
  const int64_t B = ids.size(0), T = ids.size(1);
  double worst = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = mask[b].sum().item<int64_t>();
    auto alone = m->forward(ids.slice(0, b, b + 1).slice(1, 0, n), torch::ones({1, n}));
    for (size_t l = 0; l < alone.hidden.size(); ++l) {
      auto want = alone.hidden[l][0];
      auto got = batch.hidden[l][b].slice(0, 0, n);
      worst = std::max(worst, ((got - want).abs().max() / want.abs().max()).item<double>());
    }
    auto want = alone.logits[0];
    worst = std::max(
        worst,
        ((batch.logits[b].slice(0, 0, n) - want).abs().max() / want.abs().max()).item<double>());
  }
  auto flip = torch::flip(torch::arange(B), {0});
  auto wide_ids = torch::cat({ids, torch::randint(0, m->vocab_size(), {B, 5}, torch::kInt64)}, 1);
  auto wide_mask = torch::cat({mask, torch::zeros({B, 5}, mask.options())}, 1);
  auto reversed = m->forward(ids.index({flip}), mask.index({flip}));
  auto wide = m->forward(wide_ids, wide_mask);
  auto valid = mask.to(torch::kBool);
  for (size_t l = 0; l < batch.hidden.size(); ++l) {
    worst = std::max(worst, rel_err(reversed.hidden[l].index({flip}), batch.hidden[l], valid));
    worst = std::max(worst, rel_err(wide.hidden[l].slice(1, 0, T), batch.hidden[l], valid));
  }
  worst = std::max(worst, rel_err(wide.logits.slice(1, 0, T), batch.logits, valid));
  std::cout << "[ " << GetParam() << " ] batch/padding independence: rel diff " << worst << "\n";
  EXPECT_LT(worst, kTol);
  EXPECT_TRUE(torch::isfinite(batch.logits).all().item<bool>())
      << "padded positions must be finite";
}

// The SPEC §2 readout re-applies the last block: from hidden[L−1] it is the model's own logits.
TEST_P(Family, LastBlockReadoutOfPenultimateIsOwnLogits) {
  auto m = CausalLM::load(model(GetParam()));
  auto r = ref(GetParam());
  auto mask = r.load("attention_mask");
  auto out = m->forward(r.load("input_ids"), mask);
  auto via = m->readout_via_last_block(out.hidden[m->num_layers() - 1], mask);
  EXPECT_TRUE(torch::allclose(via, out.logits, 0, 0)) << "should be the same computation";
  auto no_logits = m->forward(r.load("input_ids"), mask, false);
  EXPECT_FALSE(no_logits.logits.defined());
  EXPECT_TRUE(torch::equal(no_logits.hidden.back(), out.hidden.back()));
}

INSTANTIATE_TEST_SUITE_P(Models, Family,
                         ::testing::Values("neox_parallel", "neox_serial", "neox_serial_sharded",
                                           "qwen2", "qwen2_tied_bf16", "opt", "opt_f16"));

TEST_F(Reference, ShardedCheckpointEqualsSingleFile) {
  auto single = CausalLM::load(model("neox_serial"));
  auto sharded = CausalLM::load(model("neox_serial_sharded"));
  auto r = ref("neox_serial");
  auto a = single->forward(r.load("input_ids"), r.load("attention_mask"));
  auto b = sharded->forward(r.load("input_ids"), r.load("attention_mask"));
  for (size_t l = 0; l < a.hidden.size(); ++l) EXPECT_TRUE(torch::equal(a.hidden[l], b.hidden[l]));
  EXPECT_TRUE(torch::equal(a.logits, b.logits));
  EXPECT_TRUE(Checkpoint(model("neox_serial_sharded")).sharded());
}

TEST_F(Reference, HalfPrecisionWeightsAreUpcastExactly) {
  for (const char* name : {"qwen2_tied_bf16", "opt_f16"}) {
    Checkpoint c(model(name));
    for (const auto& n : c.names()) {
      const auto& info = c.info(n);
      EXPECT_TRUE(info.dtype == "BF16" || info.dtype == "F16") << n;
      auto raw = c.load(n, info.dtype == "BF16" ? torch::kBFloat16 : torch::kFloat16);
      EXPECT_TRUE(torch::equal(c.load(n, torch::kFloat32), raw.to(torch::kFloat32))) << n;
    }
  }
}

// Not a check: tokens/s of one forward on one thread for a small random Pythia-like config.
// Run with --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'.
TEST(ModelBench, DISABLED_Throughput) {
  at::set_num_threads(1);
  const auto dir = fs::temp_directory_path() / ("ds-llmbench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  // Pythia-70m's shape with a smaller vocabulary.
  std::ofstream(dir / "config.json")
      << R"({"model_type": "gpt_neox", "hidden_size": 512, "num_hidden_layers": 6,
             "num_attention_heads": 8, "intermediate_size": 2048, "vocab_size": 8192,
             "rotary_pct": 0.25, "use_parallel_residual": true})";
  std::map<std::string, Tensor> w;
  for (const auto& s : expected_weights(read_config(dir.string())))
    w[s.name] = torch::randn(s.shape) * 0.02;
  write_safetensors((dir / "model.safetensors").string(), w);
  auto m = CausalLM::load(dir.string());
  for (int64_t T : {128, 512}) {
    const int64_t B = 4;
    auto ids = torch::randint(0, 8192, {B, T}, torch::kInt64);
    auto mask = torch::ones({B, T}, torch::kInt64);
    m->forward(ids, mask);  // warm-up
    const int reps = 3;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) m->forward(ids, mask);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "d=512 L=6 V=8192 B=" << B << " T=" << T << ": " << reps * B * T / s
              << " tokens/s (1 thread, fp32, with logits)\n";
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace depthscale::probe
