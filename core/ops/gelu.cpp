// GELU: exact erf form (nn.GELU(), nanoGPT's MLP) or the tanh approximation (GPT-2, llm.c).
#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"

namespace lmul {

namespace {
constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;

void gelu_forward(float* out, const float* x, int64_t n, bool tanh_approx) {
  if (tanh_approx) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i], u = kSqrt2OverPi * (v + 0.044715f * v * v * v);
      out[i] = 0.5f * v * (1.0f + std::tanh(u));
    }
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
  }
}

// dx (+)= dy · gelu'(x)
void gelu_backward(float* dx, const float* dy, const float* x, int64_t n, bool tanh_approx,
                   bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    float g;
    if (tanh_approx) {
      const float u = kSqrt2OverPi * (v + 0.044715f * v * v * v), t = std::tanh(u);
      const float du = kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * v * v);
      g = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du;
    } else {
      g = 0.5f * (1.0f + std::erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * std::exp(-0.5f * v * v);
    }
    dx[i] = accumulate ? dx[i] + dy[i] * g : dy[i] * g;
  }
}
}  // namespace

Tensor gelu(const Tensor& x, bool tanh_approximation) {
  Tensor out(x.shape());
  const int64_t n = x.numel();
  gelu_forward(out.data(), x.data(), n, tanh_approximation);
  if (needs_grad({&x})) {
    record(out, [out = out.shared(), x, n, tanh_approximation] {
      bool fresh = false;
      float* dx = x.grad_for_write(&fresh);
      gelu_backward(dx, out->grad->data(), x.data(), n, tanh_approximation, !fresh);
    });
  }
  return out;
}

}  // namespace lmul
