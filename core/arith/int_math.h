// Symmetric integer quantisation on raw blocks (int.cpp and ternary.cpp use it).
#pragma once
#include <cstdint>

#include "core/arith/arith.h"
#include "core/arith/rounding.h"

namespace lmul::arith {

// Groups over which one scale is shared: the whole block, a row (weight channel / token), or g
// consecutive elements of a row (the last group of a row may be shorter).
enum class Granularity { tensor, row, group };

// The definition of one value: q = clamp(round(x/s), −qmax, qmax), value q·s (one fp32 rounding).
// nearest: rne; stochastic: floor(x/s + r·2^−32) with 32 random bits r. NaN stays NaN; ±Inf
// clamps; s = 0 (an all-zero group) gives ±0.
float int_value_ref(float x, float s, int qmax, Rounding rounding, uint32_t r);

// Fast path over a rows×cols block: s = finite amax of the group / qmax. Stochastic rounding draws
// random_bits(key, i·cols + j).
void int_quantize(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out, int qmax, Granularity gran,
                  int64_t group, Rounding rounding, uint64_t key);

// The int8 codes of int_quantize with nearest rounding and gran tensor or row (qmax ≤ 127): the
// same s, q = clamp(rne(x/s), −qmax, qmax); code 0 for NaN (flagged in nan_row) and where s = 0.
// values (or null): also int_quantize's (round=nearest) bits, from the same pass.
void int_codes(const float* x, int64_t rows, int64_t cols, int64_t ld, int qmax, Granularity gran, Int8Codes& out,
               float* values);

}  // namespace lmul::arith
