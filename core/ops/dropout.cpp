// Inverted dropout with a counter-based mask: element i of a call keeps iff uniform(offset+i) ≥ p.
// Backward redraws the same mask from the saved offset instead of storing it.
#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace lmul {

namespace {
void dropout_apply(float* out, const float* in, int64_t n, float p, const Rng& rng, uint64_t offset, bool accumulate) {
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float v = rng.uniform_at(offset + static_cast<uint64_t>(i)) >= p ? in[i] * scale : 0.0f;
    out[i] = accumulate ? out[i] + v : v;
  }
}
}  // namespace

Tensor dropout(const Tensor& x, float p, Rng& rng) {
  if (!(p >= 0.0f && p < 1.0f)) throw Error("[dropout] p={} must be in [0, 1)", p);
  if (p == 0.0f) return x;
  const int64_t n = x.numel();
  const uint64_t offset = rng.take(static_cast<uint64_t>(n));
  Tensor out(x.shape());
  dropout_apply(out.data(), x.data(), n, p, rng, offset, false);
  if (needs_grad({&x})) {
    record(out, [out = out.shared(), x, n, p, rng, offset] {
      bool fresh = false;
      float* dx = x.grad_for_write(&fresh);
      dropout_apply(dx, out->grad->data(), n, p, rng, offset, !fresh);
    });
  }
  return out;
}

}  // namespace lmul
