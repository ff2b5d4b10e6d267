// ShiftGELU: I-ViT's integer-only GELU (IntGELU, QM:389-445), exactly as specified in
// ../shared/research/ivit_integer_ops.md §2 and §9.4-5. GELU(x) ≈ x·σ(1.702x), with
//   s_sig = f32(s·f32(1.702)) (1.702 folded into the float scale), x0 = floor(−1/s_sig),
//   m = max of the row (one token's features), e = int_exp_shift(x − m, x0, 23),
//   e_m = int_exp_shift(−m, x0, 23) (saturated at 2^31 − 1), S = min(e + e_m, 2^31 − 1),
//   f = floor((2^31 − 1)/S), sig = (e·f) >> (32 − b) ∈ [0, 2^(b−1) − 1], y = x·sig,
//   output scale f32(s / 2^(b−1)). No requantisation inside.
// Known limit of the algorithm (§2): f keeps ~31 − log2 S bits, so GELU of the largest
// activations comes out a few per cent low.
#pragma once
#include <cstdint>
#include <span>

namespace lmul::integer {

inline constexpr int kShiftGeluN = 23;

// x0 of ShiftGELU for input scale s: floor(−f32(1/f32(s·f32(1.702)))).
int64_t shiftgelu_x0(float s);

// Throws lmul::Error unless |x0|·2^n ≤ 2^31 − 1: a finer scale makes e alone exceed the sum's
// clamp, and sig breaks (§8, "int32 if |x0| < 256").
void check_shiftgelu_range(int64_t x0, int n);

// One row (token) of integer inputs; y[j] = x[j]·sig[j]. out_bits ∈ [2, 16].
void shiftgelu_row(std::span<const int32_t> x, int64_t x0, int n, int out_bits, std::span<int64_t> y);

// The output scale s / 2^(out_bits−1) in float32.
float shiftgelu_scale_out(float s, int out_bits);

}  // namespace lmul::integer
