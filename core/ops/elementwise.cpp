// Elementwise add (the residual stream), multiply, and 1 − x (the MLGRU's input gate 1 − f).
#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace lmul {

namespace {
void check_same(const Tensor& a, const Tensor& b, const char* op) {
  if (a.shape() != b.shape())
    throw Error("[{}] shapes differ: {} and {}", op, shape_str(a.shape()), shape_str(b.shape()));
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  check_same(a, b, "add");
  Tensor out(a.shape());
  const int64_t n = a.numel();
  const float *pa = a.data(), *pb = b.data();
  float* po = out.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) po[i] = pa[i] + pb[i];
  if (needs_grad({&a, &b})) {
    record(out, [out = out.shared(), a, b, n] {
      const float* d = out->grad->data();
      for (const Tensor* t : {&a, &b}) {
        if (!t->requires_grad()) continue;
        bool fresh = false;
        float* g = t->grad_for_write(&fresh);  // a first gradient is a copy: no zero-fill before it
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i) g[i] = fresh ? d[i] : g[i] + d[i];
      }
    });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_same(a, b, "mul");
  Tensor out(a.shape());
  const int64_t n = a.numel();
  const float *pa = a.data(), *pb = b.data();
  float* po = out.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) po[i] = pa[i] * pb[i];
  if (needs_grad({&a, &b})) {
    record(out, [out = out.shared(), a, b, n] {
      const float* d = out->grad->data();
      if (a.requires_grad()) {
        float* g = a.grad();
        const float* pb = b.data();
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i) g[i] += d[i] * pb[i];
      }
      if (b.requires_grad()) {
        float* g = b.grad();
        const float* pa = a.data();
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i) g[i] += d[i] * pa[i];
      }
    });
  }
  return out;
}

Tensor one_minus(const Tensor& x) {
  Tensor out(x.shape());
  const int64_t n = x.numel();
  const float* px = x.data();
  float* po = out.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) po[i] = 1.0f - px[i];
  if (needs_grad({&x})) {
    record(out, [out = out.shared(), x, n] {
      const float* d = out->grad->data();
      float* g = x.grad();
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < n; ++i) g[i] -= d[i];
    });
  }
  return out;
}

}  // namespace lmul
