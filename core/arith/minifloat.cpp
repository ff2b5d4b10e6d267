#include "core/arith/minifloat.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "core/arith/counter_random.h"
#include "core/error.h"

namespace lmul::arith {

MiniFloat MiniFloat::ieee(int e, int m) {
  LMUL_ASSERT(e >= 2 && e <= 8 && m >= 1 && m <= 23);
  MiniFloat f;
  f.e = e;
  f.m = m;
  const int bias = (1 << (e - 1)) - 1;
  f.emin = 1 - bias;
  const int emax = (1 << e) - 2 - bias;
  f.max_finite = std::ldexp(2.0f - std::ldexp(1.0f, -m), emax);
  return f;
}

MiniFloat MiniFloat::e4m3() {
  MiniFloat f;
  f.e = 4;
  f.m = 3;
  f.emin = -6;
  f.max_finite = 448.0f;  // 1.110b·2^8: 1.111b·2^8 is the NaN code
  return f;
}

MiniFloat MiniFloat::e5m2() { return ieee(5, 2); }

namespace {

float saturate(const MiniFloat& f, float x, float magnitude) {
  return std::copysign(std::min(magnitude, f.max_finite), x);
}

}  // namespace

float round_nearest_ref(const MiniFloat& f, float x) {
  if (std::isnan(x)) return x;
  if (std::isinf(x)) return std::copysign(f.max_finite, x);
  const float a = std::fabs(x);
  if (a == 0.0f) return x;
  const int qe = std::max(std::ilogb(a), f.emin) - f.m;
  const float k = std::nearbyint(std::ldexp(a, -qe));  // default mode: ties to even
  return saturate(f, x, std::ldexp(k, qe));
}

float round_stochastic_ref(const MiniFloat& f, float x, uint32_t r) {
  if (std::isnan(x)) return x;
  if (std::isinf(x)) return std::copysign(f.max_finite, x);
  const uint32_t bits = std::bit_cast<uint32_t>(x) & 0x7FFFFFFFu;
  if (bits == 0) return x;
  // |x| = sig·2^(ex − 23) with sig < 2^24 (fp32 subnormals: exponent −126 without the hidden bit).
  const int field = static_cast<int>(bits >> 23);
  const uint64_t sig = field ? (bits & 0x7FFFFFu) | 0x800000u : bits;
  const int ex = field ? field - 127 : -126;
  const int qe = std::max(ex, f.emin) - f.m;
  const int d = qe - (ex - 23);  // mantissa bits dropped, ≥ 0
  // F = floor(|x|/q·2^32); k = floor(|x|/q + r·2^−32) = (F + r) >> 32.
  const uint64_t F = d <= 32 ? sig << (32 - d) : sig >> std::min(d - 32, 63);
  const uint64_t k = (F + r) >> 32;
  return saturate(f, x, std::ldexp(static_cast<float>(k), qe));
}

uint8_t ofp8_encode(const MiniFloat& f, float x) {
  LMUL_ASSERT(f.e + f.m == 7);
  const float r = round_nearest_ref(f, x);
  if (std::isnan(r)) return 0x7F;
  const uint8_t sign = std::signbit(r) ? 0x80 : 0;
  const float a = std::fabs(r);
  if (a < std::ldexp(1.0f, f.emin))  // zero or subnormal: the mantissa field counts 2^(emin − m)
    return sign | static_cast<uint8_t>(std::ldexp(a, f.m - f.emin));
  const int e = std::ilogb(a);
  const int mantissa = static_cast<int>(std::ldexp(a, f.m - e)) - (1 << f.m);
  return sign | static_cast<uint8_t>(((e + 1 - f.emin) << f.m) | mantissa);
}

float ofp8_decode(const MiniFloat& f, uint8_t code) {
  LMUL_ASSERT(f.e + f.m == 7);
  const int field = (code >> f.m) & ((1 << f.e) - 1), mantissa = code & ((1 << f.m) - 1);
  const float sign = (code & 0x80) ? -1.0f : 1.0f;
  if (field == 0) return sign * std::ldexp(static_cast<float>(mantissa), f.emin - f.m);
  const float v = std::ldexp(static_cast<float>((1 << f.m) + mantissa), field - 1 + f.emin - f.m);
  // Past the largest finite value lie only the all-ones exponent's special codes: E5M2's ±Inf
  // (mantissa 0) and NaNs, E4M3FN's NaN (its other all-ones codes are the normals up to 448).
  if (v > f.max_finite) return mantissa == 0 ? sign * INFINITY : NAN;
  return sign * v;
}

namespace {

// The fast kernels below work on the fp32 bit pattern a = |x|: in the target's normal range RNE is
// an integer add of (half − 1 + lsb) and a mask of the d = 23 − m dropped bits, carries running into
// the exponent; below the target's smallest normal 2^emin the quantum is fixed, q = 2^(emin − m),
// and (a + 2^23·q) − 2^23·q rounds a to a multiple of q by the fp32 adder's own RNE (the sum stays
// in one binade whose ulp is q).
struct Kernel {
  int d;                  // 23 − m
  uint32_t half_m1, lsb;  // RNE increments; 0 when d = 0
  uint32_t drop_mask;
  uint32_t min_normal;  // bits of 2^emin
  uint32_t max_bits;    // bits of max finite
  float magic;          // 2^23·q
  int emin, m;
  uint32_t quantum_normal_mask;  // all ones when q = 2^(emin − m) ≥ 2^−126
  float quantum;
  int quantum_shift;  // emin − m + 149 when q is subnormal
  int rnd_shift;      // 32 − d: the top d random bits land below the kept mantissa

  explicit Kernel(const MiniFloat& f)
      : d(23 - f.m),
        half_m1(d ? (1u << (d - 1)) - 1 : 0),
        lsb(d ? 1u : 0u),
        drop_mask(d ? (1u << d) - 1 : 0),
        min_normal(std::bit_cast<uint32_t>(std::ldexp(1.0f, f.emin))),
        max_bits(std::bit_cast<uint32_t>(f.max_finite)),
        magic(std::ldexp(1.0f, f.emin - f.m + 23)),
        emin(f.emin),
        m(f.m),
        quantum_normal_mask(f.emin - f.m >= -126 ? ~0u : 0u),
        quantum(std::ldexp(1.0f, f.emin - f.m)),
        quantum_shift(std::clamp(f.emin - f.m + 149, 0, 31)),  // used only when q is subnormal
        rnd_shift(d ? 32 - d : 0) {}

  // Everything that is not NaN: saturate, then put the sign back.
  uint32_t finish(uint32_t sign, uint32_t a, uint32_t r) const {
    r = r > max_bits ? max_bits : r;
    return a > 0x7F800000u ? sign | a : sign | r;
  }

  uint32_t nearest(uint32_t b) const {
    const uint32_t sign = b & 0x80000000u, a = b & 0x7FFFFFFFu;
    const uint32_t normal = (a + half_m1 + ((a >> d) & lsb)) & ~drop_mask;
    const float af = std::bit_cast<float>(a);
    const uint32_t sub = std::bit_cast<uint32_t>((af + magic) - magic);
    return finish(sign, a, a < min_normal ? sub : normal);
  }

  // QPyTorch's add-random-bits-then-truncate; below 2^emin the same integer formula as the
  // reference with the fixed quantum.
  uint32_t stochastic(uint32_t b, uint32_t rnd) const {
    const uint32_t sign = b & 0x80000000u, a = b & 0x7FFFFFFFu;
    const uint32_t normal = (a + (rnd >> rnd_shift & drop_mask)) & ~drop_mask;
    // Target subnormal: |x| = sig·2^(ex−23), q = 2^(emin − m), dropped bits dd = emin − m − ex + 23.
    // Written without branches and in 32-bit lanes (both forms, then selects) so that it vectorises.
    const uint32_t field = a >> 23;
    const uint32_t sig = field ? (a & 0x7FFFFFu) | 0x800000u : a;
    const int ex = field ? static_cast<int>(field) - 127 : -126;
    const int dd = emin - m - ex + 23;
    // k = floor(sig/2^dd + r/2^32) in 32-bit arithmetic (the reference's (F + r) >> 32):
    //   dd < 32: (sig + top dd bits of r) >> dd;   dd ≥ 32: the carry of (sig >> (dd − 32)) + r.
    const int lo = std::min(std::max(dd, 1), 31);  // dd clamped for the first form
    const uint32_t k_small = (sig + (rnd >> (32 - lo))) >> lo;
    const uint32_t f_big = sig >> std::min(std::max(dd - 32, 0), 31);
    const uint32_t k_big = (f_big + rnd) < rnd ? 1u : 0u;
    const uint32_t k32 = dd < 32 ? k_small : k_big;
    // k·q: an exact fp32 product when q is normal; when q < 2^−126 (float:e=8) the pattern of a
    // multiple of 2^−149 below 2^−125 is the multiple itself.
    // k ≤ 2^m ≤ 2^23 here: (2^23 + k) − 2^23 converts it to float exactly, without a conversion
    // instruction (which kept this loop from vectorising).
    const float kf = std::bit_cast<float>(0x4B000000u + k32) - 8388608.0f;
    const uint32_t by_mul = std::bit_cast<uint32_t>(kf * quantum);
    const uint32_t by_shift = k32 << quantum_shift;
    const uint32_t sub = (by_mul & quantum_normal_mask) | (by_shift & ~quantum_normal_mask);
    return finish(sign, a, a < min_normal ? sub : normal);
  }
};

// One row; the scaling, the amax and the rounding mode are template parameters so that each
// combination compiles to its own straight vector loop (a run-time flag in the loop body kept the
// compiler from vectorising the unscaled one).
template <bool kStochastic, bool kScaled, bool kAmax>
uint32_t round_row(const Kernel& kern, const float* xi, float* oi, int64_t cols, float scale, float inv, uint64_t key,
                   int64_t first) {
  uint32_t hi = 0;
#pragma omp simd reduction(max : hi)
  for (int64_t j = 0; j < cols; ++j) {
    const uint32_t b = std::bit_cast<uint32_t>(xi[j]);
    if constexpr (kAmax) hi = std::max(hi, b & 0x7FFFFFFFu);
    const float v = kScaled ? xi[j] * scale : xi[j];
    float q;
    if constexpr (kStochastic)
      q = std::bit_cast<float>(
          kern.stochastic(std::bit_cast<uint32_t>(v), random_bits(key, static_cast<uint64_t>(first + j))));
    else
      q = std::bit_cast<float>(kern.nearest(std::bit_cast<uint32_t>(v)));
    oi[j] = kScaled ? q * inv : q;
  }
  return hi;
}

template <bool kStochastic, bool kScaled, bool kAmax>
uint32_t round_block(const Kernel& kern, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out,
                     float scale, uint64_t key) {
  const float inv = 1.0f / scale;  // exact: scale is a power of two
  // The largest |x| bit pattern: for non-negative floats integer order is float order, and every
  // Inf or NaN pattern lies above every finite one. One integer max per vector, in the same pass.
  uint32_t hi = 0;
#pragma omp parallel for schedule(static) reduction(max : hi) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i)
    hi = std::max(
        hi, round_row<kStochastic, kScaled, kAmax>(kern, x + i * ld, out + i * cols, cols, scale, inv, key, i * cols));
  return hi;
}

template <bool kStochastic>
uint32_t round_any(const Kernel& kern, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out, float scale,
                   uint64_t key, bool amax) {
  if (scale != 1.0f)
    return amax ? round_block<kStochastic, true, true>(kern, x, rows, cols, ld, out, scale, key)
                : round_block<kStochastic, true, false>(kern, x, rows, cols, ld, out, scale, key);
  return amax ? round_block<kStochastic, false, true>(kern, x, rows, cols, ld, out, scale, key)
              : round_block<kStochastic, false, false>(kern, x, rows, cols, ld, out, scale, key);
}

}  // namespace

void round_minifloat(const MiniFloat& f, Rounding rounding, const float* x, int64_t rows, int64_t cols, int64_t ld,
                     float* out, float scale, uint64_t key, float* amax) {
  const Kernel kern(f);
  const uint32_t hi = rounding == Rounding::nearest
                          ? round_any<false>(kern, x, rows, cols, ld, out, scale, key, amax != nullptr)
                          : round_any<true>(kern, x, rows, cols, ld, out, scale, key, amax != nullptr);
  if (amax) *amax = hi >= 0x7F800000u ? std::numeric_limits<float>::infinity() : std::bit_cast<float>(hi);
}

}  // namespace lmul::arith
