#include "core/integer/int_exp.h"

#include <cmath>

#include "core/error.h"
#include "core/integer/dyadic.h"

namespace lmul::integer {

int64_t exp_shift_x0(float s, const char* op) {
  if (!(s > 0.0f) || !std::isfinite(s)) throw Error("[{}] input scale {} must be finite and positive", op, s);
  const float x0 = std::floor(-(1.0f / s));
  if (x0 < -0x1p30f) throw Error("[{}] input scale {} is too small: x0 = floor(-1/s) = {} is below -2^30", op, s, x0);
  return static_cast<int64_t>(x0);
}

int64_t int_exp_shift(int64_t d, int64_t x0, int n) {
  LMUL_ASSERT(x0 <= -1 && x0 >= -(int64_t{1} << 30) && n >= 1 && n <= 30);
  LMUL_ASSERT(d >= -(int64_t{1} << 40) && d <= (int64_t{1} << 40));
  int64_t xp = d + (d >> 1) - (d >> 4);  // >> on signed values is floor
  if (xp < n * x0) xp = n * x0;
  const int64_t q = floor_div(xp, x0);
  const int64_t r = xp - x0 * q;
  const int64_t base = r - 2 * x0;  // in (−x0, −2·x0]: positive
  const int64_t shift = n - q;      // ≥ 0
  constexpr int64_t kMax = (int64_t{1} << 31) - 1;
  // base < 2^31 and shift ≤ n ≤ 30 for d ≤ 0, so the exact branch fits an int64.
  if (q >= 0) return (base << shift) >> 1;
  if (shift >= 62 || base > (kMax << 1 | 1) >> shift) return kMax;
  const int64_t v = (base << shift) >> 1;
  return v > kMax ? kMax : v;
}

}  // namespace lmul::integer
