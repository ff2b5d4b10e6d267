// The vectorised exp, erf and tanh (core/simd) against the C library over the whole float range,
// and the GELU built on them against its scalar definition.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/simd/vec_math.h"

using namespace lmul;

namespace {
using ArrayFn = void (*)(const float*, float*, int64_t);
const ArrayFn kExp = simd::exp, kErf = simd::erf, kTanh = simd::tanh;

// Distance in representable floats (+0 and -0 are one point).
int64_t ulp_distance(float a, float b) {
  auto ordered = [](float f) {
    const int32_t i = std::bit_cast<int32_t>(f);
    return i < 0 ? static_cast<int64_t>(INT32_MIN) - i : static_cast<int64_t>(i);
  };
  return std::llabs(ordered(a) - ordered(b));
}

// Every 509th bit pattern of both signs (≈ 8.4 M values: subnormals, 0, the tails where the result
// is 0, 1 or inf, ±inf) plus NaN. Returns the largest ulp distance; NaN must give NaN.
template <typename Vec, typename Ref>
int64_t worst_ulp(Vec vec, Ref ref, float* where) {
  std::vector<float> x;
  for (uint64_t b = 0; b <= 0xffffffffull; b += 509) x.push_back(std::bit_cast<float>(static_cast<uint32_t>(b)));
  x.insert(x.end(), {INFINITY, -INFINITY, NAN, 0.0f, -0.0f});
  std::vector<float> y(x.size());
  vec(x.data(), y.data(), static_cast<int64_t>(x.size()));
  int64_t worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float r = ref(x[i]);
    if (std::isnan(r) || std::isnan(y[i])) {
      if (std::isnan(r) != std::isnan(y[i])) {
        *where = x[i];
        return INT64_MAX;
      }
      continue;
    }
    if (const int64_t d = ulp_distance(r, y[i]); d > worst) {
      worst = d;
      *where = x[i];
    }
  }
  return worst;
}
}  // namespace

TEST_SUITE("simd") {
  TEST_CASE("vectorised exp and erf are within 2 ulp of std::exp and std::erf over the float range") {
    MESSAGE("simd path: " << std::string(simd::isa()));
    float at = 0;
    const int64_t e = worst_ulp(
        kExp, [](float v) { return std::exp(v); }, &at);
    INFO("exp worst at x = " << at);
    CHECK(e <= 2);
    const int64_t f = worst_ulp(
        kErf, [](float v) { return std::erf(v); }, &at);
    INFO("erf worst at x = " << at);
    CHECK(f <= 2);
  }

  TEST_CASE("vectorised tanh is within 3 ulp of std::tanh over the float range") {
    float at = 0;
    const int64_t t = worst_ulp(
        kTanh, [](float v) { return std::tanh(v); }, &at);
    INFO("tanh worst at x = " << at);
    CHECK(t <= 3);
  }

  TEST_CASE("an element's result does not depend on its position or the array's length") {
    for (int64_t n : {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63}) {
      std::vector<float> x(static_cast<size_t>(n)), y(x.size());
      for (int64_t i = 0; i < n; ++i) x[i] = 0.37f * static_cast<float>(i) - 2.5f;
      for (ArrayFn f : {kExp, kErf, kTanh}) {
        f(x.data(), y.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          float one = 0;
          f(&x[i], &one, 1);
          CHECK(std::bit_cast<uint32_t>(one) == std::bit_cast<uint32_t>(y[i]));
        }
      }
    }
  }

  TEST_CASE("GELU forward and backward match the scalar definitions, erf and tanh forms") {
    for (bool tanh_form : {false, true})
      for (int64_t n : {1, 511, 512, 513, 1500}) {
        CAPTURE(tanh_form);
        CAPTURE(n);
        std::vector<float> xs(static_cast<size_t>(n)), dys(xs.size());
        for (int64_t i = 0; i < n; ++i) {
          xs[i] = -9.0f + 18.0f * static_cast<float>(i) / static_cast<float>(std::max<int64_t>(n - 1, 1));
          dys[i] = 0.5f + 0.001f * static_cast<float>(i % 7);
        }
        Tensor x = Tensor::from({n}, xs, true);
        Tensor y = gelu(x, tanh_form);
        Tensor dy = Tensor::from({n}, dys);
        Tensor loss = sum(mul(y, dy));
        backward(loss);
        for (int64_t i = 0; i < n; ++i) {
          const double v = xs[i];
          double ref, dref;
          if (tanh_form) {
            const double u = std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v), t = std::tanh(u);
            ref = 0.5 * v * (1 + t);
            dref = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * std::sqrt(2 / M_PI) * (1 + 3 * 0.044715 * v * v);
          } else {
            ref = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
            dref = 0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
          }
          CHECK(std::abs(y.data()[i] - ref) <= 1e-6 * std::max(1.0, std::abs(v)));
          CHECK(std::abs(x.grad()[i] - dys[i] * dref) <= 2e-6 * std::max(1.0, std::abs(v)));
        }
      }
  }
}
