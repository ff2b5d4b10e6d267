// The MLGRU's token mixing: an element-wise linear recurrence over time (HGRN's scan,
// matmulfreellm ops/hgrn/recurrent_fuse.py:52-60 forward, :111-125 backward):
//   h_t = f_t ⊙ h_{t−1} + c_t,   h_{−1} = h0 (zeros when not given).
// Each (batch, channel) pair is an independent scalar recurrence: no product mixes channels.
#include <cstring>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace lmul {

namespace {
// f, c, h (B,T,C); h0 (B,C) or null. The state is kept in fp32 and every h_t is stored.
void recurrence_forward(float* h, const float* f, const float* c, const float* h0, int64_t B, int64_t T, int64_t C) {
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      const int64_t o = (b * T + t) * C;
      const float* prev = t > 0 ? h + o - C : (h0 ? h0 + b * C : nullptr);
      for (int64_t k = 0; k < C; ++k) h[o + k] = (prev ? f[o + k] * prev[k] : 0.0f) + c[o + k];
    }
  }
}

// Backward through time, from t = T−1 down to 0, with a running dh per channel:
//   dh += dh_out_t;  dc_t = dh;  df_t = dh·h_{t−1};  dh = dh·f_t;   and finally dh0 = dh.
// df, dc, dh0 are accumulated (+=); any may be null.
void recurrence_backward(float* df, float* dc, float* dh0, const float* dy, const float* h, const float* f,
                         const float* h0, int64_t B, int64_t T, int64_t C) {
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < B; ++b) {
    std::vector<float> dh(static_cast<size_t>(C), 0.0f);
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t o = (b * T + t) * C;
      const float* prev = t > 0 ? h + o - C : (h0 ? h0 + b * C : nullptr);
      for (int64_t k = 0; k < C; ++k) {
        float& g = dh[static_cast<size_t>(k)];
        g += dy[o + k];
        if (dc) dc[o + k] += g;
        if (df && prev) df[o + k] += g * prev[k];
        g *= f[o + k];
      }
    }
    if (dh0)
      for (int64_t k = 0; k < C; ++k) dh0[b * C + k] += dh[static_cast<size_t>(k)];
  }
}
}  // namespace

Tensor linear_recurrence(const Tensor& f, const Tensor& c, const Tensor& h0, Tensor* h_last) {
  if (f.dim() != 3 || f.shape() != c.shape())
    throw Error("[linear_recurrence] f {} and c {} must be the same (B,T,C)", shape_str(f.shape()),
                shape_str(c.shape()));
  const int64_t B = f.size(0), T = f.size(1), C = f.size(2);
  if (h0.defined() && h0.shape() != Shape{B, C})
    throw Error("[linear_recurrence] h0 {} is not (B,C) = ({},{})", shape_str(h0.shape()), B, C);
  Tensor h(f.shape());
  recurrence_forward(h.data(), f.data(), c.data(), h0.defined() ? h0.data() : nullptr, B, T, C);
  if (h_last) {  // the state after the last step, for carrying on (generation); no gradient
    *h_last = Tensor({B, C});
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(h_last->data() + b * C, h.data() + ((b * T) + T - 1) * C, static_cast<size_t>(C) * sizeof(float));
  }
  if (needs_grad({&f, &c, &h0})) {
    record(h, [h = h.shared(), f, c, h0, B, T, C] {
      recurrence_backward(f.requires_grad() ? f.grad() : nullptr, c.requires_grad() ? c.grad() : nullptr,
                          h0.defined() && h0.requires_grad() ? h0.grad() : nullptr, h->grad->data(), h->data->data(),
                          f.data(), h0.defined() ? h0.data() : nullptr, B, T, C);
    });
  }
  return h;
}

}  // namespace lmul
