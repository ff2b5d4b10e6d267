// The GLU channel mixer's gate (HGRNBitMLP): x (..., 2I) is the fused gate_proj output, chunked in
// two along the last dimension (first I = gate u, last I = up v); out (..., I) = silu(u)·v.
#include <memory>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/ops/logistic.h"

namespace lmul {

namespace {
// x (N, 2I) → out (N, I). Written as u·v·σ(u), the order of swiglu's x·y/(1+e^−x). σ(u) kept in
// sig (N, I) when the backward will need it (null: not kept), so that it costs no second exp.
void swiglu_forward(float* out, float* sig, const float* x, int64_t N, int64_t I) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < N; ++r) {
    const float* u = x + r * 2 * I;
    const float* v = u + I;
    float* o = out + r * I;
    for (int64_t j = 0; j < I; ++j) {
      const float s = detail::logistic(u[j]);
      if (sig) sig[r * I + j] = s;
      o[j] = u[j] * s * v[j];
    }
  }
}

// du = dy·v·σ(u)(1 + u(1 − σ(u))), dv = dy·silu(u); written (or added) into dx (N, 2I).
void swiglu_backward(float* dx, const float* dy, const float* x, const float* sig, int64_t N, int64_t I,
                     bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < N; ++r) {
    const float* u = x + r * 2 * I;
    const float* v = u + I;
    const float* d = dy + r * I;
    float* du = dx + r * 2 * I;
    float* dv = du + I;
    for (int64_t j = 0; j < I; ++j) {
      const float s = sig[r * I + j];
      const float gu = d[j] * v[j] * s * (1.0f + u[j] * (1.0f - s)), gv = d[j] * u[j] * s;
      du[j] = accumulate ? du[j] + gu : gu;
      dv[j] = accumulate ? dv[j] + gv : gv;
    }
  }
}
}  // namespace

Tensor swiglu(const Tensor& x) {
  const int64_t C2 = x.size(-1);
  if (C2 % 2 != 0)
    throw Error("[swiglu] last dimension of x {} is odd; it must hold gate and up halves", shape_str(x.shape()));
  const int64_t I = C2 / 2, N = x.numel() / C2;
  Shape s = x.shape();
  s.back() = I;
  Tensor out(s);
  const bool grad = needs_grad({&x});
  auto sig = grad ? std::make_shared<std::vector<float>>(static_cast<size_t>(N * I)) : nullptr;
  swiglu_forward(out.data(), sig ? sig->data() : nullptr, x.data(), N, I);
  if (grad) {
    record(out, [out = out.shared(), x, N, I, sig] {
      bool fresh = false;
      float* dx = x.grad_for_write(&fresh);
      swiglu_backward(dx, out->grad->data(), x.data(), sig->data(), N, I, !fresh);
    });
  }
  return out;
}

}  // namespace lmul
