// Per-tensor scaling for fp8 (NVIDIA Transformer Engine's recipes): a tensor x is stored as
// round(x·scale) in fp8 and dequantised as that value / scale, so that its amax lands near the
// format's max.
//   scale=none     scale = 1.
//   scale=current  amax of this tensor: scale = fmax/amax/2^margin.
//   scale=delayed  amax history of the last N tensors of this role (this one included after use):
//                  the tensor is scaled with the scale computed after the previous call, then its
//                  amax joins the window and scale = fmax/max(window)/2^margin (TE's
//                  DelayedScaling, defaults history 1024, margin 0).
// Both keep the previous scale (initially 1) when the amax is 0 or not finite (TE's
// _default_sf_compute). One choice of ours: scales are rounded DOWN to a power of two,
// 2^floor(log2(fmax/amax) − margin), clamped to 2^±126. Then x·scale and q/scale are exact in fp32,
// so the dequantised operand is exactly an fp8 value times a power of two and every product of two
// of them stays exact — the quantise-then-sgemm fast path keeps its meaning. It costs at most one
// binade of headroom (amax·scale in (fmax/2, fmax]).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/arith/state_io.h"

namespace lmul::arith {

enum class Scaling { none, current, delayed };

class AmaxScaler {
 public:
  AmaxScaler(Scaling mode, int history, int margin, float fmax);

  // The scale to use for a rows×cols tensor (row stride ld); updates the history.
  float scale_for(const float* x, int64_t rows, int64_t cols, int64_t ld);
  float scale() const { return scale_; }
  Scaling mode() const { return mode_; }
  // Delayed scaling split in two, for callers that take the amax in their own pass over the
  // tensor: use scale(), then record(amax) — the same as scale_for.
  void record(float amax);

  void save(StateWriter& w) const;
  void load(StateReader& r);

 private:
  float compute(float amax) const;

  Scaling mode_;
  int margin_;
  float fmax_;
  float scale_ = 1.0f;
  std::vector<float> history_;  // ring buffer of amaxes, +Inf for a non-finite tensor
  uint32_t pos_ = 0, count_ = 0;
};

// max |x| over a rows×cols block; +Inf when any element is NaN or ±Inf.
float amax(const float* x, int64_t rows, int64_t cols, int64_t ld);

}  // namespace lmul::arith
