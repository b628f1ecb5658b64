// This core's FP32 fused-multiply-add peak, measured: independent FMA chains with enough
// accumulators to cover the FMA latency on every port, in the widest vectors the CPU has
// (AVX-512, else AVX2+FMA). The benchmarks report matmul rates as fractions of it.
#pragma once

#include <string>

namespace depthscale::bench {

struct FmaPeak {
  double gflops = 0;  // best of a few runs, one thread
  std::string isa;    // "avx512f", "avx2+fma" or "none"
};

FmaPeak measure_fma_peak(double seconds_per_try = 0.2, int tries = 5);

}  // namespace depthscale::bench
