// Finite-difference gradient checks (ggml/flashlight style): L = Σ out·R for a fixed random R,
// the analytic gradient from backward against a 4-point central difference per input element.
#pragma once
#include <cmath>
#include <functional>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "core/autograd.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace lmul::testing {

inline Tensor random_tensor(const Shape& s, Rng& rng, float scale = 1.0f, bool requires_grad = true) {
  Tensor t(s, requires_grad);
  for (float& v : t.values()) v = static_cast<float>(rng.normal()) * scale;
  return t;
}

// Returns the largest |analytic - numeric| / max(1e-3, max |numeric|) over all inputs.
inline double max_grad_error(std::vector<Tensor> inputs, const std::function<Tensor(const std::vector<Tensor>&)>& f,
                             float h = 1e-2f) {
  Rng rng(7);
  Tensor out0;
  {
    NoGrad ng;
    out0 = f(inputs);
  }
  std::vector<double> R(static_cast<size_t>(out0.numel()));
  for (double& r : R) r = rng.normal();
  auto objective = [&] {
    NoGrad ng;
    Tensor o = f(inputs);
    double s = 0;
    for (int64_t i = 0; i < o.numel(); ++i) s += static_cast<double>(o.data()[i]) * R[static_cast<size_t>(i)];
    return s;
  };
  for (auto& t : inputs) t.drop_grad();
  Tensor out = f(inputs);
  Tensor Rt(out.shape());
  for (int64_t i = 0; i < out.numel(); ++i) Rt.data()[i] = static_cast<float>(R[static_cast<size_t>(i)]);
  Tensor L = sum(mul(out, Rt));
  backward(L);

  double worst = 0;
  for (auto& t : inputs) {
    if (!t.requires_grad()) continue;
    std::vector<double> num(static_cast<size_t>(t.numel()));
    double scale = 1e-3;
    for (int64_t i = 0; i < t.numel(); ++i) {
      float& x = t.data()[i];
      const float x0 = x;
      x = x0 + h;
      double fp1 = objective();
      x = x0 - h;
      double fm1 = objective();
      x = x0 + 2 * h;
      double fp2 = objective();
      x = x0 - 2 * h;
      double fm2 = objective();
      x = x0;
      num[static_cast<size_t>(i)] = (-fp2 + 8 * fp1 - 8 * fm1 + fm2) / (12.0 * h);
      scale = std::max(scale, std::abs(num[static_cast<size_t>(i)]));
    }
    const float* g = t.has_grad() ? t.grad() : nullptr;
    for (int64_t i = 0; i < t.numel(); ++i) {
      double a = g ? g[i] : 0.0;
      worst = std::max(worst, std::abs(a - num[static_cast<size_t>(i)]) / scale);
    }
  }
  return worst;
}

}  // namespace lmul::testing
