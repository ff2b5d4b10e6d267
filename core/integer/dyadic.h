// Dyadic requantisation (HAWQ-V3; the I-ViT code's batch_frexp / fixedpoint_mul, spec:
// ../shared/research/ivit_integer_ops.md §4, §8, §9.7-8): every rescale between integer tensors
// is acc·m / 2^e rounded half to even — an integer multiply and a shift, no float, no division.
// The multiplier s_in/s_out is turned into (m, e) once, outside the integer graph.
#pragma once
#include <cstdint>

namespace lmul::integer {

// multiplier ≈ m·2^−e with m ∈ [2^30, 2^31] (m = 2^31 happens: frexp mantissa ≥ 1 − 2^−32 rounds
// up, so m does not always fit an int32) and e ≥ 0.
struct Dyadic {
  int64_t m = 0;
  int e = 0;
};

// frexp(multiplier) = (mant, ex), mant ∈ [0.5, 1); m = mant·2^31 rounded half away from zero
// (Python Decimal ROUND_HALF_UP, as the reference); e = 31 − ex. Throws lmul::Error unless
// 0 < multiplier < 2^31 (finite): a larger one would need a left shift, e < 0.
Dyadic dyadic(double multiplier);

// round_half_even(acc·m / 2^e), exact. |acc| ≤ 2^31 (an int32 accumulator), so |acc·m| ≤ 2^62
// fits an int64; e ≥ 64 gives 0 (|acc·m| < 2^63 ≤ 2^(e−1): below one half), a shift C++ leaves
// undefined, so it is handled before shifting.
int64_t requant(int64_t acc, Dyadic d);

// Clamp to the signed `bits`-bit range [−2^(bits−1), 2^(bits−1) − 1]; bits ∈ [2, 32].
int64_t clamp_bits(int64_t v, int bits);

// The residual add (QuantAct with an identity branch, QU:232-245): both branches are requantised
// and rounded separately to the common output scale, then added, then clamped.
int64_t residual_requant(int64_t a, Dyadic da, int64_t b, Dyadic db, int bits);

// round_half_even(num / den) of the exact rational, den > 0 (I-LayerNorm's mean).
int64_t round_half_even_div(int64_t num, int64_t den);

// floor(num / den) for any signs, den ≠ 0 (C++ '/' truncates toward zero).
int64_t floor_div(int64_t num, int64_t den);

// quantize(x, s, b) = clamp(round_half_even(f32(f32(1/s)·x)), b bits) (§9.8): the float →
// integer boundary, used offline for weights and embeddings, never inside the integer graph.
// s > 0; NaN gives 0 (a caller that can meet NaN checks for it first).
int64_t quantize(float x, float s, int bits);

}  // namespace lmul::integer
