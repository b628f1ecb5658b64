#include "probe/logsumexp.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace depthscale::probe {
namespace {

// Each loop is compiled for AVX-512, AVX2 and the baseline and picked at load time; reductions
// vectorise through `omp simd reduction` (-fopenmp-simd), not -ffast-math.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DS_PROBE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DS_PROBE_CLONES
#endif

// exp(x) for x <= 0 (logit − running max): Cody–Waite reduction by ln 2 (split in a part exact in
// float and a correction), degree-6 polynomial on [−ln2/2, ln2/2], scale by 2^n through the
// exponent bits. 0 below −87.
__attribute__((always_inline)) inline float exp_nonpositive(float x) {
  const float xc = std::max(x, -87.0f);
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

DS_PROBE_CLONES float row_max(const float* __restrict z, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; ++j) m = std::max(m, z[j]);
  return m;
}

DS_PROBE_CLONES float row_exp_sum(const float* __restrict z, int64_t n, float m) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; ++j) s += exp_nonpositive(z[j] - m);
  return s;
}

}  // namespace

float logsumexp_exp(float x) {
  return exp_nonpositive(x);
}

void online_logsumexp(const float* z, int64_t rows, int64_t cols, int64_t stride, int64_t v0,
                      const int64_t* target, float* max, double* sum, float* picked) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = z + i * stride;
    const float m = std::max(max[i], row_max(row, cols));
    if (m != max[i]) {  // rescale the running sum to the new maximum (0 · anything at the start)
      sum[i] = sum[i] == 0 ? 0 : sum[i] * std::exp(double(max[i]) - double(m));
      max[i] = m;
    }
    sum[i] += double(row_exp_sum(row, cols, m));
    const int64_t t = target[i] - v0;
    if (t >= 0 && t < cols) picked[i] = row[t];
  }
}

}  // namespace depthscale::probe
