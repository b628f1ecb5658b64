#include "fma_peak.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DS_X86 1
#else
#define DS_X86 0
#endif

#include <algorithm>
#include <chrono>

namespace depthscale::bench {
namespace {

using Clock = std::chrono::steady_clock;

#if DS_X86
// Two FMA ports × 4-cycle latency need 8 chains in flight. AVX-512 has 32 vector registers, so 16
// chains leave room for either; AVX2 has 16, so 12 chains plus the two operands fit without
// spilling (16 spilled to the stack and measured about 25% under the real peak on a Zen 3).
constexpr int kChains512 = 16, kChains256 = 12;

// Each call: iterations × chains FMAs of `lanes` floats. The sum is returned so the loop is kept.
__attribute__((target("avx512f"))) float chains_avx512(long iterations) {
  __m512 acc[kChains512];
  for (int k = 0; k < kChains512; ++k) acc[k] = _mm512_set1_ps(0.001f * float(k));
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
    for (int k = 0; k < kChains512; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
  __m512 s = acc[0];
  for (int k = 1; k < kChains512; ++k) s = _mm512_add_ps(s, acc[k]);
  float out[16];
  _mm512_storeu_ps(out, s);
  float t = 0;
  for (float x : out) t += x;
  return t;
}

__attribute__((target("avx2,fma"))) float chains_avx2(long iterations) {
  __m256 acc[kChains256];
  for (int k = 0; k < kChains256; ++k) acc[k] = _mm256_set1_ps(0.001f * float(k));
  const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
    for (int k = 0; k < kChains256; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
  __m256 s = acc[0];
  for (int k = 1; k < kChains256; ++k) s = _mm256_add_ps(s, acc[k]);
  float out[8];
  _mm256_storeu_ps(out, s);
  float t = 0;
  for (float x : out) t += x;
  return t;
}

#endif

}  // namespace

FmaPeak measure_fma_peak(double seconds_per_try, int tries) {
  FmaPeak peak;
  float (*run)(long) = nullptr;
  int lanes = 0, chains = 0;
#if DS_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    run = chains_avx512, lanes = 16, chains = kChains512, peak.isa = "avx512f";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    run = chains_avx2, lanes = 8, chains = kChains256, peak.isa = "avx2+fma";
  } else {
    peak.isa = "none";
    return peak;
  }
#else
  peak.isa = "none";  // only x86 vector FMA chains are written here
  return peak;
#endif
  // Calibrate the iteration count to the wanted duration, then keep the best try.
  long iterations = 1 << 20;
  volatile float sink = 0;
  for (;;) {
    auto t0 = Clock::now();
    sink = sink + run(iterations);
    if (std::chrono::duration<double>(Clock::now() - t0).count() > 0.02) break;
    iterations *= 2;
  }
  auto t0 = Clock::now();
  sink = sink + run(iterations);
  const double per_iteration =
      std::chrono::duration<double>(Clock::now() - t0).count() / iterations;
  iterations = std::max(1L, long(seconds_per_try / per_iteration));
  for (int t = 0; t < tries; ++t) {
    auto start = Clock::now();
    sink = sink + run(iterations);
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    peak.gflops = std::max(peak.gflops, 2.0 * chains * lanes * double(iterations) / s / 1e9);
  }
  return peak;
}

}  // namespace depthscale::bench
