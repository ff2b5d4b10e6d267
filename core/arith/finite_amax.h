// max |x| over the finite elements of x[0..n) — the scale statistic of the integer-like formats
// (pot, int, ternary), which let NaN through and clamp ±Inf rather than let one bad value zero out
// a whole tensor. Order-independent, so fast paths may split it freely.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace lmul::arith {

inline float finite_amax(const float* x, int64_t n) {
  float m = 0.0f;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    m = std::max(m, std::isfinite(a) ? a : 0.0f);
  }
  return m;
}

}  // namespace lmul::arith
