// Full reductions to one element. Summed in double, serially: exact enough and deterministic.
#include "core/autograd.h"
#include "core/ops.h"

namespace lmul {

namespace {
Tensor scaled_sum(const Tensor& x, double scale) {
  const int64_t n = x.numel();
  const float* p = x.data();
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += p[i];
  Tensor out = Tensor::full({1}, static_cast<float>(s * scale));
  if (needs_grad({&x})) {
    record(out, [out = out.shared(), x, n, scale] {
      const float d = static_cast<float>(out->grad->data()[0] * scale);
      float* g = x.grad();
      for (int64_t i = 0; i < n; ++i) g[i] += d;
    });
  }
  return out;
}
}  // namespace

Tensor sum(const Tensor& x) { return scaled_sum(x, 1.0); }
Tensor mean(const Tensor& x) { return scaled_sum(x, 1.0 / static_cast<double>(x.numel())); }

}  // namespace lmul
