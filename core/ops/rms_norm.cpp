// RMSNorm over the last dimension (the MatMul-free LM's block norms, g_norm and BitLinear's inner
// norm): y = x·rstd·w, rstd = 1/√(mean(x²) + eps), no bias, no mean subtraction
// (matmulfreellm modules/layernorm.py and ops/fusedbitnet.py:108-120).
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/parallel.h"

namespace lmul {

namespace {
// x, out (N,C); rstd (N) saved for backward. Sum of squares in fp32, as the reference kernel.
void rms_norm_forward(float* out, float* rstd, const float* x, const float* w, int64_t N, int64_t C, float eps) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N; ++i) {
    const float* xi = x + i * C;
    float ss = 0;
    for (int64_t c = 0; c < C; ++c) ss += xi[c] * xi[c];
    const float s = 1.0f / std::sqrt(ss / static_cast<float>(C) + eps);
    float* o = out + i * C;
    for (int64_t c = 0; c < C; ++c) o[c] = xi[c] * s * w[c];
    rstd[i] = s;
  }
}

// With x̂ = x·rstd and g = w⊙dy: dx (+)= (g − x̂·mean(g⊙x̂))·rstd (fusedbitnet.py:294-296);
// dw += Σ_rows dy⊙x̂, per-thread partial sums added in thread order (deterministic).
void rms_norm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, const float* rstd,
                       int64_t N, int64_t C, bool accumulate_dx) {
  const int nt = pool_threads();
  std::vector<float> part(dw ? static_cast<size_t>(nt) * C : 0, 0.0f);
#pragma omp parallel num_threads(nt)
  {
    float* pw = dw ? part.data() + static_cast<size_t>(omp_get_thread_num()) * C : nullptr;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < N; ++i) {
      const float* xi = x + i * C;
      const float* d = dy + i * C;
      const float s = rstd[i];
      float dot = 0;
      for (int64_t c = 0; c < C; ++c) {
        const float xh = xi[c] * s;
        dot += w[c] * d[c] * xh;
        if (pw) pw[c] += d[c] * xh;
      }
      dot /= static_cast<float>(C);
      if (dx) {
        float* o = dx + i * C;
        for (int64_t c = 0; c < C; ++c) {
          const float v = (w[c] * d[c] - xi[c] * s * dot) * s;
          o[c] = accumulate_dx ? o[c] + v : v;
        }
      }
    }
  }
  if (dw)
    for (int t = 0; t < nt; ++t)
      for (int64_t c = 0; c < C; ++c) dw[c] += part[static_cast<size_t>(t) * C + c];
}
}  // namespace

Tensor rms_norm(const Tensor& x, const Tensor& weight, float eps) {
  const int64_t C = x.size(-1), N = x.numel() / C;
  if (weight.numel() != C)
    throw Error("[rms_norm] x {} does not fit weight {}", shape_str(x.shape()), shape_str(weight.shape()));
  Tensor out(x.shape()), rstd({N});
  rms_norm_forward(out.data(), rstd.data(), x.data(), weight.data(), N, C, eps);
  if (needs_grad({&x, &weight})) {
    record(out, [out = out.shared(), x, weight, rstd, N, C] {
      bool fresh = false;
      float* dx = x.requires_grad() ? x.grad_for_write(&fresh) : nullptr;
      rms_norm_backward(dx, weight.requires_grad() ? weight.grad() : nullptr, out->grad->data(), x.data(),
                        weight.data(), rstd.data(), N, C, !fresh);
    });
  }
  return out;
}

}  // namespace lmul
