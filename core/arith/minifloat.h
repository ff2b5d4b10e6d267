// Small floating-point formats held in fp32: IEEE-like float:e=E,m=M (bf16, fp16) and OCP OFP8
// (E4M3FN, E5M2). The scalar round_*_ref functions are the definition; round_minifloat is the fast
// path (OpenMP over rows, branch-free SIMD-friendly inner loop) and equals them bit for bit.
//
// Policy for special inputs (all minifloats, both roundings):
//   NaN → the same NaN (E4M3FN has NaN = S.1111.111; the fp32 value carries it);
//   ±Inf and every finite value beyond the largest finite → ±max finite (saturating conversion,
//   OCP OFP8 §5 "saturation mode"; also for float:/bf16/fp16 which would overflow to Inf in IEEE);
//   ±0 keeps its sign, and a value that rounds to zero gets the sign of the input (−0 for x < 0).
// fp32 subnormal inputs are rounded like any value (no flush): never build with -ffast-math (DAZ).
#pragma once
#include <cstdint>

#include "core/arith/rounding.h"

namespace lmul::arith {

struct MiniFloat {
  int e = 8, m = 23;  // exponent and mantissa bits
  int emin = -126;    // exponent of the smallest normal, 1 − bias
  float max_finite = 0;

  // IEEE-like: bias 2^(e−1) − 1, all-ones exponent reserved for Inf/NaN, subnormals.
  // max = (2 − 2^−m)·2^(2^e − 2 − bias). e in 2..8, m in 1..23.
  static MiniFloat ieee(int e, int m);
  // OCP E4M3FN: bias 7, all-ones exponent holds normals except S.1111.111 = NaN → max 448.
  static MiniFloat e4m3();
  // OCP E5M2: IEEE-like, bias 15, max 57344.
  static MiniFloat e5m2();
};

// Round to nearest, ties to even. The definition: q = 2^(max(exponent(x), emin) − m),
// result = nearbyint(x/q)·q, then the special-input policy above.
float round_nearest_ref(const MiniFloat& f, float x);

// OCP OFP8 bytes (f = E4M3FN or E5M2, e + m = 7), as `lmul export` stores them. The code of
// round_nearest_ref(f, x): sign bit, exponent field (bias 1 − emin), mantissa; NaN → 0x7F. One
// encoder for the arithmetic and the export (a nearest-code search agreed with it on every fp32).
uint8_t ofp8_encode(const MiniFloat& f, float x);
// The value of a code: E4M3FN's S.1111.111 is NaN; E5M2's S.11111.00 is ±Inf, S.11111.{01,10,11} NaN.
float ofp8_decode(const MiniFloat& f, uint8_t code);

// Stochastic rounding with 32 random bits r (QPyTorch's float_quantize: random bits added below
// the kept mantissa, then truncation), defined as floor(|x|/q + r·2^−32)·q with the sign of x:
// rounds up with probability equal to the dropped fraction (to 2^−32).
float round_stochastic_ref(const MiniFloat& f, float x, uint32_t r);

// out[i·cols + j] = round(x[i·ld + j]·scale)/scale for a rows×cols block. scale must be a power of
// two (then both the scaling and the dequantisation are exact). Stochastic rounding draws
// random_bits(key, i·cols + j). With amax given, *amax = max |x| over the block, +Inf when any
// element is NaN or ±Inf (fp8_scaling.h's amax, taken in the same pass: delayed scaling records the
// amax of the tensor it has just rounded with the previous scale).
void round_minifloat(const MiniFloat& f, Rounding rounding, const float* x, int64_t rows, int64_t cols, int64_t ld,
                     float* out, float scale = 1.0f, uint64_t key = 0, float* amax = nullptr);

}  // namespace lmul::arith
