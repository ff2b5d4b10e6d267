// ReLU: max(x, 0), the MLP activation of the multiplication-task paper (Qiu et al. 2024).
#include "core/autograd.h"
#include "core/ops.h"

namespace lmul {

namespace {
void relu_forward(float* out, const float* x, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

// dx (+)= dy · [x > 0] (the subgradient 0 at x = 0, as torch.relu)
void relu_backward(float* dx, const float* dy, const float* x, int64_t n, bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float g = x[i] > 0.0f ? dy[i] : 0.0f;
    dx[i] = accumulate ? dx[i] + g : g;
  }
}
}  // namespace

Tensor relu(const Tensor& x) {
  Tensor out(x.shape());
  const int64_t n = x.numel();
  relu_forward(out.data(), x.data(), n);
  if (needs_grad({&x})) {
    record(out, [out = out.shared(), x, n] {
      bool fresh = false;
      float* dx = x.grad_for_write(&fresh);
      relu_backward(dx, out->grad->data(), x.data(), n, !fresh);
    });
  }
  return out;
}

}  // namespace lmul
