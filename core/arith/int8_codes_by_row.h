// Filling an Int8Codes (core/arith/arith.h) row by row, shared by the formats whose forward GEMM
// can run on int8 codes (int_math.cpp, ternary_math.cpp): code = clamp(rne(scaled(i, x)), lo, hi)
// per element; a NaN element gets code 0 and flags its row (an integer code cannot carry a NaN).
// The caller sets out.scale and out.divide; nan_row is left empty when no element is NaN.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/arith/arith.h"

namespace lmul::arith {

template <typename Scaled>
void codes_by_row(const float* x, int64_t rows, int64_t cols, int64_t ld, float lo, float hi, Int8Codes& out,
                  Scaled scaled) {
  out.code.assign(static_cast<size_t>(rows * cols), 0);
  out.nan_row.assign(static_cast<size_t>(rows), 0);
  bool any_nan = false;
#pragma omp parallel for schedule(static) if (rows * cols > 16384) reduction(|| : any_nan)
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * ld;
    int8_t* qi = out.code.data() + i * cols;
    bool nan = false;
    for (int64_t j = 0; j < cols; ++j) nan = nan || std::isnan(xi[j]);
    out.nan_row[static_cast<size_t>(i)] = nan;
    any_nan = any_nan || nan;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
      const float v = std::isnan(xi[j]) ? 0.0f : xi[j];  // no NaN reaches the float → int conversion
      qi[j] = static_cast<int8_t>(std::clamp(std::nearbyint(scaled(i, v)), lo, hi));
    }
  }
  if (!any_nan) out.nan_row.clear();
}

}  // namespace lmul::arith
