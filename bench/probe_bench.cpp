// Throughput of the LLM probe on the CPU: tokens per second of what the runner computes per batch
// (CausalLM::forward without logits, then compute_site_metrics), with and without the per-layer
// cross-entropy readouts, for a random GPT-NeoX model of Pythia-160m shape (or 410m), FP32.
//
// The model is written as a real Hugging Face folder (config.json + model.safetensors, N(0, 0.02²)
// weights) into a temporary directory and loaded through CausalLM::load, the probes' own path.
// Every document of the batch is `--tokens` long (no padding), so tokens = sites + documents.
//
// Pinned and printed: the intra-op threads (at::set_num_threads, default 2), OpenBLAS's thread
// count and the kernel core it picked (openblas_get_corename, found with dlsym), and this core's
// FP32 FMA peak (bench/fma_peak.hpp, one thread; the fraction of peak uses threads × that). FLOPs
// are the cost model's (probe/cost.hpp: matmuls only), split into forward and readouts. Also
// printed: the --dry-run estimate of the batch's time (the cost model's FLOPs at the at::mm rate
// measure_matmul_rate gives here) against the measured time.
//
// Timing: `--reps` rounds, each one batch without and one with the readouts (and with --compare
// one more with the readouts on the former, unfused path, MetricsOptions::fused_cross_entropy =
// false, and the largest CE difference between the two); best of the rounds for each, so both
// paths see the same machine state. The last line is JSON.
//
//   build/bench/probe_bench [--shape 160m|410m|1b] [--docs 4] [--tokens 512] [--reps 3]
//                           [--threads 2] [--skip-no-ce] [--compare]
//                           [--device cpu|cuda] [--dtype float32|bfloat16]
// On cuda every timed part ends with torch::cuda::synchronize(); the FMA peak printed is still the
// CPU's (compare GPU rates against a matmul rate measured in the same run, scripts/gpu_check.sh).
#include <ATen/CPUGeneratorImpl.h>
#include <dlfcn.h>
#include <sys/resource.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "fma_peak.hpp"
#include "probe/cost.hpp"
#include "probe/metrics.hpp"
#include "probe/model.hpp"
#include "probe/safetensors.hpp"

using namespace depthscale;
namespace fs = std::filesystem;

namespace {

struct Shape {
  int64_t d, layers, heads, intermediate;
};

std::string neox_config(const Shape& s) {
  return "{\"model_type\": \"gpt_neox\", \"hidden_size\": " + std::to_string(s.d) +
         ", \"num_hidden_layers\": " + std::to_string(s.layers) +
         ", \"num_attention_heads\": " + std::to_string(s.heads) +
         ", \"intermediate_size\": " + std::to_string(s.intermediate) +
         ", \"vocab_size\": 50304, \"max_position_embeddings\": 2048, \"rotary_pct\": 0.25,"
         " \"rotary_emb_base\": 10000, \"use_parallel_residual\": true, \"hidden_act\": \"gelu\","
         " \"layer_norm_eps\": 1e-5, \"tie_word_embeddings\": false}";
}

// config.json and model.safetensors with N(0, 0.02²) weights, norm gains 1 + N(0, 0.02²).
void write_model(const fs::path& dir, const std::string& json) {
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << json;
  auto gen = at::detail::createCPUGenerator(1);
  std::map<std::string, torch::Tensor> w;
  for (const auto& s : probe::expected_weights(probe::read_config(dir.string()))) {
    auto t = at::normal(0.0, 0.02, s.shape, gen);
    const bool gain = s.shape.size() == 1 && s.name.find("norm") != std::string::npos &&
                      s.name.size() > 7 && s.name.compare(s.name.size() - 7, 7, ".weight") == 0;
    w[s.name] = gain ? t + 1.0 : t;
  }
  probe::write_safetensors((dir / "model.safetensors").string(), w);
}

// OpenBLAS's own report, when the BLAS LibTorch calls is OpenBLAS.
struct Blas {
  std::string core = "unknown", config = "unknown";
  int threads = -1;
};
Blas openblas_info(int threads) {
  Blas b;
  using CharFn = char* (*)();
  using IntFn = int (*)();
  using SetFn = void (*)(int);
  if (auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set(threads);
  if (auto f = reinterpret_cast<CharFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))) b.core = f();
  if (auto f = reinterpret_cast<CharFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) b.config = f();
  if (auto f = reinterpret_cast<IntFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
    b.threads = f();
  return b;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string shape_name = "160m";
  int64_t docs = 4, tokens = 512, reps = 3;
  int threads = 2;
  bool skip_no_ce = false, compare = false;
  std::string device_name = "cpu", dtype_name = "float32";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--shape")
      shape_name = next();
    else if (a == "--docs")
      docs = std::stoll(next());
    else if (a == "--tokens")
      tokens = std::stoll(next());
    else if (a == "--reps")
      reps = std::stoll(next());
    else if (a == "--threads")
      threads = std::stoi(next());
    else if (a == "--skip-no-ce")
      skip_no_ce = true;
    else if (a == "--compare")
      compare = true;
    else if (a == "--device")
      device_name = next();
    else if (a == "--dtype")
      dtype_name = next();
    else {
      std::fprintf(stderr,
                   "usage: probe_bench [--shape 160m|410m|1b] [--docs B] [--tokens T] [--reps N] "
                   "[--threads N] [--skip-no-ce] [--compare] [--device cpu|cuda] "
                   "[--dtype float32|bfloat16]\n");
      return 2;
    }
  }
  Shape shape;
  if (shape_name == "160m")
    shape = {768, 12, 12, 3072};
  else if (shape_name == "410m")
    shape = {1024, 24, 16, 4096};
  else if (shape_name == "1b")
    shape = {2048, 16, 8, 8192};
  else {
    std::fprintf(stderr, "--shape: 160m, 410m or 1b\n");
    return 2;
  }
  if ((device_name != "cpu" && device_name != "cuda") ||
      (dtype_name != "float32" && dtype_name != "bfloat16")) {
    std::fprintf(stderr, "--device: cpu or cuda; --dtype: float32 or bfloat16\n");
    return 2;
  }
  const bool cuda = device_name == "cuda";
  if (cuda && !torch::cuda::is_available()) {
    std::fprintf(stderr, "--device cuda: this LibTorch sees no GPU\n");
    return 2;
  }
  const torch::Device device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  const torch::Dtype dtype = dtype_name == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
  auto sync = [&] {
    if (cuda) torch::cuda::synchronize();
  };
  at::set_num_threads(threads);
  const Blas blas = openblas_info(threads);
  std::fprintf(stderr, "threads: at::get_num_threads() = %d, OpenBLAS threads %d, core %s\n",
               at::get_num_threads(), blas.threads, blas.core.c_str());
  std::fprintf(stderr, "OpenBLAS config: %s\n", blas.config.c_str());

  const auto dir =
      fs::temp_directory_path() / ("probe_bench_" + shape_name + "_" + std::to_string(::getpid()));
  write_model(dir, neox_config(shape));
  auto model = probe::CausalLM::load(dir.string(), dtype, device);
  const double file_gb = double(fs::file_size(dir / "model.safetensors")) / 1e9;
  fs::remove_all(dir);
  const auto& cfg = model->config();

  auto gen = at::detail::createCPUGenerator(7);
  auto ids = at::randint(0, cfg.vocab_size, {docs, tokens}, gen, torch::kInt64).to(device);
  auto mask = torch::ones({docs, tokens}, torch::kInt64).to(device);

  // FLOPs and the --dry-run estimate, from the cost model.
  const std::vector<int64_t> lengths(size_t(docs), tokens);
  probe::MetricsOptions with_ce, no_ce;
  no_ce.cross_entropy = false;
  const auto work = probe::workload_of(lengths, docs, cfg.vocab_size, with_ce);
  probe::ProbeCostOptions co;
  const auto cost = probe::probe_cost(cfg, work, co);
  int64_t rate_rows = 0;
  const double mm_rate =
      probe::measure_matmul_rate(device, dtype, cfg.hidden_size, 0.3, &rate_rows);

  auto run = [&](const probe::MetricsOptions& o) {
    const auto t = std::chrono::steady_clock::now();
    auto fwd = model->forward(ids, mask, /*with_logits=*/false);
    auto m = probe::compute_site_metrics(*model, fwd.hidden, ids, mask, o);
    sync();
    const double s = seconds_since(t);
    return std::make_pair(s, m);
  };
  // Warm-up (thread pool, BLAS buffers, allocator): one batch without the readouts.
  run(no_ce);
  probe::MetricsOptions reference = with_ce;
  reference.fused_cross_entropy = false;
  double best_ce = 1e300, best_no = 1e300, best_ref = 1e300;
  double ce_mean = 0, max_abs_diff = 0, max_rel_diff = 0;
  for (int64_t r = 0; r < reps; ++r) {
    if (!skip_no_ce) {
      const double s = run(no_ce).first;
      best_no = std::min(best_no, s);
      std::fprintf(stderr, "round %lld: without readouts %.3f s\n", (long long)r, s);
    }
    auto [s, m] = run(with_ce);
    best_ce = std::min(best_ce, s);
    ce_mean = m.cross_entropy.mean().item<double>();
    std::fprintf(stderr, "round %lld: with readouts %.3f s (mean CE %.6f)\n", (long long)r, s,
                 ce_mean);
    if (compare) {
      auto [sr, mr] = run(reference);
      best_ref = std::min(best_ref, sr);
      auto diff =
          (m.cross_entropy.to(torch::kFloat64) - mr.cross_entropy.to(torch::kFloat64)).abs();
      max_abs_diff = std::max(max_abs_diff, diff.max().item<double>());
      max_rel_diff = std::max(
          max_rel_diff, (diff / mr.cross_entropy.to(torch::kFloat64).abs()).max().item<double>());
      std::fprintf(stderr,
                   "round %lld: with readouts, former unfused path %.3f s (max |dCE| %.3g, "
                   "relative %.3g)\n",
                   (long long)r, sr, max_abs_diff, max_rel_diff);
    }
  }
  // One readout's two parts, each alone (best of 3): the last block on the batch, and the head
  // with the cross entropy on its T − 1 sites per document.
  double t_block = 1e300, t_head = 1e300;
  {
    auto fwd = model->forward(ids, mask, /*with_logits=*/false);
    const auto& h = fwd.hidden[0];
    auto rows = h.narrow(1, 0, tokens - 1).reshape({-1, cfg.hidden_size}).contiguous();
    auto tgt = ids.narrow(1, 1, tokens - 1).reshape({-1}).contiguous();
    for (int i = 0; i < 3; ++i) {
      sync();
      auto t = std::chrono::steady_clock::now();
      auto y = model->last_block(h, mask);
      sync();
      t_block = std::min(t_block, seconds_since(t));
      t = std::chrono::steady_clock::now();
      auto ce = model->readout_cross_entropy(rows, tgt);
      sync();
      t_head = std::min(t_head, seconds_since(t));
    }
  }
  const double block_gflop = (2.0 * double(cost.layer_matmul_params) * double(docs * tokens) +
                              4.0 * double(docs) * double(tokens) * double(tokens) / 2 *
                                  double(cfg.num_heads * cfg.head_dim)) /
                             1e9;
  const double head_gflop = 2.0 * double(cost.head_params) * double(docs * (tokens - 1)) / 1e9;
  const auto peak = bench::measure_fma_peak();
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);

  const double tok = double(docs * tokens);
  // Without the readouts the model's own head on the sites (cross_entropy column L−1) is not run
  // either.
  const double own_head_gflop = 2.0 * double(cost.head_params) * double(work.sites) / 1e9;
  const double fwd_gflop = cost.forward_flops / 1e9, ro_gflop = cost.readout_flops / 1e9;
  const double no_ce_gflop = fwd_gflop - own_head_gflop;
  const double peak_all = peak.gflops * threads;
  const double gf_ce = (fwd_gflop + ro_gflop) / best_ce;
  const double gf_no = skip_no_ce ? 0 : no_ce_gflop / best_no;
  const double est_ce = cost.total_flops() / mm_rate, est_no = no_ce_gflop * 1e9 / mm_rate;
  std::fprintf(stderr,
               "pythia-%s shape: d %lld, %lld layers, %lld heads, I %lld, V %lld, %.1fM params "
               "(%.2f GB file); batch %lld x %lld tokens\n",
               shape_name.c_str(), (long long)cfg.hidden_size, (long long)cfg.num_layers,
               (long long)cfg.num_heads, (long long)cfg.intermediate_size,
               (long long)cfg.vocab_size, double(cost.params) / 1e6, file_gb, (long long)docs,
               (long long)tokens);
  std::fprintf(stderr,
               "FLOPs per batch: forward %.1f GFLOP (%.1f of it the model's own head on the "
               "sites), readouts %.1f GFLOP (%.0f%%)\n",
               fwd_gflop, own_head_gflop, ro_gflop, 100 * ro_gflop / (fwd_gflop + ro_gflop));
  std::fprintf(stderr, "FMA peak %.1f GFLOP/s per core (%s), x %d threads = %.1f\n", peak.gflops,
               peak.isa.c_str(), threads, peak_all);
  if (!skip_no_ce)
    std::fprintf(stderr, "without readouts: %.3f s, %.1f tokens/s, %.1f GFLOP/s, %.0f%% of peak\n",
                 best_no, tok / best_no, gf_no, 100 * gf_no / peak_all);
  std::fprintf(stderr, "with readouts:    %.3f s, %.1f tokens/s, %.1f GFLOP/s, %.0f%% of peak\n",
               best_ce, tok / best_ce, gf_ce, 100 * gf_ce / peak_all);
  if (compare)
    std::fprintf(stderr,
                 "with readouts, former path: %.3f s, %.1f tokens/s, %.1f GFLOP/s, %.0f%% of "
                 "peak; fused / former %.2fx\n",
                 best_ref, tok / best_ref, (fwd_gflop + ro_gflop) / best_ref,
                 100 * (fwd_gflop + ro_gflop) / best_ref / peak_all, best_ref / best_ce);
  std::fprintf(stderr,
               "one readout, parts alone: last block %.3f s (%.1f GFLOP/s), head + CE %.3f s "
               "(%.1f GFLOP/s)\n",
               t_block, block_gflop / t_block, t_head, head_gflop / t_head);
  std::fprintf(stderr,
               "--dry-run model: at::mm rate %.1f GFLOP/s (%lld rows) -> %.2f s with readouts "
               "(measured / estimate %.2f)\n",
               mm_rate / 1e9, (long long)rate_rows, est_ce, best_ce / est_ce);
  std::printf(
      "{\"device\":\"%s\",\"dtype\":\"%s\",\"shape\":\"pythia-%s\",\"docs\":%lld,\"tokens_per_"
      "doc\":%lld,\"threads\":%d,"
      "\"openblas_threads\":%d,\"blas_core\":\"%s\",\"fma_peak_gflops_per_core\":%.1f,"
      "\"isa\":\"%s\",\"forward_gflop\":%.2f,\"readout_gflop\":%.2f,",
      device_name.c_str(), dtype_name.c_str(), shape_name.c_str(), (long long)docs,
      (long long)tokens, threads, blas.threads, blas.core.c_str(), peak.gflops, peak.isa.c_str(),
      fwd_gflop, ro_gflop);
  std::printf(
      "\"seconds_no_ce\":%.4f,\"tokens_per_s_no_ce\":%.2f,\"gflops_no_ce\":%.1f,"
      "\"fraction_of_peak_no_ce\":%.3f,\"seconds_ce\":%.4f,\"tokens_per_s_ce\":%.2f,"
      "\"gflops_ce\":%.1f,\"fraction_of_peak_ce\":%.3f,\"mm_rate_gflops\":%.1f,"
      "\"estimate_seconds_ce\":%.3f,\"estimate_seconds_no_ce\":%.3f,\"mean_ce\":%.6f,"
      "\"peak_rss_mb\":%.1f,",
      skip_no_ce ? 0.0 : best_no, skip_no_ce ? 0.0 : tok / best_no, gf_no,
      skip_no_ce ? 0.0 : gf_no / peak_all, best_ce, tok / best_ce, gf_ce, gf_ce / peak_all,
      mm_rate / 1e9, est_ce, est_no, ce_mean, double(ru.ru_maxrss) / 1024.0);
  std::printf(
      "\"seconds_ce_former\":%.4f,\"tokens_per_s_ce_former\":%.2f,\"speedup_ce\":%.3f,"
      "\"max_abs_ce_diff\":%.3g,\"max_rel_ce_diff\":%.3g,\"block_gflops\":%.1f,"
      "\"head_ce_gflops\":%.1f}\n",
      compare ? best_ref : 0.0, compare ? tok / best_ref : 0.0, compare ? best_ref / best_ce : 0.0,
      max_abs_diff, max_rel_diff, block_gflop / t_block, head_gflop / t_head);
  return 0;
}
