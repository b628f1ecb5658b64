// The fused engine's matmul kernel against a float64 reference: every panel width the toy
// model can produce, rows that are not a multiple of the tile height, both layouts of A, β = 0
// over a C full of NaN (must be ignored) and β = 1 (must be added to).
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "toy/matmul.hpp"

using namespace depthscale::toy;

namespace {

struct Case {
  int64_t M, N, K;
};

// Runs every case on the current kernel; returns the worst |error| / (|A|·|B| scale).
double worst_error(matmul::Kernel kernel) {
  matmul::set_kernel(kernel);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  double worst = 0;
  for (const Case c :
       {Case{256, 128, 32}, Case{256, 32, 128}, Case{128, 32, 256}, Case{1, 16, 1}, Case{7, 48, 5},
        Case{37, 80, 33}, Case{13, 144, 17}, Case{601, 64, 16}, Case{5, 24, 9}}) {
    for (bool a_t : {false, true}) {
      for (float beta : {0.0f, 1.0f}) {
        const int64_t lda = (a_t ? c.M : c.K) + 3, ldb = c.N + 5, ldc = c.N + 2;
        std::vector<float> a((a_t ? c.K : c.M) * lda), b(c.K * ldb), cm(c.M * ldc);
        for (auto& x : a) x = normal(rng);
        for (auto& x : b) x = normal(rng);
        for (auto& x : cm) x = beta == 0 ? std::numeric_limits<float>::quiet_NaN() : normal(rng);
        const std::vector<float> c0 = cm;
        const float alpha = 0.75f;
        const int64_t sa_i = a_t ? 1 : lda, sa_k = a_t ? lda : 1;
        matmul::mm(c.M, c.N, c.K, alpha, a.data(), sa_i, sa_k, b.data(), ldb, beta, cm.data(), ldc);
        for (int64_t i = 0; i < c.M; ++i)
          for (int64_t j = 0; j < c.N; ++j) {
            double ref = beta == 0 ? 0.0 : double(c0[i * ldc + j]);
            double scale = std::abs(ref);
            for (int64_t k = 0; k < c.K; ++k) {
              const double p = double(a[i * sa_i + k * sa_k]) * double(b[k * ldb + j]);
              ref += alpha * p;
              scale += std::abs(alpha * p);
            }
            const double got = cm[i * ldc + j];
            if (!std::isfinite(got)) return INFINITY;
            worst = std::max(worst, std::abs(got - ref) / (scale + 1e-30));
          }
        // Nothing outside the M×N block is touched.
        for (int64_t i = 0; i < c.M; ++i)
          for (int64_t j = c.N; j < ldc; ++j)
            if (!(std::isnan(c0[i * ldc + j]) && std::isnan(cm[i * ldc + j])) &&
                c0[i * ldc + j] != cm[i * ldc + j])
              return INFINITY;
      }
    }
  }
  matmul::set_kernel(matmul::Kernel::Native);
  return worst;
}

}  // namespace

TEST(Matmul, NativeKernelMatchesFloat64Reference) {
  if (!matmul::native_available())
    GTEST_SKIP() << "this CPU has neither AVX-512F nor AVX2+FMA: the BLAS serves";
  // float32 accumulation of up to 256 products: relative error well under 1e-5 of Σ|terms|.
  EXPECT_LT(worst_error(matmul::Kernel::Native), 1e-5);
}

TEST(Matmul, BlasPathMatchesFloat64Reference) {
  EXPECT_LT(worst_error(matmul::Kernel::Blas), 1e-5);
}

// C = α·A·B + IN from another array equals copying IN into C and accumulating, bit for bit, on
// both kernels, for shapes with row tails and column panels of 8; nothing else in C is touched.
TEST(Matmul, AddingAnotherArrayEqualsCopyThenAccumulate) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  for (auto kernel : {matmul::Kernel::Native, matmul::Kernel::Blas}) {
    matmul::set_kernel(kernel);
    for (const Case c : {Case{256, 32, 128}, Case{37, 24, 33}, Case{5, 16, 300}, Case{1, 8, 4}}) {
      const int64_t ldi = c.N + 7, ldc = c.N + 2;
      std::vector<float> a(c.M * c.K), b(c.K * c.N), in(c.M * ldi);
      for (auto& x : a) x = normal(rng);
      for (auto& x : b) x = normal(rng);
      for (auto& x : in) x = normal(rng);
      std::vector<float> got(c.M * ldc, -5.0f), want(c.M * ldc, -5.0f);
      for (int64_t i = 0; i < c.M; ++i)
        std::copy(in.begin() + i * ldi, in.begin() + i * ldi + c.N, want.begin() + i * ldc);
      matmul::mm(c.M, c.N, c.K, 0.5f, a.data(), c.K, 1, b.data(), c.N, 1.0f, want.data(), ldc);
      matmul::mm_add(c.M, c.N, c.K, 0.5f, a.data(), c.K, 1, b.data(), c.N, in.data(), ldi,
                     got.data(), ldc);
      EXPECT_EQ(got, want) << "M=" << c.M << " N=" << c.N << " K=" << c.K
                           << (kernel == matmul::Kernel::Blas ? " [blas]" : " [native]");
    }
  }
  matmul::set_kernel(matmul::Kernel::Native);
}

// relu(A·B + bias) and its square in the epilogue equal the product followed by the separate
// pass, bit for bit, NaN included; where the kernel cannot fuse, nothing is touched.
TEST(Matmul, ReluSquareEpilogueEqualsTheSeparatePass) {
  std::mt19937 rng(13);
  std::normal_distribution<float> normal;
  for (const Case c : {Case{256, 128, 32}, Case{37, 24, 33}, Case{7, 8, 3}}) {
    const int64_t lda = c.K + 1, ldc = c.N + 3, ldu = c.N + 5;
    std::vector<float> a(c.M * lda), b(c.K * c.N), bias(c.N);
    for (auto& x : a) x = normal(rng);
    for (auto& x : b) x = normal(rng);
    for (auto& x : bias) x = normal(rng);
    a[lda + 1] = std::numeric_limits<float>::quiet_NaN();  // row 1 is NaN throughout
    std::vector<float> c1(c.M * ldc, -3.0f), u1(c.M * ldu, -3.0f);
    std::vector<float> c2 = c1, u2 = u1;
    if (!matmul::mm_relu_square(c.M, c.N, c.K, a.data(), lda, b.data(), c.N, bias.data(), c1.data(),
                                ldc, u1.data(), ldu)) {
      EXPECT_EQ(c1, c2);
      EXPECT_EQ(u1, u2);
      GTEST_SKIP() << "this CPU's kernel does not fuse the activation (AVX2 tiles only)";
    }
    matmul::mm(c.M, c.N, c.K, 1.0f, a.data(), lda, 1, b.data(), c.N, 0.0f, c2.data(), ldc);
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) {
        const float x = std::max(c2[i * ldc + j] + bias[j], 0.0f);
        c2[i * ldc + j] = x;
        u2[i * ldu + j] = x * x;
      }
    for (size_t i = 0; i < c1.size(); ++i)
      ASSERT_TRUE(c1[i] == c2[i] || (std::isnan(c1[i]) && std::isnan(c2[i]))) << i;
    for (size_t i = 0; i < u1.size(); ++i)
      ASSERT_TRUE(u1[i] == u2[i] || (std::isnan(u1[i]) && std::isnan(u2[i]))) << i;
    EXPECT_TRUE(std::isnan(c1[ldc]));  // the NaN row stayed NaN
  }
}

// Intra-op threads split the rows of C; each row is computed the same way, so the result does
// not depend on the number of threads.
TEST(Matmul, ThreadsGiveBitIdenticalResults) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  const int64_t M = 1000, N = 128, K = 32;
  std::vector<float> a(M * K), b(K * N), one(M * N), two(M * N);
  for (auto& x : a) x = normal(rng);
  for (auto& x : b) x = normal(rng);
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  matmul::mm(M, N, K, 1.0f, a.data(), K, 1, b.data(), N, 0.0f, one.data(), N);
  at::set_num_threads(2);
  matmul::mm(M, N, K, 1.0f, a.data(), K, 1, b.data(), N, 0.0f, two.data(), N);
  at::set_num_threads(before);
  EXPECT_EQ(one, two);
  EXPECT_NE(one, std::vector<float>(M * N, 0.0f));
}

TEST(Matmul, BetaOtherThanZeroOrOneIsRefused) {
  float a = 1, b = 1, c = 1;
  EXPECT_THROW(matmul::mm(1, 1, 1, 1.0f, &a, 1, 1, &b, 1, 0.5f, &c, 1), std::invalid_argument);
}
