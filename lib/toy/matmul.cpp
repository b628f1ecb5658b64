#include "toy/matmul.hpp"

#include "toy/profile.hpp"

#include <ATen/Parallel.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DS_NATIVE_KERNEL 1
#ifndef DS_AVX2_NV
#define DS_AVX2_NV 2
#define DS_AVX2_MR 6
#endif
#else
#define DS_NATIVE_KERNEL 0  // other CPUs: the BLAS serves every call
#endif

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

// The Fortran BLAS that LibTorch's CPU matmul calls too (the build links the system's optimised
// one first; a test checks which library serves it).
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n,
                       const int* k, const float* alpha, const float* a, const int* lda,
                       const float* b, const int* ldb, const float* beta, float* c, const int* ldc);

namespace depthscale::toy::matmul {
namespace {

thread_local Kernel current = Kernel::Native;

// The widest tiles this CPU runs: AVX-512F (16 floats a vector), else AVX2 with FMA (8), else none.
int cpu_vector_floats() {
#if DS_NATIVE_KERNEL
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return 16;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
#endif
  return 0;
}
const int kVectorFloats = cpu_vector_floats();
const bool kAvx512 = kVectorFloats == 16;

// Row-major C = α·A·B + β·C through the column-major BLAS, which computes Cᵀ = Bᵀ·Aᵀ.
void blas(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t sa_i, int64_t sa_k,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const bool a_transposed = sa_i == 1 && sa_k != 1;
  const int m = int(N), n = int(M), k = int(K), lb = int(ldb), lc = int(ldc);
  const int la = int(a_transposed ? sa_k : sa_i);
  const char tb = 'N', ta = a_transposed ? 'T' : 'N';
  sgemm_(&tb, &ta, &m, &n, &k, &alpha, b, &lb, a, &la, &beta, c, &lc);
}

#if DS_NATIVE_KERNEL
// One MR × (16·NV) tile of C: the accumulators stay in zmm registers for the whole K loop; each
// step loads one row of B (NV vectors, from L1 for weight operands) and broadcasts MR elements
// of A. MR·NV ≤ 16 accumulators plus NV B vectors fit in the 32 registers, and 16 independent
// FMA chains cover the FMA latency on both ports.
template <int NV, int MR, bool ACCUMULATE>
__attribute__((target("avx512f"))) inline void tile(int64_t K, float alpha, const float* a,
                                                    int64_t sa_i, int64_t sa_k, const float* b,
                                                    int64_t ldb, float* c, int64_t ldc) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const float* bk = b + k * ldb;
    __m512 bv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      bv[v] = _mm512_loadu_ps(bk + 16 * v);
      // Keep the row of B in a register for all MR uses: left alone, GCC folds the load into
      // every FMA, which makes the loop load-bound (MR loads of each vector instead of one).
      __asm__("" : "+v"(bv[v]));
    }
    const float* ak = a + k * sa_k;
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 ar = _mm512_set1_ps(ak[r * sa_i]);
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
    }
  }
  const __m512 s = _mm512_set1_ps(alpha);
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      float* cp = c + r * ldc + 16 * v;
      __m512 x = _mm512_mul_ps(acc[r][v], s);
      if (ACCUMULATE) x = _mm512_add_ps(x, _mm512_loadu_ps(cp));
      _mm512_storeu_ps(cp, x);
    }
}

// All rows of one column panel of 16·NV columns: tiles of MR rows, then single rows.
template <int NV, bool ACCUMULATE>
__attribute__((target("avx512f"))) void panel(int64_t M, int64_t K, float alpha, const float* a,
                                              int64_t sa_i, int64_t sa_k, const float* b,
                                              int64_t ldb, float* c, int64_t ldc) {
  constexpr int MR = NV >= 16 ? 1 : 16 / NV;
  int64_t i = 0;
  for (; i + MR <= M; i += MR)
    tile<NV, MR, ACCUMULATE>(K, alpha, a + i * sa_i, sa_i, sa_k, b, ldb, c + i * ldc, ldc);
  for (; i < M; ++i)
    tile<NV, 1, ACCUMULATE>(K, alpha, a + i * sa_i, sa_i, sa_k, b, ldb, c + i * ldc, ldc);
}

// Column panels of 64 (4 vectors × 4 rows per tile) measured faster than 128 (8 × 2) for the
// N = 4m = 128 shapes: half the B loads per FMA (bench/matmul_bench).
constexpr int64_t kPanel = 64;

template <bool ACCUMULATE>
void native(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t sa_i,
            int64_t sa_k, const float* b, int64_t ldb, float* c, int64_t ldc) {
  // Column panels of kPanel columns, the last one narrower.
  for (int64_t j = 0; j < N; j += kPanel) {
    const int nv = int(std::min<int64_t>(kPanel, N - j) / 16);
    const float* bj = b + j;
    float* cj = c + j;
    switch (nv) {
      case 1:
        panel<1, ACCUMULATE>(M, K, alpha, a, sa_i, sa_k, bj, ldb, cj, ldc);
        break;
      case 2:
        panel<2, ACCUMULATE>(M, K, alpha, a, sa_i, sa_k, bj, ldb, cj, ldc);
        break;
      case 3:
        panel<3, ACCUMULATE>(M, K, alpha, a, sa_i, sa_k, bj, ldb, cj, ldc);
        break;
      default:
        panel<4, ACCUMULATE>(M, K, alpha, a, sa_i, sa_k, bj, ldb, cj, ldc);
        break;
    }
  }
}

// What the AVX2 tiles do with a finished block of C = α·A·B:
//   Store       C = α·A·B;
//   Accumulate  C = α·A·B + IN (IN may be C itself, or another array: the residual of a block,
//               which then is not copied into C first);
//   ReluSquare  C = a = relu(α·A·B + bias), U = a² (the MLP's activation, written while the tile
//               is still in registers instead of in a second pass over C).
enum class Epi { Store, Accumulate, ReluSquare };
struct Epilogue {
  const float* in = nullptr;  // Accumulate: IN, row stride ldi
  int64_t ldi = 0;
  const float* bias = nullptr;  // ReluSquare: bias [N], and U with row stride ldu
  float* u = nullptr;
  int64_t ldu = 0;
  Epilogue at(int64_t i, int64_t j) const {  // the same for the block at row i, column j
    Epilogue e = *this;
    if (in) e.in = in + i * ldi + j;
    if (bias) e.bias = bias + j;
    if (u) e.u = u + i * ldu + j;
    return e;
  }
};

// The same tiles in AVX2 (8 floats a vector, 16 ymm registers): MR·NV ≤ 12 accumulators, NV
// vectors of B and one broadcast of A fit in the 16 registers without spilling, and 12 chains
// cover two FMA ports × 4 cycles of latency. Each k step does the same multiply-adds in the same
// order as the AVX-512 tile; only the split into vectors differs.
template <int NV, int MR, Epi E>
__attribute__((target("avx2,fma"))) inline void tile8(int64_t K, float alpha, const float* a,
                                                      int64_t sa_i, int64_t sa_k, const float* b,
                                                      int64_t ldb, const Epilogue& e, float* c,
                                                      int64_t ldc) {
  __m256 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const float* bk = b + k * ldb;
    __m256 bv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      bv[v] = _mm256_loadu_ps(bk + 8 * v);
      __asm__("" : "+x"(bv[v]));  // one load of B per k, as in the AVX-512 tile
    }
    const float* ak = a + k * sa_k;
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m256 ar = _mm256_broadcast_ss(ak + r * sa_i);
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
    }
  }
  const bool scaled = alpha != 1.0f;  // x·1 = x exactly: skip the multiply
  const __m256 s = _mm256_set1_ps(alpha), zero = _mm256_setzero_ps();
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      __m256 x = scaled ? _mm256_mul_ps(acc[r][v], s) : acc[r][v];
      if constexpr (E == Epi::Accumulate)
        x = _mm256_add_ps(x, _mm256_loadu_ps(e.in + r * e.ldi + 8 * v));
      if constexpr (E == Epi::ReluSquare) {
        // max(z + b, 0) and its square, the same operations as the separate pass; 0 first, so
        // that a NaN passes through as std::max(z + b, 0) lets it.
        x = _mm256_max_ps(zero, _mm256_add_ps(x, _mm256_loadu_ps(e.bias + 8 * v)));
        _mm256_storeu_ps(e.u + r * e.ldu + 8 * v, _mm256_mul_ps(x, x));
      }
      _mm256_storeu_ps(c + r * ldc + 8 * v, x);
    }
}

// The last M % MR rows of a panel as one shorter tile (R < MR rows): one row at a time would run
// NV dependent chains, a quarter of the FMA rate, and cost ~5% of a 256-row block.
template <int NV, int R, Epi E>
__attribute__((target("avx2,fma"))) void rest8(int64_t rows, int64_t K, float alpha, const float* a,
                                               int64_t sa_i, int64_t sa_k, const float* b,
                                               int64_t ldb, const Epilogue& e, float* c,
                                               int64_t ldc) {
  if constexpr (R > 1) {
    if (rows < R) return rest8<NV, R - 1, E>(rows, K, alpha, a, sa_i, sa_k, b, ldb, e, c, ldc);
  }
  tile8<NV, R, E>(K, alpha, a, sa_i, sa_k, b, ldb, e, c, ldc);
}

// All rows of one column panel of 8·NV columns: tiles of MR rows, then the rest as one tile.
template <int NV, int MR, Epi E>
__attribute__((target("avx2,fma"))) void panel8(int64_t M, int64_t K, float alpha, const float* a,
                                                int64_t sa_i, int64_t sa_k, const float* b,
                                                int64_t ldb, const Epilogue& e, float* c,
                                                int64_t ldc) {
  int64_t i = 0;
  for (; i + MR <= M; i += MR)
    tile8<NV, MR, E>(K, alpha, a + i * sa_i, sa_i, sa_k, b, ldb, e.at(i, 0), c + i * ldc, ldc);
  if (i < M)
    rest8<NV, MR - 1, E>(M - i, K, alpha, a + i * sa_i, sa_i, sa_k, b, ldb, e.at(i, 0), c + i * ldc,
                         ldc);
}

template <Epi E>
void native8(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t sa_i,
             int64_t sa_k, const float* b, int64_t ldb, const Epilogue& e, float* c, int64_t ldc) {
  // Long K (the head's dW over the batch: K = 1024) in blocks of 256, so that a panel's rows of B
  // stay in L1 while every row tile passes over them: 52% of peak unblocked, 80% blocked. (The
  // toy model's ReluSquare products have K = m, never this long.)
  constexpr int64_t kDepth = 256;
  if (E != Epi::ReluSquare && K > kDepth) {
    Epilogue onto_c;
    onto_c.in = c, onto_c.ldi = ldc;
    for (int64_t k0 = 0; k0 < K; k0 += kDepth) {
      const int64_t kb = std::min(kDepth, K - k0);
      if (k0 == 0)
        native8<E>(M, N, kb, alpha, a, sa_i, sa_k, b, ldb, e, c, ldc);
      else
        native8<Epi::Accumulate>(M, N, kb, alpha, a + k0 * sa_k, sa_i, sa_k, b + k0 * ldb, ldb,
                                 onto_c, c, ldc);
    }
    return;
  }
  constexpr int64_t kPanel8 = DS_AVX2_NV * 8;
  int64_t j = 0;
  for (; j + kPanel8 <= N; j += kPanel8)
    panel8<DS_AVX2_NV, DS_AVX2_MR, E>(M, K, alpha, a, sa_i, sa_k, b + j, ldb, e.at(0, j), c + j,
                                      ldc);
  for (; j < N; j += 8)  // a last panel of 8 columns (widths that are not a multiple of 16)
    panel8<1, 8, E>(M, K, alpha, a, sa_i, sa_k, b + j, ldb, e.at(0, j), c + j, ldc);
}

#endif  // DS_NATIVE_KERNEL

// C = α·A·B + β·IN (IN = C when `in` is null), β ∈ {0, 1}.
void run(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t sa_i, int64_t sa_k,
         const float* b, int64_t ldb, float beta, const float* in, int64_t ldi, float* c,
         int64_t ldc) {
  if (beta != 0.0f && beta != 1.0f) throw std::invalid_argument("matmul::mm: beta must be 0 or 1");
  if (!in) in = c, ldi = ldc;
#if DS_NATIVE_KERNEL
  if (current == Kernel::Native && kVectorFloats > 0 && N % kVectorFloats == 0 && M > 0 && N > 0) {
    // Rows of C are independent: with intra-op threads (run.threads > 1), each takes a range of
    // rows, and every row is computed the same way whatever the split (bit-identical results).
    auto rows = [&](int64_t i0, int64_t i1) {
      const float* ai = a + i0 * sa_i;
      const float* ii = in + i0 * ldi;
      float* ci = c + i0 * ldc;
      if (kAvx512) {
        if (beta != 0.0f && ii != ci)  // the AVX-512 tiles add C itself: copy IN's rows first
          for (int64_t i = 0; i < i1 - i0; ++i)
            std::memcpy(ci + i * ldc, ii + i * ldi, sizeof(float) * N);
        beta == 0.0f ? native<false>(i1 - i0, N, K, alpha, ai, sa_i, sa_k, b, ldb, ci, ldc)
                     : native<true>(i1 - i0, N, K, alpha, ai, sa_i, sa_k, b, ldb, ci, ldc);
      } else {
        Epilogue e;
        e.in = ii, e.ldi = ldi;
        beta == 0.0f
            ? native8<Epi::Store>(i1 - i0, N, K, alpha, ai, sa_i, sa_k, b, ldb, e, ci, ldc)
            : native8<Epi::Accumulate>(i1 - i0, N, K, alpha, ai, sa_i, sa_k, b, ldb, e, ci, ldc);
      }
    };
    if (at::get_num_threads() > 1 && M * N * K >= (1 << 20))
      at::parallel_for(0, M, 32, rows);
    else
      rows(0, M);
    return;
  }
#endif
  if (beta != 0.0f && in != c)  // the BLAS adds C itself: copy IN's rows first
    for (int64_t i = 0; i < M; ++i) std::memcpy(c + i * ldc, in + i * ldi, sizeof(float) * N);
  if (M * N * K >= (1 << 20)) {
    // Large products on the BLAS: blocks of rows of a fixed size, spread over the intra-op
    // threads. Every block is the same sgemm call whatever the number of threads (the BLAS runs
    // single-threaded inside a parallel region, and with one thread), so the result is
    // bit-identical for any run.threads, as on the native path; a BLAS left to thread one big
    // call itself picks kernels and splits by its thread count (it differs in the last bits).
    constexpr int64_t kRows = 256;
    at::parallel_for(0, (M + kRows - 1) / kRows, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t blk = b0; blk < b1; ++blk) {
        const int64_t i0 = blk * kRows, rows = std::min(kRows, M - i0);
        blas(rows, N, K, alpha, a + i0 * sa_i, sa_i, sa_k, b, ldb, beta, c + i0 * ldc, ldc);
      }
    });
    return;
  }
  blas(M, N, K, alpha, a, sa_i, sa_k, b, ldb, beta, c, ldc);
}

}  // namespace

void set_kernel(Kernel k) {
  current = k;
}
Kernel kernel() {
  return current;
}
bool native_available() {
  return kVectorFloats > 0;
}
int native_vector_floats() {
  return kVectorFloats;
}

namespace {

// Runs `product` (an M×N×K matmul), timed into the profile when counting is on.
template <class Product>
void timed(int64_t M, int64_t N, int64_t K, Product&& product) {
  if (!profile::counting()) {
    product();
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  product();
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  profile::add_matmul(dt, 2.0 * double(M) * double(N) * double(K));
}

}  // namespace

void mm(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t sa_i, int64_t sa_k,
        const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  timed(M, N, K, [&] { run(M, N, K, alpha, a, sa_i, sa_k, b, ldb, beta, nullptr, 0, c, ldc); });
}

bool mm_relu_square(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* b,
                    int64_t ldb, const float* bias, float* c, int64_t ldc, float* u, int64_t ldu) {
#if DS_NATIVE_KERNEL
  if (current != Kernel::Native || kVectorFloats != 8 || N % 8 != 0 || M <= 0) return false;
  if (M * N * K >= (1 << 20) && at::get_num_threads() > 1) return false;  // the threaded path
  Epilogue e;
  e.bias = bias, e.u = u, e.ldu = ldu;
  timed(M, N, K, [&] { native8<Epi::ReluSquare>(M, N, K, 1.0f, a, lda, 1, b, ldb, e, c, ldc); });
  return true;
#else
  return false;
#endif
}

void mm_add(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t sa_i,
            int64_t sa_k, const float* b, int64_t ldb, const float* in, int64_t ldi, float* c,
            int64_t ldc) {
  timed(M, N, K, [&] { run(M, N, K, alpha, a, sa_i, sa_k, b, ldb, 1.0f, in, ldi, c, ldc); });
}

}  // namespace depthscale::toy::matmul
