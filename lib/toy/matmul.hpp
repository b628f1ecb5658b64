// The small matmuls of the fused engine: C[M×N] = α·A·B + β·C for the toy model's shapes
// (batch rows × width 32 or 4·32, weights that fit in L1). On CPUs with AVX-512 they run on a
// register-tiled kernel that reads its operands in place; elsewhere, and for widths that are not
// a multiple of 16, on the system BLAS (sgemm_, the same one LibTorch calls). OpenBLAS packs both
// operands and zeroes C on every call, which at K = 32 costs about as much as the arithmetic.
#pragma once

#include <cstdint>

namespace depthscale::toy::matmul {

enum class Kernel {
  Native,  // the AVX-512 tiles where they apply, the BLAS elsewhere (the default)
  Blas,    // always the BLAS (for comparison: tests and benchmarks)
};
void set_kernel(Kernel k);  // for this thread
Kernel kernel();
bool native_available();  // this CPU has AVX-512F

// C[M×N] = α·A·B + β·C with β ∈ {0, 1} (0: C's old contents are ignored, NaN or not).
// A(i, k) = a[i·sa_i + k·sa_k], where sa_i or sa_k is 1 (A row-major, or A given as its
// transpose); B row-major [K×N] with leading dimension ldb; C row-major with ldc.
void mm(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t sa_i, int64_t sa_k,
        const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Time and FLOPs of this thread's mm calls, student and teacher apart (the benchmark's fraction
// of FMA peak). Off by default: two clock reads per call.
struct Tally {
  double student_seconds = 0, student_flops = 0, teacher_seconds = 0, teacher_flops = 0;
};
void count(bool on);  // also resets the tally
Tally tally();
void set_teacher_phase(bool teacher);  // which column the following calls are counted in

}  // namespace depthscale::toy::matmul
