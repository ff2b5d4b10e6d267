// Dual Grained Quantization (DGQ, Zhang et al. 2023, arXiv 2310.04836), the A8W4 scheme: a weight
// row (an output channel) is cut into groups of g input elements; each group holds unsigned 4-bit
// codes u ∈ [0, 15] with a 4-bit zero point zp, and its scale is factorised as an integer group
// scale S⁽²⁾ ∈ [1, 127] times one fp32 scale s⁽¹⁾ per channel, so that
//     W ≈ s⁽¹⁾ · W_s8,   W_s8 = S⁽²⁾ · (u − zp) ∈ [−127, 127]   (the INT8 weight of an INT8 GEMM).
// The int8 range check is |S⁽²⁾ · (u − zp)| ≤ 127, kept by limiting u to zp ± ⌊127 / S⁽²⁾⌋.
// Scales come from the paper's two-phase grid search (phase 1 per group: the fine fp32 scale S′ and
// zp of an asymmetric u4 grid over 20 clipping ratios 1.02 − (i+1)·0.22/20; phase 2 per channel:
// s⁽¹⁾ = ratio · max|W_row| / 127 over 80 ratios 1.02 − (i+1)·0.82/80, S⁽²⁾ = round(S′ / s⁽¹⁾)).
// One difference from the paper, which scores candidates by the layer's output error on
// calibration inputs: here a weight is quantised inside the GEMM with no inputs at hand, so both
// phases score by the weights' own squared error. Each group's range includes 0 (min(0, min),
// max(0, max)), so the zero point is an integer in [0, 15] and 0 is exactly representable.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lmul::arith {

inline constexpr int kDgqU4Max = 15, kDgqS8Max = 127;
inline constexpr int kDgqGroupGrid = 20, kDgqChannelGrid = 80;

// The stored form of a rows×cols weight (cols a multiple of group): what an A8W4 kernel reads.
struct DgqWeights {
  int64_t rows = 0, cols = 0, group = 0;
  std::vector<uint8_t> u4;  // rows·cols codes in [0, 15]
  std::vector<uint8_t> zp;  // rows·(cols/group) zero points in [0, 15]
  std::vector<int8_t> s2;   // rows·(cols/group) integer group scales in [1, 127]
  std::vector<float> s1;    // rows channel scales (0 for an all-zero row)
  // W_s8 of element (i, j): S⁽²⁾ · (u − zp), in [−127, 127].
  int w_s8(int64_t i, int64_t j) const;
  // The dequantised weight s⁽¹⁾ · W_s8 (one fp32 rounding of an exact product).
  float value(int64_t i, int64_t j) const { return s1[static_cast<size_t>(i)] * static_cast<float>(w_s8(i, j)); }
};

// Phase 1 for one group of n values: the fine scale S′ and zero point of the best clipping ratio
// (S′ = 0 for an all-zero group). Non-finite values are left out of the range and the error.
struct DgqGroupScale {
  float scale = 0;
  int zp = 0;
};
DgqGroupScale dgq_group_scale(const float* x, int64_t n);

// S⁽²⁾ = clamp(round(S′ / s⁽¹⁾), 1, 127).
int dgq_s2(float fine_scale, float s1);
// The u4 code of x in a group with zero point zp and integer scale s2 under channel scale s1:
// x clipped to ±127·s1, u = clamp(round(x / (s2·s1)) + zp, max(0, zp − ⌊127/s2⌋), min(15, zp + ⌊127/s2⌋)).
int dgq_code(float x, float s1, int s2, int zp);

// Both phases over a rows×cols weight (row stride ld); throws lmul::Error when group does not divide
// cols. NaN weights get the code of 0 (the caller keeps NaN), ±Inf the clipped extremes.
DgqWeights dgq_quantize_weights(const float* w, int64_t rows, int64_t cols, int64_t ld, int64_t group);

// The nearest-rank p-th percentile (0 < p ≤ 100) of |x| over the finite values of x[0..n): the
// ⌈p·m/100⌉-th smallest of the m finite magnitudes (0 when there are none). p = 100 is the max.
float abs_percentile(const float* x, int64_t n, double p);

}  // namespace lmul::arith
