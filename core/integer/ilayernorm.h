// I-LayerNorm: I-ViT's integer-only LayerNorm (IntLayerNorm, QM:333-386), exactly as specified
// in ../shared/research/ivit_integer_ops.md §3 and §9.6. Per row of C channels:
//   mean = round_half_even(Σx / C) (the exact rational), y = x − mean, var = Σy² (the sum, not
//   the mean; int64), std = 10 Newton steps k ← floor((k + floor(var/k))/2) from k = 2^16 (no
//   early exit), f = floor((2^31 − 1)/std), out = floor(y·f/2) + bias_int[c].
// Constants from the float weights, computed once outside the integer graph:
//   scale_mid = f32(√f32(C)) / 2^30, bias_int[c] = floor(f32(f32(b/w) / scale_mid)),
//   scale_out[c] = f32(scale_mid·w[c]) (per channel). eps is ignored; the input scale cancels.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace lmul::integer {

// Inputs must lie in ±2^23 and C ≤ 2^14, so that var < 2^62 fits an int64.
inline constexpr int64_t kILayerNormMaxAbsInput = int64_t{1} << 23;
inline constexpr int64_t kILayerNormMaxChannels = int64_t{1} << 14;

struct ILayerNormConstants {
  std::vector<int64_t> bias_int;  // per channel
  std::vector<float> scale_out;   // per channel: the output's real value is out[c]·scale_out[c]
};

// Throws lmul::Error for a zero or non-finite weight (b/w would be infinite), a non-finite bias,
// |bias_int| > 2^61, or C outside [1, 2^14]. (An output beyond the int32 range is the next
// requantisation's concern: the model checks it.)
ILayerNormConstants ilayernorm_constants(std::span<const float> weight, std::span<const float> bias);

// The fixed 10-step Newton iteration from 2^16: ≥ floor(√var), within +1 of it only for
// roughly 34 596 ≤ var < 2^45 (§3.3); var = 0 gives 64.
int64_t ivit_sqrt(int64_t var);

// One row: x.size() = C = bias_int.size() = out.size(). |x| ≤ 2^23 is the caller's contract.
void ilayernorm_row(std::span<const int32_t> x, std::span<const int64_t> bias_int, std::span<int64_t> out);

}  // namespace lmul::integer
