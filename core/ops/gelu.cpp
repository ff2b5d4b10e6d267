// GELU: exact erf form (nn.GELU(), nanoGPT's MLP) or the tanh approximation (GPT-2, llm.c).
// erf, exp and tanh come from core/simd (vectorised, within a few ulp of the C library's), applied
// block by block so that each block's temporaries stay in L1.
#include <algorithm>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/simd/vec_math.h"

namespace lmul {

namespace {
constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kTanhCubic = 0.044715f;
constexpr int64_t kBlock = 512;

// Calls fn(begin, count) on consecutive blocks of [0, n), the blocks spread over the threads.
template <typename Fn>
void for_blocks(int64_t n, Fn&& fn) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < blocks; ++k) fn(k * kBlock, std::min(kBlock, n - k * kBlock));
}

// out = x·Φ(x) = ½x(1 + erf(x/√2)), or ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
void gelu_forward(float* out, const float* x, int64_t n, bool tanh_approx) {
  for_blocks(n, [&](int64_t b, int64_t m) {
    const float* xb = x + b;
    float u[kBlock];
    if (tanh_approx) {
      for (int64_t i = 0; i < m; ++i) u[i] = kSqrt2OverPi * (xb[i] + kTanhCubic * xb[i] * xb[i] * xb[i]);
      simd::tanh(u, m);
    } else {
      for (int64_t i = 0; i < m; ++i) u[i] = xb[i] * kInvSqrt2;
      simd::erf(u, m);
    }
    for (int64_t i = 0; i < m; ++i) out[b + i] = 0.5f * xb[i] * (1.0f + u[i]);
  });
}

// dx (+)= dy · gelu'(x); gelu'(x) = Φ(x) + x·φ(x) for the erf form.
void gelu_backward(float* dx, const float* dy, const float* x, int64_t n, bool tanh_approx, bool accumulate) {
  for_blocks(n, [&](int64_t b, int64_t m) {
    const float* xb = x + b;
    float u[kBlock], g[kBlock];
    if (tanh_approx) {
      for (int64_t i = 0; i < m; ++i) u[i] = kSqrt2OverPi * (xb[i] + kTanhCubic * xb[i] * xb[i] * xb[i]);
      simd::tanh(u, m);
      for (int64_t i = 0; i < m; ++i) {
        const float v = xb[i], t = u[i], du = kSqrt2OverPi * (1.0f + 3.0f * kTanhCubic * v * v);
        g[i] = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du;
      }
    } else {
      for (int64_t i = 0; i < m; ++i) {
        u[i] = xb[i] * kInvSqrt2;
        g[i] = -0.5f * xb[i] * xb[i];
      }
      simd::erf(u, m);
      simd::exp(g, m);
      for (int64_t i = 0; i < m; ++i) g[i] = 0.5f * (1.0f + u[i]) + xb[i] * kInvSqrt2Pi * g[i];
    }
    float* d = dx + b;
    const float* dyb = dy + b;
    if (accumulate)
      for (int64_t i = 0; i < m; ++i) d[i] += dyb[i] * g[i];
    else
      for (int64_t i = 0; i < m; ++i) d[i] = dyb[i] * g[i];
  });
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
