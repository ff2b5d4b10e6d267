// Shiftmax: I-ViT's integer-only softmax (IntSoftmax, QM:448-497), exactly as specified in
// ../shared/research/ivit_integer_ops.md §1 with the causal-LM decisions of §9. Per row:
//   m = max over kept x, d = x − m, exp = int_exp_shift(d, x0, n) (n = 15),
//   S = min(Σ exp, 2^31 − 1) (int64 before the clamp), f = floor((2^31 − 1)/S),
//   y = (exp·f) >> (32 − b), output scale 2^−(b−1) (a constant).
// The input scale enters only through x0 = floor(−1/s).
#pragma once
#include <cstdint>
#include <span>

namespace lmul::integer {

inline constexpr int kShiftmaxN = 15;

// How masked positions (j ≥ kept) are treated:
//   exclude: left out of the max and the sum, output exactly 0 (softmax with −inf) — the default;
//   floor:   left out of the max, exp = −x0 (the value at the n·x0 clamp), counted in the sum —
//            what the reference's Swin does with its −100 mask.
enum class MaskMode { exclude, floor };

// Throws lmul::Error unless row_len·|x0|·2^n ≤ 2^31 − 1: beyond it the sum is clamped, f
// collapses and the outputs are garbage (§6 "Range constraint", §8).
void check_shiftmax_range(int64_t x0, int64_t row_len, int n, const char* op);

// One row of `x.size()` scores whose first `kept` entries are visible (a causal row i keeps
// i + 1). y[j] ∈ [0, 2^(out_bits−1) − 1] when the range check holds. A row with nothing kept
// outputs zeros (exclude). out_bits ∈ [2, 16].
void shiftmax_row(std::span<const int32_t> x, int64_t kept, int64_t x0, int n, int out_bits, MaskMode mode,
                  std::span<int32_t> y);

}  // namespace lmul::integer
