// L-Mul (Luo & Sun 2024, "Addition is all you need for energy-efficient language models"): the
// scalar definitions every L-Mul fast path is tested against.
//
// Operands are first reduced to M mantissa bits (round=rne: nearest-even, or trunc: toward zero)
// in fp32's exponent range: fp32 subnormals flush to ±0 (the method assumes a hidden 1), values
// that round past FLT_MAX saturate to the largest M-bit value, ±Inf and NaN stay as they are.
// With x = ±(1 + x_m)·2^e_x, y = ±(1 + y_m)·2^e_y, s = x_m + y_m + 2^−l(M) and sign = XOR:
//   variant=bits     what an integer adder on the (exponent|mantissa) patterns computes, the
//                    paper's own simulation: bits(x) + bits(y) − (0x3F800000 − 2^(23−l)), i.e.
//                    (1 + frac(s))·2^(e_x + e_y + floor(s)) (0x3F780000 for M = 23, paper §3).
//   variant=formula  the printed equation (1 + s)·2^(e_x + e_y), no renormalisation (paper eq. 3).
// Both: a zero (or subnormal) operand gives a zero with the XOR sign; NaN gives NaN; ±Inf times a
// nonzero gives ±Inf, Inf × 0 gives NaN (IEEE); a result below 2^−126 flushes to ±0 and one beyond
// FLT_MAX becomes ±Inf (as the fp32 product it replaces would).
#pragma once
#include <cstdint>

#include "core/arith/arith.h"

namespace lmul::arith {

enum class LMulVariant { bits, formula };

// l(M) of the paper's eq. (3): M for M ≤ 3, 3 for M = 4, 4 for M > 4.
constexpr int lmul_l(int m) { return m <= 3 ? m : m == 4 ? 3 : 4; }

// The constant subtracted from the sum of the two bit patterns: the exponent bias minus the
// offset 2^−l in mantissa units.
constexpr uint32_t lmul_bits_constant(int m) { return 0x3F800000u - (1u << (23 - lmul_l(m))); }

// Reduction of one operand to m mantissa bits (see above). trunc: round toward zero.
float lmul_reduce_ref(float x, int m, bool trunc);
// Fast path of the reduction over a rows×cols block (row stride ld) into contiguous out.
void lmul_reduce(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out, int m, bool trunc);

float lmul_bits_ref(float x, float y, int m);
float lmul_formula_ref(float x, float y, int m);
inline float lmul_ref(LMulVariant v, float x, float y, int m) {
  return v == LMulVariant::bits ? lmul_bits_ref(x, y, m) : lmul_formula_ref(x, y, m);
}

// The GEMM as the definition forms it: C[i][j] = (accumulate ? C[i][j] : 0) + Σ_k mul(A_ik, B_kj),
// summed in fp32 in order of k. Slow; the reference for the fast GEMMs and their fallback for
// operands outside the fast paths' range (NaN, Inf, exponent sums that under/overflow). The bits
// kernels skip zero products instead of adding ±0 — the same sum, except that a C entry holding −0
// stays −0 where adding +0 would give +0.
void lmul_gemm_ref(LMulVariant v, const Gemm& g, int m);

// Fast GEMMs. formula: one sgemm with the inner dimension doubled (lmul_formula_gemm.cpp);
// bits: a blocked, register-tiled integer-add kernel (lmul_bits_gemm.cpp).
void lmul_formula_gemm(const Gemm& g, int m);
void lmul_bits_gemm(const Gemm& g, int m);
// The portable bits kernel (what non-AVX-512 builds use), exposed for its test.
void lmul_bits_gemm_portable(const Gemm& g, int m);

}  // namespace lmul::arith
