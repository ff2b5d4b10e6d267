// HGRN's learned lower bound on the forget gate (matmulfreellm models/hgrn_bit/modeling_hgrn_bit.py
// :231-238 and layers/hgrn_bit.py:113-116): from a trainable table p (L,d), per channel
//   s = softmax(p, over the L layers),  lb = cumsum(s) − s_0      (lb_0 = 0, lb_{L−1} = 1 − s_0),
// and in layer l the gate σ(·) is floored: f = lb_l + (1 − lb_l)·σ(·). Upper layers thus keep
// longer memories.
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace lmul {

namespace {
// p, s, lb (L,d); s (the softmax) saved for backward.
void lower_bounds_forward(float* lb, float* s, const float* p, int64_t L, int64_t d) {
  for (int64_t k = 0; k < d; ++k) {
    float mx = p[k];
    for (int64_t l = 1; l < L; ++l) mx = std::max(mx, p[l * d + k]);
    float z = 0;
    for (int64_t l = 0; l < L; ++l) z += s[l * d + k] = std::exp(p[l * d + k] - mx);
    for (int64_t l = 0; l < L; ++l) s[l * d + k] /= z;
    float run = 0;
    for (int64_t l = 0; l < L; ++l) {
      run += s[l * d + k];
      lb[l * d + k] = run - s[k];
    }
  }
}

// lb_l = Σ_{j=1..l} s_j, so ds_j = Σ_{l≥j} dlb_l for j ≥ 1 and ds_0 = 0; then the softmax:
// dp_j += s_j·(ds_j − Σ_i s_i·ds_i).
void lower_bounds_backward(float* dp, const float* dlb, const float* s, int64_t L, int64_t d) {
  std::vector<float> ds(static_cast<size_t>(L));
  for (int64_t k = 0; k < d; ++k) {
    float run = 0;
    for (int64_t l = L - 1; l >= 1; --l) ds[static_cast<size_t>(l)] = run += dlb[l * d + k];
    ds[0] = 0;
    float dot = 0;
    for (int64_t l = 0; l < L; ++l) dot += s[l * d + k] * ds[static_cast<size_t>(l)];
    for (int64_t l = 0; l < L; ++l) dp[l * d + k] += s[l * d + k] * (ds[static_cast<size_t>(l)] - dot);
  }
}
}  // namespace

Tensor lower_bounds(const Tensor& p) {
  if (p.dim() != 2) throw Error("[lower_bounds] table {} is not (L,d)", shape_str(p.shape()));
  const int64_t L = p.size(0), d = p.size(1);
  Tensor lb(p.shape()), s(p.shape());
  lower_bounds_forward(lb.data(), s.data(), p.data(), L, d);
  if (needs_grad({&p})) {
    record(lb, [lb = lb.shared(), p, s, L, d] { lower_bounds_backward(p.grad(), lb->grad->data(), s.data(), L, d); });
  }
  return lb;
}

Tensor forget_gate(const Tensor& gate, const Tensor& lb, int64_t layer) {
  const int64_t d = gate.size(-1), N = gate.numel() / d;
  if (lb.dim() != 2 || lb.size(1) != d || layer < 0 || layer >= lb.size(0))
    throw Error("[forget_gate] gate {} and layer {} do not fit the lower bounds {}", shape_str(gate.shape()), layer,
                shape_str(lb.shape()));
  Tensor out(gate.shape());
  const float* g = gate.data();
  const float* b = lb.data() + layer * d;
  float* o = out.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N; ++i)
    for (int64_t k = 0; k < d; ++k) o[i * d + k] = b[k] + (1.0f - b[k]) * g[i * d + k];
  if (needs_grad({&gate, &lb})) {
    record(out, [out = out.shared(), gate, lb, layer, N, d] {
      const float* dy = out->grad->data();
      const float* b = lb.data() + layer * d;
      if (gate.requires_grad()) {
        float* dg = gate.grad();
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < N; ++i)
          for (int64_t k = 0; k < d; ++k) dg[i * d + k] += dy[i * d + k] * (1.0f - b[k]);
      }
      if (lb.requires_grad()) {  // d/dlb = 1 − gate, summed over rows (serial: deterministic)
        float* db = lb.grad() + layer * d;
        const float* g = gate.data();
        for (int64_t i = 0; i < N; ++i)
          for (int64_t k = 0; k < d; ++k) db[k] += dy[i * d + k] * (1.0f - g[i * d + k]);
      }
    });
  }
  return out;
}

}  // namespace lmul
