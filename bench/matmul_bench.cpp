// The six matmul shapes of one toy MLP branch on a row block (forward: z = v·Aᵀ, out += u·Bᵀ;
// backward: dU = g·B, dBᵀ += uᵀ·g, dA += dzᵀ·v, dv = dz·A) and the head's three, each timed on
// the native kernel and on the system BLAS, as GFLOP/s and fractions of the measured FMA peak.
// Usage: matmul_bench [--width M] [--rows R] [--vocab N] [--seconds S]   (JSON lines)
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "fma_peak.hpp"
#include "toy/matmul.hpp"

using namespace depthscale;
using Clock = std::chrono::steady_clock;

struct Shape {
  const char* name;
  int64_t M, N, K;
  bool a_transposed;  // A given as its transpose (sa_i = 1)
  float beta;
};

int main(int argc, char** argv) {
  int64_t m = 32, rows = 256, vocab = 128;
  double seconds = 0.3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--width") m = std::stoll(argv[i + 1]);
    if (a == "--rows") rows = std::stoll(argv[i + 1]);
    if (a == "--vocab") vocab = std::stoll(argv[i + 1]);
    if (a == "--seconds") seconds = std::stod(argv[i + 1]);
  }
  const int64_t h = 4 * m;
  const std::vector<Shape> shapes = {
      {"z=v.At", rows, h, m, false, 0},          {"out+=u.Bt", rows, m, h, false, 1},
      {"dU=g.B", rows, h, m, false, 0},          {"dBt+=ut.g", h, m, rows, true, 1},
      {"dA+=dzt.v", h, m, rows, true, 1},        {"dv=dz.A", rows, m, h, false, 0},
      {"logits=f.Wt", 1024, vocab, m, false, 0}, {"dW=dlt.f", vocab, m, 1024, true, 0},
      {"df=dl.W", 1024, m, vocab, false, 0},
  };
  const auto peak = bench::measure_fma_peak();
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (const auto& s : shapes) {
    std::vector<float> a(s.M * s.K), b(s.K * s.N), c(s.M * s.N, 0.0f);
    for (auto& x : a) x = normal(rng);
    for (auto& x : b) x = normal(rng);
    const int64_t sa_i = s.a_transposed ? 1 : s.K, sa_k = s.a_transposed ? s.M : 1;
    double rate[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      toy::matmul::set_kernel(k == 0 ? toy::matmul::Kernel::Native : toy::matmul::Kernel::Blas);
      auto call = [&] {
        toy::matmul::mm(s.M, s.N, s.K, 1.0f, a.data(), sa_i, sa_k, b.data(), s.N, s.beta, c.data(),
                        s.N);
      };
      for (int w = 0; w < 20; ++w) call();
      int64_t calls = 0;
      const auto t0 = Clock::now();
      double dt = 0;
      while (dt < seconds) {
        for (int r = 0; r < 20; ++r) call();
        calls += 20;
        dt = std::chrono::duration<double>(Clock::now() - t0).count();
      }
      rate[k] = 2.0 * s.M * s.N * s.K * double(calls) / dt / 1e9;
    }
    std::printf(
        "{\"shape\":\"%s\",\"M\":%lld,\"N\":%lld,\"K\":%lld,\"native_gflops\":%.1f,"
        "\"blas_gflops\":%.1f,\"native_fraction\":%.3f,\"blas_fraction\":%.3f,"
        "\"fma_peak_gflops\":%.1f,\"native_kernel\":%s}\n",
        s.name, (long long)s.M, (long long)s.N, (long long)s.K, rate[0], rate[1],
        rate[0] / peak.gflops, rate[1] / peak.gflops, peak.gflops,
        toy::matmul::native_available() ? "true" : "false");
  }
  return 0;
}
