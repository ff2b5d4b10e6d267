#include "core/integer/dyadic.h"

#include <cmath>

#include "core/error.h"

namespace lmul::integer {

Dyadic dyadic(double multiplier) {
  if (!(multiplier > 0.0) || !(multiplier < 0x1p31))
    throw Error("dyadic: multiplier {} is out of range (need 0 < multiplier < 2^31)", multiplier);
  int ex = 0;
  const double mant = std::frexp(multiplier, &ex);  // mant·2^31 is exact: only the exponent moves
  const int64_t m = static_cast<int64_t>(std::round(std::ldexp(mant, 31)));  // ties away from zero
  return Dyadic{m, 31 - ex};
}

int64_t requant(int64_t acc, Dyadic d) {
  LMUL_ASSERT(acc >= -(int64_t{1} << 31) && acc <= (int64_t{1} << 31));
  LMUL_ASSERT(d.m >= 0 && d.m <= (int64_t{1} << 31) && d.e >= 0);
  const int64_t p = acc * d.m;
  if (d.e == 0) return p;
  if (d.e >= 64) return 0;
  const int64_t q = p >> d.e;  // floor (arithmetic shift, defined in C++20)
  const uint64_t rem = static_cast<uint64_t>(p) & ((uint64_t{1} << d.e) - 1);
  const uint64_t half = uint64_t{1} << (d.e - 1);
  return rem > half || (rem == half && (q & 1)) ? q + 1 : q;
}

int64_t clamp_bits(int64_t v, int bits) {
  LMUL_ASSERT(bits >= 2 && bits <= 32);
  const int64_t hi = (int64_t{1} << (bits - 1)) - 1, lo = -(int64_t{1} << (bits - 1));
  return v < lo ? lo : v > hi ? hi : v;
}

int64_t residual_requant(int64_t a, Dyadic da, int64_t b, Dyadic db, int bits) {
  return clamp_bits(requant(a, da) + requant(b, db), bits);
}

int64_t floor_div(int64_t num, int64_t den) {
  LMUL_ASSERT(den != 0);
  const int64_t q = num / den;
  return (num % den != 0 && ((num < 0) != (den < 0))) ? q - 1 : q;
}

int64_t round_half_even_div(int64_t num, int64_t den) {
  LMUL_ASSERT(den > 0);
  const int64_t q = floor_div(num, den);
  const int64_t twice_rem = 2 * (num - q * den);  // in [0, 2·den)
  return twice_rem > den || (twice_rem == den && (q & 1)) ? q + 1 : q;
}

int64_t quantize(float x, float s, int bits) {
  LMUL_ASSERT(s > 0.0f);
  const float v = (1.0f / s) * x;
  const int64_t hi = (int64_t{1} << (bits - 1)) - 1;
  if (std::isnan(v)) return 0;
  if (v >= static_cast<float>(hi)) return hi;
  if (v <= static_cast<float>(-hi - 1)) return -hi - 1;
  return static_cast<int64_t>(std::nearbyint(v));  // default rounding mode: ties to even
}

}  // namespace lmul::integer
