// Causal-masked, scaled softmax of attention scores, fused: P[g,i,j] = exp(s·a[g,i,j] - max) / Σ
// over j ≤ i, and 0 above the diagonal (nanoGPT's masked_fill(-inf) + softmax). exp is core/simd's.
#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/simd/vec_math.h"

namespace lmul {

namespace {
// att, P: (G,T,T); P may be att (each row reads its scores before writing them)
void causal_softmax_forward(float* P, const float* att, int64_t G, int64_t T, float scale) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < G * T; ++r) {
    const int64_t i = r % T;
    const float* a = att + r * T;
    float* p = P + r * T;
    float mx = -INFINITY;
    for (int64_t j = 0; j <= i; ++j) mx = std::max(mx, scale * a[j]);
    for (int64_t j = 0; j <= i; ++j) p[j] = scale * a[j] - mx;
    simd::exp(p, i + 1);
    float sum = 0;
    for (int64_t j = 0; j <= i; ++j) sum += p[j];
    const float inv = 1.0f / sum;
    for (int64_t j = 0; j <= i; ++j) p[j] *= inv;
    for (int64_t j = i + 1; j < T; ++j) p[j] = 0.0f;
  }
}

// datt[j] (+)= scale · P[j] · (dP[j] - Σ_k P[k]·dP[k]), j ≤ i; 0 above the diagonal.
void causal_softmax_backward(float* datt, const float* P, const float* dP, int64_t G, int64_t T, float scale,
                             bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < G * T; ++r) {
    const int64_t i = r % T;
    const float* p = P + r * T;
    const float* dp = dP + r * T;
    float* da = datt + r * T;
    float dot = 0;
    for (int64_t j = 0; j <= i; ++j) dot += p[j] * dp[j];
    if (accumulate) {
      for (int64_t j = 0; j <= i; ++j) da[j] += scale * p[j] * (dp[j] - dot);
    } else {
      for (int64_t j = 0; j <= i; ++j) da[j] = scale * p[j] * (dp[j] - dot);
      for (int64_t j = i + 1; j < T; ++j) da[j] = 0.0f;
    }
  }
}
}  // namespace

Tensor causal_softmax(const Tensor& att, float scale, bool overwrite_scores) {
  if (att.dim() < 2 || att.size(-1) != att.size(-2))
    throw Error("[causal_softmax] expected (...,T,T), got {}", shape_str(att.shape()));
  const int64_t T = att.size(-1), G = att.numel() / (T * T);
  Tensor P = overwrite_scores ? att.view_as(att.shape()) : Tensor(att.shape());
  causal_softmax_forward(P.data(), att.data(), G, T, scale);
  if (needs_grad({&att})) {
    record(P, [out = P.shared(), att, G, T, scale] {
      bool fresh = false;
      float* da = att.grad_for_write(&fresh);
      causal_softmax_backward(da, out->data->data(), out->grad->data(), G, T, scale, !fresh);
    });
  }
  return P;
}

}  // namespace lmul
