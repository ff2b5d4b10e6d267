// The shift-based integer exponential shared by Shiftmax and ShiftGELU (I-ViT's int_exp_shift,
// QM:469-481; spec ../shared/research/ivit_integer_ops.md §1.2, §9.2, §9.4).
#pragma once
#include <cstdint>

namespace lmul::integer {

// x0 = floor(−f32(1/s)) for a float32 scale s: the integer that stands for −1 in the base-2
// exponent domain (always ≤ −1). Throws lmul::Error naming `op` unless s is finite and positive
// and |x0| ≤ 2^30.
int64_t exp_shift_x0(float s, const char* op);

// 2^(d·s·log2 e) scaled by 2^n, in integers: xp = d + floor(d/2) − floor(d/16) (log2 e ≈ 1.0111b),
// xp = max(xp, n·x0), q = floor(xp/x0), r = xp − x0·q ∈ (x0, 0],
// result = floor((r/2 − x0)·2^(n−q)) = ((r − 2·x0) << (n−q)) >> 1 with r/2 a true division.
// For d ≤ 0 (q ∈ [0, n]) it is exact and ≤ |x0|·2^n. For d > 0 (ShiftGELU's e_m when the row
// max is negative) q < 0 and the value grows without bound; it is saturated at 2^31 − 1, which
// the clamp of the sum that follows makes equivalent (§8).
int64_t int_exp_shift(int64_t d, int64_t x0, int n);

}  // namespace lmul::integer
