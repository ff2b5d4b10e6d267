// SiLU (swish) silu(x) = x·σ(x), the MatMul-free LM's activation on the MLGRU input and state.
#include <memory>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/ops/logistic.h"

namespace lmul {

namespace {
// out = x·σ(x); σ kept in sig when the backward will need it (null: not kept), so that the
// backward costs no second exp.
void silu_forward(float* out, float* sig, const float* x, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float s = detail::logistic(x[i]);
    if (sig) sig[i] = s;
    out[i] = x[i] * s;
  }
}

// dx (+)= dy·σ(x)·(1 + x·(1 − σ(x))), σ from the forward.
void silu_backward(float* dx, const float* dy, const float* x, const float* sig, int64_t n, bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float s = sig[i];
    const float g = dy[i] * s * (1.0f + x[i] * (1.0f - s));
    dx[i] = accumulate ? dx[i] + g : g;
  }
}
}  // namespace

Tensor silu(const Tensor& x) {
  Tensor out(x.shape());
  const int64_t n = x.numel();
  const bool grad = needs_grad({&x});
  auto sig = grad ? std::make_shared<std::vector<float>>(static_cast<size_t>(n)) : nullptr;
  silu_forward(out.data(), sig ? sig->data() : nullptr, x.data(), n);
  if (grad) {
    record(out, [out = out.shared(), x, n, sig] {
      bool fresh = false;
      float* dx = x.grad_for_write(&fresh);
      silu_backward(dx, out->grad->data(), x.data(), sig->data(), n, !fresh);
    });
  }
  return out;
}

}  // namespace lmul
