// Logistic sigmoid σ(x) = 1/(1 + e^−x) (the forget gate of the MatMul-free LM's MLGRU).
#include "core/autograd.h"
#include "core/ops.h"
#include "core/ops/logistic.h"

namespace lmul {

namespace {
// out = σ(x) (detail::logistic: no overflow for either sign).
void sigmoid_forward(float* out, const float* x, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = detail::logistic(x[i]);
}

// dx (+)= dy·σ(1 − σ), from the saved output σ.
void sigmoid_backward(float* dx, const float* dy, const float* s, int64_t n, bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float g = dy[i] * s[i] * (1.0f - s[i]);
    dx[i] = accumulate ? dx[i] + g : g;
  }
}
}  // namespace

Tensor sigmoid(const Tensor& x) {
  Tensor out(x.shape());
  const int64_t n = x.numel();
  sigmoid_forward(out.data(), x.data(), n);
  if (needs_grad({&x})) {
    record(out, [out = out.shared(), x, n] {
      bool fresh = false;
      float* dx = x.grad_for_write(&fresh);
      sigmoid_backward(dx, out->grad->data(), out->data->data(), n, !fresh);
    });
  }
  return out;
}

}  // namespace lmul
