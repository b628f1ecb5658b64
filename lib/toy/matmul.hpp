// The small matmuls of the fused engine: C[M×N] = α·A·B + β·C for the toy model's shapes
// (batch rows × width 32 or 4·32, weights that fit in L1). On CPUs with AVX-512 (widths a
// multiple of 16) or AVX2 with FMA (multiples of 8) they run on a register-tiled kernel that
// reads its operands in place; elsewhere on the system BLAS (sgemm_, the same one LibTorch
// calls). OpenBLAS packs both operands and zeroes C on every call, which at K = 32 costs about as
// much as the arithmetic. With profile::count on, every call is timed (bench/toy_bench).
#pragma once

#include <cstdint>

namespace depthscale::toy::matmul {

enum class Kernel {
  Native,  // the AVX-512 or AVX2 tiles where they apply, the BLAS elsewhere (the default)
  Blas,    // always the BLAS (for comparison: tests and benchmarks)
};
void set_kernel(Kernel k);  // for this thread
Kernel kernel();
bool native_available();     // this CPU has AVX-512F, or AVX2 with FMA
int native_vector_floats();  // 16 (AVX-512F), 8 (AVX2), 0 (none): widths must be a multiple

// C[M×N] = α·A·B + β·C with β ∈ {0, 1} (0: C's old contents are ignored, NaN or not).
// A(i, k) = a[i·sa_i + k·sa_k], where sa_i or sa_k is 1 (A row-major, or A given as its
// transpose); B row-major [K×N] with leading dimension ldb; C row-major with ldc.
void mm(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t sa_i, int64_t sa_k,
        const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// C = α·A·B + IN, IN row-major with leading dimension ldi (may be C itself): a residual added as
// the product is written, without copying it into C first where the kernel allows.
void mm_add(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t sa_i,
            int64_t sa_k, const float* b, int64_t ldb, const float* in, int64_t ldi, float* c,
            int64_t ldc);

// C = a = relu(A·B + bias) and U = a² (A row-major with leading dimension lda, bias [N]), in the
// matmul's epilogue, where the AVX2 tiles serve the call (one thread). Returns false, touching
// nothing, where they do not: the caller then runs mm and its own pass (the same operations).
bool mm_relu_square(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* b,
                    int64_t ldb, const float* bias, float* c, int64_t ldc, float* u, int64_t ldu);

}  // namespace depthscale::toy::matmul
