#include "core/arith/int_math.h"

#include <algorithm>
#include <cmath>

#include "core/arith/counter_random.h"
#include "core/arith/finite_amax.h"
#include "core/arith/int8_codes_by_row.h"

namespace lmul::arith {

float int_value_ref(float x, float s, int qmax, Rounding rounding, uint32_t r) {
  if (std::isnan(x)) return x;
  if (s == 0.0f) return std::copysign(0.0f, x);
  const float v = x / s;
  const float lim = static_cast<float>(qmax);
  const float q =
      rounding == Rounding::nearest
          ? std::nearbyint(v)
          : static_cast<float>(std::floor(static_cast<double>(v) + std::ldexp(static_cast<double>(r), -32)));
  return std::copysign(std::clamp(q, -lim, lim) * s, x);
}

void int_quantize(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out, int qmax, Granularity gran,
                  int64_t group, Rounding rounding, uint64_t key) {
  const float lim = static_cast<float>(qmax);
  float tensor_amax = 0.0f;
  if (gran == Granularity::tensor)
    for (int64_t i = 0; i < rows; ++i) tensor_amax = std::max(tensor_amax, finite_amax(x + i * ld, cols));
  const int64_t g = gran == Granularity::group ? group : cols;
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j0 = 0; j0 < cols; j0 += g) {
      const int64_t n = std::min(g, cols - j0);
      const float* xi = x + i * ld + j0;
      float* oi = out + i * cols + j0;
      const float amax = gran == Granularity::tensor ? tensor_amax : finite_amax(xi, n);
      const float s = amax / lim;
      if (s == 0.0f) {
        for (int64_t j = 0; j < n; ++j) oi[j] = std::isnan(xi[j]) ? xi[j] : std::copysign(0.0f, xi[j]);
        continue;
      }
      if (rounding == Rounding::nearest) {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) {
          const float q = std::clamp(std::nearbyint(xi[j] / s), -lim, lim);
          oi[j] = std::isnan(xi[j]) ? xi[j] : std::copysign(q * s, xi[j]);
        }
      } else {
        const uint64_t base = static_cast<uint64_t>(i * cols + j0);
        for (int64_t j = 0; j < n; ++j) {
          const double u = std::ldexp(static_cast<double>(random_bits(key, base + static_cast<uint64_t>(j))), -32);
          const float q = std::clamp(static_cast<float>(std::floor(static_cast<double>(xi[j] / s) + u)), -lim, lim);
          oi[j] = std::isnan(xi[j]) ? xi[j] : std::copysign(q * s, xi[j]);
        }
      }
    }
}

void int_codes(const float* x, int64_t rows, int64_t cols, int64_t ld, int qmax, Granularity gran, Int8Codes& out,
               float* values) {
  const float lim = static_cast<float>(qmax);
  float tensor_amax = 0.0f;
  if (gran == Granularity::tensor)
    for (int64_t i = 0; i < rows; ++i) tensor_amax = std::max(tensor_amax, finite_amax(x + i * ld, cols));
  out.scale.assign(gran == Granularity::tensor ? 1 : static_cast<size_t>(rows), tensor_amax / lim);
  if (gran != Granularity::tensor) {
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
    for (int64_t i = 0; i < rows; ++i) out.scale[static_cast<size_t>(i)] = finite_amax(x + i * ld, cols) / lim;
  }
  out.divide = false;
  const float* s = out.scale.data();
  const bool per_row = gran != Granularity::tensor;
  // code = rne(x/s) clamped, value = code·s (the row kernel's divide form); a zero scale (an
  // all-zero or all-NaN row or tensor) leaves every code 0.
  codes_by_row(x, rows, cols, ld, -lim, lim, true, out, values, [s, per_row](int64_t i) { return s[per_row ? i : 0]; });
}

}  // namespace lmul::arith
