// BitNet b1.58 quantisers on raw blocks (ternary.cpp describes the format).
#pragma once
#include <cstdint>

#include "core/arith/arith.h"

namespace lmul::arith {

// γ = max(mean|W|, 1e-5) over the finite elements, summed in double row by row.
float absmean_gamma(const float* w, int64_t rows, int64_t cols, int64_t ld);

// Definitions of one value.
float ternary_weight_ref(float w, float gamma);  // clamp(rne(w/γ), −1, 1)·γ
float absmax_int8_ref(float x, float absmax);    // clamp(rne(x·s), −128, 127)/s, s = 127/max(absmax, 1e-5)

// Fast paths over a rows×cols block (row stride ld) into contiguous out.
void ternary_weights(const float* w, int64_t rows, int64_t cols, int64_t ld, float* out);
void absmax_int8_rows(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out);

// Their int8 codes (gemm=int): weights q = clamp(rne(w/γ), −1, 1) with scale γ (one per tensor);
// activations q = clamp(rne(x·s), −128, 127) with s per row, divide set. NaN: code 0, flagged.
// values (or null): also the bits ternary_weights / absmax_int8_rows write, from the same pass.
void ternary_weight_codes(const float* w, int64_t rows, int64_t cols, int64_t ld, Int8Codes& out, float* values);
void absmax_int8_codes(const float* x, int64_t rows, int64_t cols, int64_t ld, Int8Codes& out, float* values);

}  // namespace lmul::arith
