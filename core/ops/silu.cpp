// SiLU (swish) silu(x) = x·σ(x), the MatMul-free LM's activation on the MLGRU input and state.
#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"

namespace lmul {

namespace {
float logistic(float v) {
  if (v >= 0) return 1.0f / (1.0f + std::exp(-v));
  const float e = std::exp(v);
  return e / (1.0f + e);
}

void silu_forward(float* out, const float* x, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * logistic(x[i]);
}

// dx (+)= dy·σ(x)·(1 + x·(1 − σ(x))); σ recomputed from x (nothing but x is saved).
void silu_backward(float* dx, const float* dy, const float* x, int64_t n, bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float s = logistic(x[i]);
    const float g = dy[i] * s * (1.0f + x[i] * (1.0f - s));
    dx[i] = accumulate ? dx[i] + g : g;
  }
}
}  // namespace

Tensor silu(const Tensor& x) {
  Tensor out(x.shape());
  const int64_t n = x.numel();
  silu_forward(out.data(), x.data(), n);
  if (needs_grad({&x})) {
    record(out, [out = out.shared(), x, n] {
      bool fresh = false;
      float* dx = x.grad_for_write(&fresh);
      silu_backward(dx, out->grad->data(), x.data(), n, !fresh);
    });
  }
  return out;
}

}  // namespace lmul
