#include "core/arith/fp8_scaling.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace lmul::arith {

float amax(const float* x, int64_t rows, int64_t cols, int64_t ld) {
  // Integer max of the |x| bit patterns (see round_minifloat): vectorises, and Inf/NaN land on top.
  uint32_t hi = 0;
#pragma omp parallel for schedule(static) reduction(max : hi) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * ld;
#pragma omp simd reduction(max : hi)
    for (int64_t j = 0; j < cols; ++j) hi = std::max(hi, std::bit_cast<uint32_t>(xi[j]) & 0x7FFFFFFFu);
  }
  return hi >= 0x7F800000u ? std::numeric_limits<float>::infinity() : std::bit_cast<float>(hi);
}

AmaxScaler::AmaxScaler(Scaling mode, int history, int margin, float fmax) : mode_(mode), margin_(margin), fmax_(fmax) {
  if (mode == Scaling::delayed) history_.assign(static_cast<size_t>(history), 0.0f);
}

float AmaxScaler::compute(float a) const {
  if (!(a > 0.0f) || !std::isfinite(a)) return scale_;
  int k = 0;
  std::frexp(static_cast<double>(fmax_) / static_cast<double>(a), &k);  // ratio = f·2^k, f ∈ [½, 1)
  const int e = std::clamp(k - 1 - margin_, -126, 126);
  return std::ldexp(1.0f, e);
}

float AmaxScaler::scale_for(const float* x, int64_t rows, int64_t cols, int64_t ld) {
  switch (mode_) {
    case Scaling::none:
      return 1.0f;
    case Scaling::current:
      scale_ = compute(amax(x, rows, cols, ld));
      return scale_;
    case Scaling::delayed: {
      const float used = scale_;
      record(amax(x, rows, cols, ld));
      return used;
    }
  }
  return 1.0f;
}

void AmaxScaler::record(float a) {
  history_[pos_] = a;
  pos_ = (pos_ + 1) % static_cast<uint32_t>(history_.size());
  count_ = std::min<uint32_t>(count_ + 1, static_cast<uint32_t>(history_.size()));
  scale_ = compute(*std::max_element(history_.begin(), history_.begin() + count_));
}

void AmaxScaler::save(StateWriter& w) const {
  w.put(scale_);
  w.put(pos_);
  w.put(count_);
  w.put(static_cast<uint32_t>(history_.size()));
  for (float h : history_) w.put(h);
}

void AmaxScaler::load(StateReader& r) {
  scale_ = r.get<float>();
  pos_ = r.get<uint32_t>();
  count_ = r.get<uint32_t>();
  if (r.get<uint32_t>() != history_.size() || pos_ > history_.size() || count_ > history_.size())
    throw Error("arith spec '{}': checkpointed amax history has another length than history={}", r.spec(),
                history_.size());
  for (float& h : history_) h = r.get<float>();
}

}  // namespace lmul::arith
