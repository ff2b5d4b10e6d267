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

// a = e + m with e = ±2^e_a (sign and exponent bits) and m = a − e; zero and subnormal a give
// (0, 0). Written with selects so that the loops below vectorise.
inline float power_part(float a) {
  const uint32_t b = std::bit_cast<uint32_t>(a);
  return (b & 0x7F800000u) == 0 ? 0.0f : std::bit_cast<float>(b & 0xFF800000u);
}

// The exponent field of a, for the finiteness check taken in the same pass (255 = Inf or NaN).
inline uint32_t exponent_field(float a) { return std::bit_cast<uint32_t>(a) & 0x7F800000u; }

// [A_e | A_m] for every stored row of an operand of `rows` × `len` (stride ld), kept in the
// operand's own layout so that every loop reads and writes contiguously:
//   A as stored M×K (ta = false) → M×2K, row i = [A_e(i,·) | A_m(i,·)];
//   A as stored K×M (ta = true)  → 2K×M, rows k and K + k = A_e(·,k) and A_m(·,k).
// Called inside a parallel region, whose threads share the rows; returns the largest exponent field
// among this thread's rows.
uint32_t split_a(const float* A, int64_t rows, int64_t len, int64_t ld, bool by_rows, float* A2) {
  uint32_t hi = 0;
#pragma omp for schedule(static) nowait
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = A + r * ld;
    float* e = by_rows ? A2 + r * 2 * len : A2 + r * len;
    float* m = by_rows ? e + len : A2 + (rows + r) * len;
#pragma omp simd reduction(max : hi)
    for (int64_t k = 0; k < len; ++k) {
      const float pe = power_part(a[k]);
      hi = std::max(hi, exponent_field(a[k]));
      e[k] = pe;
      m[k] = pe == 0.0f ? 0.0f : a[k] - pe;
    }
  }
  return hi;
}

// [[B + c·B_e], [B_e]] in B's own layout:
//   B as stored K×N (tb = false) → 2K×N, rows k and K + k;
//   B as stored N×K (tb = true)  → N×2K, row j = [B(·,j) + c·B_e(·,j) | B_e(·,j)].
uint32_t split_b(const float* B, int64_t rows, int64_t len, int64_t ld, bool by_rows, float c, float* B2) {
  uint32_t hi = 0;
#pragma omp for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* b = B + r * ld;
    float* top = by_rows ? B2 + r * 2 * len : B2 + r * len;
    float* bottom = by_rows ? top + len : B2 + (rows + r) * len;
#pragma omp simd reduction(max : hi)
    for (int64_t k = 0; k < len; ++k) {
      const float pe = power_part(b[k]);
      hi = std::max(hi, exponent_field(b[k]));
      top[k] = pe == 0.0f ? 0.0f : b[k] + c * pe;  // exact for M ≤ 22 (≤ M + 2 bits)
      bottom[k] = pe;
    }
  }
  return hi;
}

}  // namespace

void lmul_formula_gemm(const Gemm& g, int m) {
  if (g.M == 0 || g.N == 0) return;
  const int64_t M = g.M, N = g.N, K = g.K;
  const float c = std::ldexp(1.0f, -lmul_l(m));
  thread_local std::vector<float> a2, b2;
  a2.resize(static_cast<size_t>(M * 2 * K));
  b2.resize(static_cast<size_t>(2 * K * N));
  float* A2 = a2.data();
  float* B2 = b2.data();
  uint32_t hi_a = 0, hi_b = 0;
#pragma omp parallel if (M * N * K > 65536)
  {
    // Stored A: M rows of K (ta = false) or K rows of M; stored B: K rows of N or N rows of K.
    const uint32_t ha = g.ta ? split_a(g.A, K, M, g.lda, false, A2) : split_a(g.A, M, K, g.lda, true, A2);
    const uint32_t hb = g.tb ? split_b(g.B, N, K, g.ldb, true, c, B2) : split_b(g.B, K, N, g.ldb, false, c, B2);
#pragma omp critical
    {
      hi_a = std::max(hi_a, ha);
      hi_b = std::max(hi_b, hb);
    }
  }
  // Inf·0 inside the split terms would make NaN where the definition gives ±Inf: such GEMMs take
  // the reference path.
  if (hi_a == 0x7F800000u || hi_b == 0x7F800000u) {
    lmul_gemm_ref(LMulVariant::formula, g, m);
    return;
  }
  Gemm h = g;
  h.K = 2 * K;
  h.A = A2;
  h.lda = g.ta ? M : 2 * K;
  h.B = B2;
  h.ldb = g.tb ? 2 * K : N;
  sgemm(h);
}

}  // namespace lmul::arith
