// Fused log-softmax + negative log-likelihood, mean over the non-ignored targets (F.cross_entropy
// with ignore_index=-1, as nanoGPT). Saves one logsumexp per row; backward recomputes softmax.
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace lmul {

namespace {
// logits (N,V) → lse (N), per-row loss (N) (0 for ignored rows)
void cross_entropy_forward(float* lse, double* loss, const float* logits, const int32_t* y, int64_t N, int64_t V) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N; ++i) {
    const float* l = logits + i * V;
    float mx = -INFINITY;
    for (int64_t j = 0; j < V; ++j) mx = std::max(mx, l[j]);
    double s = 0;
    for (int64_t j = 0; j < V; ++j) s += std::exp(static_cast<double>(l[j] - mx));
    lse[i] = mx + static_cast<float>(std::log(s));
    loss[i] = y[i] < 0 ? 0.0 : static_cast<double>(lse[i]) - l[y[i]];
  }
}

// dlogits (+)= d·(softmax - onehot(y)); ignored rows get 0.
void cross_entropy_backward(float* dlogits, const float* logits, const float* lse, const int32_t* y, int64_t N,
                            int64_t V, float d, bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N; ++i) {
    const float* l = logits + i * V;
    float* g = dlogits + i * V;
    const float di = y[i] < 0 ? 0.0f : d;
    for (int64_t j = 0; j < V; ++j) {
      const float v = di * (std::exp(l[j] - lse[i]) - (j == y[i] ? 1.0f : 0.0f));
      g[j] = accumulate ? g[j] + v : v;
    }
  }
}
}  // namespace

Tensor cross_entropy(const Tensor& logits, std::span<const int32_t> targets) {
  const int64_t V = logits.size(-1), N = logits.numel() / V;
  if (static_cast<int64_t>(targets.size()) != N)
    throw Error("[cross_entropy] logits {} need {} targets, got {}", shape_str(logits.shape()), N, targets.size());
  int64_t count = 0;
  for (int32_t t : targets) {
    if (t >= V || t < -1) throw Error("[cross_entropy] target {} out of range [0, {})", t, V);
    count += t >= 0;
  }
  Tensor lse({N});
  std::vector<double> loss(static_cast<size_t>(N));
  cross_entropy_forward(lse.data(), loss.data(), logits.data(), targets.data(), N, V);
  double total = 0;
  for (double l : loss) total += l;  // serial: deterministic
  Tensor out = Tensor::full({1}, count ? static_cast<float>(total / count) : NAN);
  if (needs_grad({&logits})) {
    std::vector<int32_t> y(targets.begin(), targets.end());
    record(out, [out = out.shared(), logits, lse, y = std::move(y), N, V, count] {
      const float d = out->grad->data()[0] / static_cast<float>(std::max<int64_t>(count, 1));
      bool fresh = false;
      float* dl = logits.grad_for_write(&fresh);
      cross_entropy_backward(dl, logits.data(), lse.data(), y.data(), N, V, d, !fresh);
    });
  }
  return out;
}

}  // namespace lmul
