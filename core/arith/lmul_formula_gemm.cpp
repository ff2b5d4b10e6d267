// L-Mul variant=formula as ONE sgemm with the inner dimension doubled (docs/ARCHITECTURE.md §3, fast paths).
// Write a reduced operand a = A_e + A_m with A_e = ±2^e_a its power-of-two part and A_m = ±x_m·2^e_a
// its mantissa part (both exact in fp32). Then with c = 2^−l(M)
//   L(a, b) = (1 + c)·A_e·B_e + A_m·B_e + A_e·B_m = A_e·(B + c·B_e) + A_m·B_e,
// so C = [A_e | A_m] (M×2K) · [[B + c·B_e], [B_e]] (2K×N). Every term is exact in fp32; only the
// summation order differs from the product-by-product definition. Zero and subnormal operands
// split into (0, 0), i.e. contribute 0 as the definition says.
#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "core/arith/lmul_math.h"

namespace lmul::arith {

namespace {

struct Split {
  float e, m;
};

Split split(float a) {
  const uint32_t b = std::bit_cast<uint32_t>(a);
  if ((b & 0x7F800000u) == 0) return {0.0f, 0.0f};
  const float e = std::bit_cast<float>(b & 0xFF800000u);  // sign and exponent: ±2^e_a
  return {e, a - e};
}

bool all_finite(const float* x, int64_t rows, int64_t cols, int64_t ld) {
  uint32_t hi = 0;  // largest exponent field; 255 = Inf or NaN
#pragma omp parallel for schedule(static) reduction(max : hi) if (rows * cols > 65536)
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * ld;
#pragma omp simd reduction(max : hi)
    for (int64_t j = 0; j < cols; ++j) hi = std::max(hi, std::bit_cast<uint32_t>(xi[j]) & 0x7F800000u);
  }
  return hi != 0x7F800000u;
}

}  // namespace

void lmul_formula_gemm(const Gemm& g, int m) {
  if (g.M == 0 || g.N == 0) return;
  // Inf·0 inside the split terms would make NaN where the definition gives ±Inf: such GEMMs take
  // the reference path.
  if (!all_finite(g.A, g.ta ? g.K : g.M, g.ta ? g.M : g.K, g.lda) ||
      !all_finite(g.B, g.tb ? g.N : g.K, g.tb ? g.K : g.N, g.ldb)) {
    lmul_gemm_ref(LMulVariant::formula, g, m);
    return;
  }
  const int64_t M = g.M, N = g.N, K = g.K;
  const float c = std::ldexp(1.0f, -lmul_l(m));
  thread_local std::vector<float> a2, b2;
  a2.resize(static_cast<size_t>(M * 2 * K));
  b2.resize(static_cast<size_t>(2 * K * N));
  float* A2 = a2.data();
  float* B2 = b2.data();
#pragma omp parallel if (M * N * K > 65536)
  {
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < M; ++i)
      for (int64_t k = 0; k < K; ++k) {
        const Split s = split(g.ta ? g.A[k * g.lda + i] : g.A[i * g.lda + k]);
        A2[i * 2 * K + k] = s.e;
        A2[i * 2 * K + K + k] = s.m;
      }
#pragma omp for schedule(static)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) {
        const float b = g.tb ? g.B[j * g.ldb + k] : g.B[k * g.ldb + j];
        const Split s = split(b);
        B2[k * N + j] = s.e == 0.0f ? 0.0f : b + c * s.e;  // exact for M ≤ 22 (≤ M + 2 bits)
        B2[(K + k) * N + j] = s.e;
      }
  }
  Gemm h = g;
  h.ta = h.tb = false;
  h.K = 2 * K;
  h.A = A2;
  h.lda = 2 * K;
  h.B = B2;
  h.ldb = N;
  sgemm(h);
}

}  // namespace lmul::arith
