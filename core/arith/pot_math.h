// The PoT quantiser on raw blocks (pot.cpp has the format's description).
#pragma once
#include <cstdint>

namespace lmul::arith {

enum class PotRound { log, ceil, linear };
const char* pot_round_name(PotRound r);

// The definition of one value: q = clamp(rne(w/s), −2^R, 2^R) → s·sign(q)·2^round(log2|q|), with
// round(log2|q|) computed in double.
float pot_value_ref(float w, float s, int b, PotRound round);

// The scale s = max(amax/2^R, eps) for a group with finite max amax.
float pot_scale(float amax, int b, float eps);

// Fast path: rows×cols block (row stride ld) → out (contiguous); per tensor or per row. The
// exponent rounding works on the bits of |q| (see pot_math.cpp).
void pot_quantize(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out, int b, float eps, PotRound round,
                  bool per_row);

}  // namespace lmul::arith
