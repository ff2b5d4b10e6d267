#include "train/hessian_trace.h"

#include <cmath>

#include "core/error.h"
#include "core/rng.h"

namespace lmul::train {

namespace {

// (∇L(w + ε·d) − ∇L(w − ε·d)) / (2ε) restricted to each block, for a direction d over all blocks;
// the values are restored bit for bit from a copy.
std::vector<std::vector<float>> hessian_vector(const std::vector<Tensor>& blocks,
                                               const std::vector<std::vector<float>>& d, const GradientFn& gradient,
                                               float eps) {
  std::vector<std::vector<float>> saved, plus(blocks.size()), hv(blocks.size());
  for (const auto& b : blocks) saved.emplace_back(b.values().begin(), b.values().end());
  auto gradient_at = [&](float sign, std::vector<std::vector<float>>& out) {
    for (size_t i = 0; i < blocks.size(); ++i) {
      auto w = blocks[i].values();
      for (size_t k = 0; k < w.size(); ++k) w[k] = saved[i][k] + sign * eps * d[i][k];
    }
    gradient();
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (!blocks[i].has_grad()) throw Error("hessian trace: block {} got no gradient", i);
      const auto g = blocks[i].grad_values();
      out[i].assign(g.begin(), g.end());
    }
  };
  gradient_at(1.0f, plus);
  gradient_at(-1.0f, hv);
  for (size_t i = 0; i < blocks.size(); ++i) {
    for (size_t k = 0; k < hv[i].size(); ++k)
      hv[i][k] = static_cast<float>((static_cast<double>(plus[i][k]) - hv[i][k]) / (2.0 * eps));
    auto w = blocks[i].values();
    std::copy(saved[i].begin(), saved[i].end(), w.begin());
  }
  return hv;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t k = 0; k < a.size(); ++k) s += static_cast<double>(a[k]) * b[k];
  return s;
}

}  // namespace

std::vector<TraceEstimate> hutchinson_traces(const std::vector<Tensor>& blocks, const GradientFn& gradient,
                                             const HutchinsonOptions& o) {
  if (o.samples < 1) throw Error("hessian trace: samples must be at least 1 (got {})", o.samples);
  Rng rng(o.seed);
  std::vector<double> sum(blocks.size(), 0.0), sum_sq(blocks.size(), 0.0);
  std::vector<std::vector<float>> v(blocks.size());
  for (int64_t s = 0; s < o.samples; ++s) {
    for (size_t i = 0; i < blocks.size(); ++i) {
      v[i].resize(static_cast<size_t>(blocks[i].numel()));
      for (float& x : v[i]) x = (rng.next_u64() >> 63) ? 1.0f : -1.0f;  // Rademacher
    }
    const auto hv = hessian_vector(blocks, v, gradient, o.eps);
    for (size_t i = 0; i < blocks.size(); ++i) {
      const double t = dot(v[i], hv[i]);
      sum[i] += t;
      sum_sq[i] += t * t;
    }
  }
  std::vector<TraceEstimate> out;
  const auto n = static_cast<double>(o.samples);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const double mean = sum[i] / n;
    const double var = o.samples > 1 ? std::max(0.0, (sum_sq[i] - n * mean * mean) / (n - 1)) : 0.0;
    out.push_back({mean, std::sqrt(var / n)});
  }
  return out;
}

std::vector<TraceEstimate> coordinate_traces(const std::vector<Tensor>& blocks, const GradientFn& gradient, float eps) {
  std::vector<TraceEstimate> out(blocks.size());
  std::vector<std::vector<float>> e(blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) e[i].assign(static_cast<size_t>(blocks[i].numel()), 0.0f);
  for (size_t i = 0; i < blocks.size(); ++i)
    for (size_t k = 0; k < e[i].size(); ++k) {
      e[i][k] = 1.0f;
      out[i].trace += hessian_vector(blocks, e, gradient, eps)[i][k];
      e[i][k] = 0.0f;
    }
  return out;
}

}  // namespace lmul::train
