#include "optim/adamw.h"

#include <cmath>

namespace lmul::optim {

AdamW::AdamW(Parameters& params, const AdamWConfig& config) : params_(params), c_(config) {
  for (auto& p : params_) {
    m_.push_back(Tensor::zeros(p.value.shape()));
    v_.push_back(Tensor::zeros(p.value.shape()));
  }
}

void AdamW::step(float lr, float grad_scale) {
  ++t_;
  const double bc1 = 1.0 - std::pow(static_cast<double>(c_.beta1), static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(static_cast<double>(c_.beta2), static_cast<double>(t_));
  const float step_size = static_cast<float>(lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float b1 = c_.beta1, b2 = c_.beta2, eps = c_.eps;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    const float decay = p.decay ? 1.0f - lr * c_.weight_decay : 1.0f;
    float* w = p.value.data();
    const float* g = p.value.grad();
    float* m = m_[i].data();
    float* v = v_[i].data();
    const int64_t n = p.value.numel();
    // Vectorised (this file is built with -fno-math-errno, see CMakeLists.txt): sqrt and division
    // are correctly rounded in every lane, so the vector loop gives the scalar loop's bits.
#pragma omp parallel for simd schedule(static)
    for (int64_t j = 0; j < n; ++j) {
      const float gj = g[j] * grad_scale;  // × 1 is exact: unclipped steps are unchanged
      w[j] *= decay;
      m[j] = b1 * m[j] + (1.0f - b1) * gj;
      v[j] = b2 * v[j] + (1.0f - b2) * gj * gj;
      const float denom = std::sqrt(v[j]) / bc2_sqrt + eps;
      w[j] -= step_size * m[j] / denom;
    }
  }
}

void AdamW::zero_grad() {
  for (auto& p : params_) p.value.zero_grad();
}

namespace {
// Σ g² of one tensor in double, eight partial sums so that the loop vectorises; the order is fixed
// (independent of the thread count).
double sum_of_squares(const float* g, int64_t n) {
  double s[8] = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; ++k) s[k] += static_cast<double>(g[j + k]) * g[j + k];
  for (; j < n; ++j) s[0] += static_cast<double>(g[j]) * g[j];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}
}  // namespace

double grad_sum_of_squares(const Tensor& t) { return t.has_grad() ? sum_of_squares(t.grad(), t.numel()) : 0.0; }

float grad_norm(const Parameters& params) {
  double total = 0;
  for (const auto& p : params)
    if (p.value.has_grad()) total += grad_sum_of_squares(p.value);
  return static_cast<float>(std::sqrt(total));
}

float clip_coefficient(float norm, float max_norm) {
  if (max_norm <= 0) return 1.0f;
  const float coef = max_norm / (norm + 1e-6f);
  return coef < 1.0f ? coef : 1.0f;
}

float clip_grad_norm(Parameters& params, float max_norm) {
  const float norm = grad_norm(params);
  const float coef = clip_coefficient(norm, max_norm);
  if (coef < 1.0f)
    for (auto& p : params) {
      if (!p.value.has_grad()) continue;
      for (float& g : p.value.grad_values()) g *= coef;
    }
  return norm;
}

float LrSchedule::at(int64_t it) const {
  if (!decay) return learning_rate;
  if (it < warmup_iters) return learning_rate * static_cast<float>(it + 1) / static_cast<float>(warmup_iters + 1);
  if (it > lr_decay_iters) return min_lr;
  const double ratio = static_cast<double>(it - warmup_iters) / static_cast<double>(lr_decay_iters - warmup_iters);
  const double coeff = 0.5 * (1.0 + std::cos(M_PI * ratio));
  return static_cast<float>(min_lr + coeff * (learning_rate - min_lr));
}

}  // namespace lmul::optim
