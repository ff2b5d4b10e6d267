#include "core/arith/pot_math.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "core/arith/finite_amax.h"

namespace lmul::arith {

namespace {

// The smallest 23-bit fraction f with (1 + f·2^−23)² > 2, i.e. 1.f > √2: rne(log2 q) goes up for
// q = 1.f·2^k exactly when f ≥ this (√2 is irrational, so there is no tie).
constexpr uint32_t sqrt2_fraction() {
  uint64_t lo = 0, hi = 1u << 23;  // search f in [lo, hi)
  while (lo < hi) {
    const uint64_t mid = (lo + hi) / 2, s = (1ull << 23) + mid;
    if (s * s > (1ull << 47))
      hi = mid;
    else
      lo = mid + 1;
  }
  return static_cast<uint32_t>(lo);
}
constexpr uint32_t kSqrt2Fraction = sqrt2_fraction();
static_assert(kSqrt2Fraction == 0x3504F4);  // √2 = 1.0110101000001001111001100…b

}  // namespace

const char* pot_round_name(PotRound r) { return r == PotRound::log ? "log" : r == PotRound::ceil ? "ceil" : "linear"; }

float pot_scale(float amax, int b, float eps) {
  const int R = (1 << (b - 1)) - 1;
  return std::max(std::ldexp(amax, -R), eps);
}

float pot_value_ref(float w, float s, int b, PotRound round) {
  if (std::isnan(w)) return w;
  if (s == 0.0f) return std::copysign(0.0f, w);
  const int R = (1 << (b - 1)) - 1;
  const float lim = std::ldexp(1.0f, R);
  const float q = std::clamp(std::nearbyint(w / s), -lim, lim);
  if (q == 0.0f) return std::copysign(0.0f, w);
  const double l = std::log2(static_cast<double>(std::fabs(q)));
  double k = 0;
  switch (round) {
    case PotRound::log:
      k = std::nearbyint(l);
      break;
    case PotRound::ceil:
      k = std::ceil(l);
      break;
    case PotRound::linear: {  // nearer of 2^⌊l⌋ and 2^(⌊l⌋+1) in value; 1.5·2^k goes up
      const double f = std::floor(l);
      k = std::fabs(q) >= 1.5 * std::exp2(f) ? f + 1 : f;
      break;
    }
  }
  return std::copysign(s * std::ldexp(1.0f, static_cast<int>(k)), q);
}

void pot_quantize(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out, int b, float eps, PotRound round,
                  bool per_row) {
  const int R = (1 << (b - 1)) - 1;
  const float lim = std::ldexp(1.0f, R);
  float tensor_amax = 0.0f;
  if (!per_row)
    for (int64_t i = 0; i < rows; ++i) tensor_amax = std::max(tensor_amax, finite_amax(x + i * ld, cols));
  // Bits of |q| = 1.f·2^k: the rounded exponent is k plus 1 when the fraction passes the
  // threshold (log: √2, ceil: anything above 1, linear: 1.5).
  const uint32_t up = round == PotRound::log ? kSqrt2Fraction : round == PotRound::ceil ? 1u : 0x400000u;
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * ld;
    float* oi = out + i * cols;
    const float s = pot_scale(per_row ? finite_amax(xi, cols) : tensor_amax, b, eps);
    if (s == 0.0f) {
      for (int64_t j = 0; j < cols; ++j) oi[j] = std::isnan(xi[j]) ? xi[j] : std::copysign(0.0f, xi[j]);
      continue;
    }
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
      const float q = std::clamp(std::nearbyint(xi[j] / s), -lim, lim);
      const uint32_t qb = std::bit_cast<uint32_t>(q) & 0x7FFFFFFFu;
      const uint32_t e = (qb >> 23) + ((qb & 0x7FFFFFu) >= up ? 1u : 0u);  // biased exponent
      const float p = s * std::bit_cast<float>(e << 23);
      const float v = q == 0.0f ? 0.0f : p;
      oi[j] = std::isnan(xi[j]) ? xi[j] : std::copysign(v, xi[j]);
    }
  }
}

}  // namespace lmul::arith
