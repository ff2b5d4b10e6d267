// Reshape and the head transposes of causal self-attention: (B,T,3C) → q,k,v (B,NH,T,hs) and
// (B,NH,T,hs) → (B,T,C). Copies, so that the batched GEMMs see contiguous heads.
#include <cstring>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace lmul {

namespace {
// Moves between (B,T,W) rows (reading columns [off, off+C)) and (B,NH,T,hs). dir = +1: rows →
// heads (dst = heads), dir = -1: heads → rows. accumulate adds instead of writing.
void permute_heads(float* heads, float* rows, int64_t B, int64_t T, int64_t W, int64_t off, int64_t NH, int64_t hs,
                   bool to_heads, bool accumulate) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < NH; ++h)
      for (int64_t t = 0; t < T; ++t) {
        float* hp = heads + ((b * NH + h) * T + t) * hs;
        float* rp = rows + (b * T + t) * W + off + h * hs;
        if (to_heads) {
          if (accumulate)
            for (int64_t i = 0; i < hs; ++i) hp[i] += rp[i];
          else
            std::memcpy(hp, rp, sizeof(float) * hs);
        } else {
          if (accumulate)
            for (int64_t i = 0; i < hs; ++i) rp[i] += hp[i];
          else
            std::memcpy(rp, hp, sizeof(float) * hs);
        }
      }
}
}  // namespace

Heads split_qkv_heads(const Tensor& qkv, int64_t NH) {
  if (qkv.dim() != 3 || qkv.size(2) % (3 * NH) != 0)
    throw Error("[split_qkv_heads] expected (B,T,3C) with C divisible by NH={}, got {}", NH, shape_str(qkv.shape()));
  const int64_t B = qkv.size(0), T = qkv.size(1), W = qkv.size(2), C = W / 3, hs = C / NH;
  Heads h{Tensor({B, NH, T, hs}), Tensor({B, NH, T, hs}), Tensor({B, NH, T, hs})};
  Tensor* parts[3] = {&h.q, &h.k, &h.v};
  for (int p = 0; p < 3; ++p) permute_heads(parts[p]->data(), qkv.data(), B, T, W, p * C, NH, hs, true, false);
  if (needs_grad({&qkv})) {
    // One closure per output: each runs when its output got a gradient.
    for (int p = 0; p < 3; ++p)
      record(*parts[p], [out = parts[p]->shared(), qkv, B, T, W, C, NH, hs, p] {
        permute_heads(out->grad->data(), qkv.grad(), B, T, W, p * C, NH, hs, false, true);
      });
  }
  return h;
}

Tensor merge_heads(const Tensor& y) {
  if (y.dim() != 4) throw Error("[merge_heads] expected (B,NH,T,hs), got {}", shape_str(y.shape()));
  const int64_t B = y.size(0), NH = y.size(1), T = y.size(2), hs = y.size(3), C = NH * hs;
  Tensor out({B, T, C});
  permute_heads(y.data(), out.data(), B, T, C, 0, NH, hs, false, false);
  if (needs_grad({&y})) {
    record(out, [out = out.shared(), y, B, T, C, NH, hs] {
      bool fresh = false;
      float* dy = y.grad_for_write(&fresh);
      permute_heads(dy, out->grad->data(), B, T, C, 0, NH, hs, true, !fresh);
    });
  }
  return out;
}

Tensor transpose_last(const Tensor& x) {
  if (x.dim() != 3) throw Error("[transpose_last] expected (G,M,N), got {}", shape_str(x.shape()));
  const int64_t G = x.size(0), M = x.size(1), N = x.size(2);
  Tensor out({G, N, M});
  const float* px = x.data();
  float* po = out.data();
#pragma omp parallel for schedule(static)
  for (int64_t g = 0; g < G; ++g)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) po[(g * N + j) * M + i] = px[(g * M + i) * N + j];
  if (needs_grad({&x})) {
    record(out, [out = out.shared(), x, G, M, N] {
      const float* d = out->grad->data();
      float* gx = x.grad();
#pragma omp parallel for schedule(static)
      for (int64_t g = 0; g < G; ++g)
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) gx[(g * M + i) * N + j] += d[(g * N + j) * M + i];
    });
  }
  return out;
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  if (numel(shape) != x.numel()) throw Error("[reshape] cannot view {} as {}", shape_str(x.shape()), shape_str(shape));
  Tensor out = x.view_as(shape);
  if (needs_grad({&x})) record_pass_through(out, x);
  return out;
}

}  // namespace lmul
