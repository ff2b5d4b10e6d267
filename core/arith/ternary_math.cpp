#include "core/arith/ternary_math.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/arith/finite_amax.h"
#include "core/arith/int8_codes_by_row.h"

namespace lmul::arith {

namespace {
constexpr float kMinScale = 1e-5f;  // BitNet's clamp_(min=1e-5)
}

float absmean_gamma(const float* w, int64_t rows, int64_t cols, int64_t ld) {
  std::vector<double> row_sum(static_cast<size_t>(rows), 0.0);
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i) {
    double s = 0.0;
    for (int64_t j = 0; j < cols; ++j) {
      const float a = std::fabs(w[i * ld + j]);
      if (std::isfinite(a)) s += a;
    }
    row_sum[static_cast<size_t>(i)] = s;
  }
  double total = 0.0;
  for (double s : row_sum) total += s;
  const double n = static_cast<double>(rows * cols);
  return std::max(n > 0 ? static_cast<float>(total / n) : 0.0f, kMinScale);
}

float ternary_weight_ref(float w, float gamma) {
  if (std::isnan(w)) return w;
  return std::copysign(std::clamp(std::nearbyint(w / gamma), -1.0f, 1.0f) * gamma, w);
}

float absmax_int8_ref(float x, float absmax) {
  if (std::isnan(x)) return x;
  const float s = 127.0f / std::max(absmax, kMinScale);
  return std::copysign(std::clamp(std::nearbyint(x * s), -128.0f, 127.0f) / s, x);
}

void ternary_weights(const float* w, int64_t rows, int64_t cols, int64_t ld, float* out) {
  const float gamma = absmean_gamma(w, rows, cols, ld);
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i) {
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
      const float x = w[i * ld + j];
      const float q = std::clamp(std::nearbyint(x / gamma), -1.0f, 1.0f);
      out[i * cols + j] = std::isnan(x) ? x : std::copysign(q * gamma, x);
    }
  }
}

void absmax_int8_rows(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) {
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * ld;
    const float s = 127.0f / std::max(finite_amax(xi, cols), kMinScale);
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
      const float q = std::clamp(std::nearbyint(xi[j] * s), -128.0f, 127.0f);
      out[i * cols + j] = std::isnan(xi[j]) ? xi[j] : std::copysign(q / s, xi[j]);
    }
  }
}

void ternary_weight_codes(const float* w, int64_t rows, int64_t cols, int64_t ld, Int8Codes& out, float* values) {
  const float gamma = absmean_gamma(w, rows, cols, ld);
  out.scale.assign(1, gamma);
  out.divide = false;
  // code = rne(w/γ) clamped, value = code·γ: the row kernel's divide form.
  codes_by_row(w, rows, cols, ld, -1.0f, 1.0f, true, out, values, [gamma](int64_t) { return gamma; });
}

void absmax_int8_codes(const float* x, int64_t rows, int64_t cols, int64_t ld, Int8Codes& out, float* values) {
  out.scale.resize(static_cast<size_t>(rows));
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i)
    out.scale[static_cast<size_t>(i)] = 127.0f / std::max(finite_amax(x + i * ld, cols), kMinScale);
  out.divide = true;
  const float* s = out.scale.data();
  // code = rne(x·s) clamped, value = code/s: the row kernel's multiply form.
  codes_by_row(x, rows, cols, ld, -128.0f, 127.0f, false, out, values, [s](int64_t i) { return s[i]; });
}

}  // namespace lmul::arith
