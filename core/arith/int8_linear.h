// The integer forward GEMM of `gemm=int` (int and ternary formats): a Linear layer's Y = X·Wᵀ on
// the int8 codes of both operands, as integer hardware computes it.
//   acc(i, j) = Σ_k a.code(i, k) · w.code(j, k)        exact, in int32 (integer::int8_gemm)
//   y(i, j)   = fp32 of: f = float(acc); f = f ⊙ a.scale(i); f = f ⊙ w.scale(j)
// where ⊙ is · (or / when that operand's divide is set), each step one fp32 rounding, in this order
// (float(acc) itself rounds once |acc| > 2^24). A row of either operand holding a NaN makes its
// outputs NaN. The fp32 emulation (quantize() then sgemm) instead rounds every q·s to fp32 and sums
// the fp32 products in sgemm's order; the two agree to a few fp32 ulps of Σ|x_k·w_k| (tested).
#pragma once
#include <cstdint>

#include "core/arith/arith.h"

namespace lmul::arith {

// a: M×K codes (activations), w: N×K codes (weights, an (out, in) matrix); C: M×N, row stride
// ldc, overwritten. K must stay below 2^17 so that int8 sums fit an int32 (throws lmul::Error).
// Threads: OpenMP over rows; the result does not depend on the thread count.
void int8_linear(const Int8Codes& a, const Int8Codes& w, int64_t M, int64_t N, int64_t K, float* C, int64_t ldc);

// The scalar reference of int8_linear: plain loops, int64 sums, the same epilogue.
void int8_linear_ref(const Int8Codes& a, const Int8Codes& w, int64_t M, int64_t N, int64_t K, float* C, int64_t ldc);

}  // namespace lmul::arith
