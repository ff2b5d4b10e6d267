// LayerNorm over the last dimension (llm.c's layernorm_forward/backward), bias optional as
// nanoGPT's LayerNorm(ndim, bias).
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/parallel.h"

namespace lmul {

namespace {
// x, out (N,C); mean, rstd (N) saved for backward. Two-pass statistics in fp32.
void layer_norm_forward(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b, int64_t N,
                        int64_t C, float eps) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N; ++i) {
    const float* xi = x + i * C;
    float m = 0;
    for (int64_t c = 0; c < C; ++c) m += xi[c];
    m /= static_cast<float>(C);
    float v = 0;
    for (int64_t c = 0; c < C; ++c) v += (xi[c] - m) * (xi[c] - m);
    v /= static_cast<float>(C);
    const float s = 1.0f / std::sqrt(v + eps);
    float* o = out + i * C;
    for (int64_t c = 0; c < C; ++c) o[c] = (xi[c] - m) * s * w[c] + (b ? b[c] : 0.0f);
    mean[i] = m;
    rstd[i] = s;
  }
}

// dx (+)= rstd·(w·dy - mean(w·dy) - x̂·mean(w·dy·x̂)); dw += Σ dy·x̂; db += Σ dy.
// dw/db: per-thread partial sums added in thread order (deterministic for a thread count).
void layer_norm_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                         const float* mean, const float* rstd, int64_t N, int64_t C, bool accumulate_dx) {
  const int nt = pool_threads();
  std::vector<float> part(static_cast<size_t>(nt) * 2 * C, 0.0f);
#pragma omp parallel num_threads(nt)
  {
    float* pw = part.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * C;
    float* pb = pw + C;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < N; ++i) {
      const float* xi = x + i * C;
      const float* d = dy + i * C;
      const float m = mean[i], s = rstd[i];
      float dnorm_mean = 0, dnorm_norm_mean = 0;
      for (int64_t c = 0; c < C; ++c) {
        const float xh = (xi[c] - m) * s, dn = w[c] * d[c];
        dnorm_mean += dn;
        dnorm_norm_mean += dn * xh;
        pw[c] += d[c] * xh;
        pb[c] += d[c];
      }
      dnorm_mean /= static_cast<float>(C);
      dnorm_norm_mean /= static_cast<float>(C);
      if (dx) {
        float* o = dx + i * C;
        for (int64_t c = 0; c < C; ++c) {
          const float xh = (xi[c] - m) * s;
          const float v = (w[c] * d[c] - dnorm_mean - xh * dnorm_norm_mean) * s;
          o[c] = accumulate_dx ? o[c] + v : v;
        }
      }
    }
  }
  for (int t = 0; t < nt; ++t) {
    const float* pw = part.data() + static_cast<size_t>(t) * 2 * C;
    if (dw)
      for (int64_t c = 0; c < C; ++c) dw[c] += pw[c];
    if (db)
      for (int64_t c = 0; c < C; ++c) db[c] += pw[C + c];
  }
}
}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  const int64_t C = x.size(-1), N = x.numel() / C;
  if (weight.numel() != C || (bias.defined() && bias.numel() != C))
    throw Error("[layer_norm] x {} does not fit weight {}", shape_str(x.shape()), shape_str(weight.shape()));
  Tensor out(x.shape()), mean({N}), rstd({N});
  layer_norm_forward(out.data(), mean.data(), rstd.data(), x.data(), weight.data(),
                     bias.defined() ? bias.data() : nullptr, N, C, eps);
  if (needs_grad({&x, &weight, &bias})) {
    record(out, [out = out.shared(), x, weight, bias, mean, rstd, N, C] {
      bool fresh = false;
      float* dx = x.requires_grad() ? x.grad_for_write(&fresh) : nullptr;
      layer_norm_backward(dx, weight.requires_grad() ? weight.grad() : nullptr,
                          bias.defined() && bias.requires_grad() ? bias.grad() : nullptr, out->grad->data(), x.data(),
                          weight.data(), mean.data(), rstd.data(), N, C, !fresh);
    });
  }
  return out;
}

}  // namespace lmul
