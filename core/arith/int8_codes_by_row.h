// Filling an Int8Codes (core/arith/arith.h) row by row, shared by the formats whose forward GEMM
// can run on int8 codes (int_math.cpp, ternary_math.cpp). Per element, with s the row's scale:
//   code  = clamp(rne(x ⊙ s), lo, hi)          ⊙ = / (divide) or · ; a NaN x counts as 0
//   value = NaN x as it is, else copysign(code ⊘ s, x)   ⊘ the inverse operation (· or /)
// value is what the format's quantize() writes, so one pass gives the forward's codes and the
// backward's dequantised operand. A NaN element gets code 0 and flags its row (an integer code
// cannot carry a NaN). divide with s = 0 (int's all-zero group) gives code 0, value ±0.
// int8_code_row is vectorised (AVX-512, AVX2, else plain loops; chosen at compile time) and gives
// the bits of int8_code_row_ref, its definition, on every path (tests/test_arith_int8_codes.cpp).
#pragma once
#include <cstdint>
#include <vector>

#include "core/arith/arith.h"

namespace lmul::arith {

// One row of n elements: codes into q, dequantised values into values (skipped when null).
// Returns whether x holds a NaN.
bool int8_code_row(const float* x, int64_t n, float s, bool divide, float lo, float hi, int8_t* q, float* values);
bool int8_code_row_ref(const float* x, int64_t n, float s, bool divide, float lo, float hi, int8_t* q, float* values);

// rows×cols (row stride ld) into out.code (contiguous) and values (contiguous rows×cols, or null);
// scale_of(i) is row i's s. The caller sets out.scale and out.divide (= divide); nan_row is left
// empty when no element is NaN. Threads: OpenMP over rows.
template <typename ScaleOf>
void codes_by_row(const float* x, int64_t rows, int64_t cols, int64_t ld, float lo, float hi, bool divide,
                  Int8Codes& out, float* values, ScaleOf scale_of) {
  out.code.resize(static_cast<size_t>(rows * cols));
  out.nan_row.assign(static_cast<size_t>(rows), 0);
  bool any_nan = false;
#pragma omp parallel for schedule(static) if (rows * cols > 16384) reduction(|| : any_nan)
  for (int64_t i = 0; i < rows; ++i) {
    const bool nan = int8_code_row(x + i * ld, cols, scale_of(i), divide, lo, hi, out.code.data() + i * cols,
                                   values ? values + i * cols : nullptr);
    out.nan_row[static_cast<size_t>(i)] = nan;
    any_nan = any_nan || nan;
  }
  if (!any_nan) out.nan_row.clear();
}

}  // namespace lmul::arith
