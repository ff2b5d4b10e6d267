// dgq (core/arith/dgq.cpp, dgq_math.h): DGQ's A8W4 — u4 weights with a zero point per group, int8
// group scales under an fp32 channel scale, the int8 range of S⁽²⁾·(u − zp), per-token int8
// activations with percentile clipping.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/dgq_math.h"
#include "core/error.h"

using namespace lmul;
using namespace lmul::arith;
using lmul::test::bits;

namespace {
std::vector<float> quantise(const std::string& spec, Role role, const std::vector<float>& x, int64_t rows,
                            int64_t cols) {
  std::vector<float> out(x.size());
  REQUIRE(make_multiplier(spec)->quantize(role, x.data(), rows, cols, cols, out.data()));
  return out;
}
// Gaussian weights with a few large outliers per row (the case that strains the int8 range).
std::vector<float> weights_with_outliers(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::uniform_int_distribution<int64_t> col(0, cols - 1);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = normal(rng);
  for (int64_t i = 0; i < rows; ++i)
    for (int k = 0; k < 2; ++k) w[static_cast<size_t>(i * cols + col(rng))] = (k ? -1 : 1) * 0.4f;
  return w;
}
double sq_error(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i) e += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return e;
}
}  // namespace

TEST_SUITE("arith.dgq") {
  TEST_CASE("dgq weights: golden values of an independent re-implementation (two rows, g=4)") {
    // From scripts/dgq_golden.py: an independent NumPy re-implementation of the two-phase search.
    const std::vector<float> w = {0.31f, -0.02f, 0.07f,  0.12f, -1.9f,  0.4f,  0.05f,  -0.11f,
                                  0.0f,  0.001f, 0.002f, 0.5f,  -0.25f, -0.3f, 0.125f, 0.06f};
    const std::vector<float> want = {0.211490929f,  -0.0151064955f, 0.0755324811f, 0.120851964f,
                                     -1.81277943f,  0.453194857f,   0.0f,          -0.151064962f,
                                     0.0f,          0.0f,           0.0f,          0.490730315f,
                                     -0.245365158f, -0.299890757f,  0.109051183f,  0.0545255914f};
    const auto got = quantise("dgq:g=4", Role::weight, w, 2, 8);
    for (size_t i = 0; i < w.size(); ++i) CHECK(bits(got[i]) == bits(want[i]));
  }

  TEST_CASE("dgq dequantisation identity: W = s1 * S2 * (u - zp), codes and the int8 range checked") {
    for (int64_t g : {4, 16, 64}) {
      const int64_t rows = 24, cols = 128;
      const auto w = weights_with_outliers(rows, cols, static_cast<uint32_t>(g));
      const DgqWeights q = dgq_quantize_weights(w.data(), rows, cols, cols, g);
      const auto got = quantise("dgq:g=" + std::to_string(g), Role::weight, w, rows, cols);
      int widest = 0;
      for (int64_t i = 0; i < rows; ++i) {
        CHECK(q.s1[static_cast<size_t>(i)] > 0);
        for (int64_t j = 0; j < cols; ++j) {
          const size_t gi = static_cast<size_t>(i * (cols / g) + j / g);
          const int u = q.u4[static_cast<size_t>(i * cols + j)], zp = q.zp[gi], s2 = q.s2[gi];
          CHECK((u >= 0 && u <= 15 && zp >= 0 && zp <= 15 && s2 >= 1 && s2 <= 127));
          const int w8 = s2 * (u - zp);
          CHECK(std::abs(w8) <= 127);  // the int8 range check
          widest = std::max(widest, std::abs(w8));
          // The value the GEMM multiplies is exactly s1 times the int8 weight (one fp32 rounding).
          CHECK(bits(got[static_cast<size_t>(i * cols + j)]) ==
                bits(q.s1[static_cast<size_t>(i)] * static_cast<float>(w8)));
        }
      }
      CHECK(widest > 63);  // the int8 range is used, not a 4-bit one
    }
  }

  TEST_CASE("dgq: fine-grained accuracy — below int4 per channel, near int4 per group with fp32 scales") {
    const int64_t rows = 32, cols = 256;
    const auto w = weights_with_outliers(rows, cols, 5);
    const double dgq = sq_error(quantise("dgq:g=32", Role::weight, w, rows, cols), w);
    const double channel = sq_error(quantise("int:b=4,gran=channel", Role::weight, w, rows, cols), w);
    const double group = sq_error(quantise("int:b=4,gran=group,g=32", Role::weight, w, rows, cols), w);
    MESSAGE("squared error: dgq " << dgq << ", int4 channel " << channel << ", int4 group " << group);
    CHECK(dgq < 0.5 * channel);
    CHECK(dgq < 1.5 * group);
  }

  TEST_CASE("dgq activations: per token int8; pct=100 is int8 per token, a lower pct clips the outliers") {
    const int64_t rows = 6, cols = 40;
    auto x = weights_with_outliers(rows, cols, 9);
    x[3] = std::nanf("");
    const auto a100 = quantise("dgq", Role::activation, x, rows, cols);
    const auto int8 = quantise("int:b=8,gran=channel", Role::activation, x, rows, cols);
    for (size_t i = 0; i < x.size(); ++i) CHECK(bits(a100[i]) == bits(int8[i]));
    CHECK(std::isnan(a100[3]));
    const auto a90 = quantise("dgq:pct=90", Role::activation, x, rows, cols);
    for (int64_t i = 0; i < rows; ++i) {
      const float t = abs_percentile(x.data() + i * cols, cols, 90.0);
      int saturated = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const float v = a90[static_cast<size_t>(i * cols + j)];
        if (std::isnan(v)) continue;
        CHECK(std::fabs(v) <= t * 1.0000001f);
        saturated += std::fabs(v) == t / 127.0f * 127.0f;
      }
      CHECK(saturated >= 4);  // the top 10% of 40 sit at ±127·s
    }
    // Nearest rank: the 3rd smallest of 4 magnitudes at p=75, the largest at p=100.
    const float v[] = {-4.0f, 1.0f, 3.0f, -2.0f};
    CHECK(abs_percentile(v, 4, 75.0) == 3.0f);
    CHECK(abs_percentile(v, 4, 100.0) == 4.0f);
    CHECK(abs_percentile(v, 4, 50.0) == 2.0f);
  }

  TEST_CASE("dgq keeps NaN, clamps infinities, zeroes an all-zero row; gradients stay fp32") {
    std::vector<float> w(16, 0.0f);
    w[8] = 0.25f;
    w[9] = std::numeric_limits<float>::infinity();
    w[10] = std::nanf("");
    const auto q = quantise("dgq:g=4", Role::weight, w, 2, 8);
    for (int j = 0; j < 8; ++j) CHECK(q[static_cast<size_t>(j)] == 0.0f);
    CHECK(std::isnan(q[10]));
    CHECK(std::isfinite(q[9]));
    CHECK(q[9] >= q[8]);
    std::vector<float> out(16);
    CHECK_FALSE(make_multiplier("dgq")->quantize(Role::gradient, w.data(), 2, 8, 8, out.data()));
  }

  TEST_CASE("dgq spec: canonical form, option ranges, a group size that does not divide the width") {
    CHECK(make_multiplier("dgq")->spec() == "dgq:g=128,pct=100");
    CHECK(make_multiplier("dgq:pct=99.5,g=64")->spec() == "dgq:g=64,pct=99.5");
    CHECK_THROWS_AS(make_multiplier("dgq:g=0"), Error);
    CHECK_THROWS_AS(make_multiplier("dgq:pct=10"), Error);
    CHECK_THROWS_AS(make_multiplier("dgq:b=4"), Error);
    std::vector<float> w(2 * 24, 0.1f), out(w.size());
    try {
      make_multiplier("dgq:g=16")->quantize(Role::weight, w.data(), 2, 24, 24, out.data());
      FAIL("expected an error");
    } catch (const Error& e) {
      const std::string m = e.what();
      CHECK(m.find("g=16 does not divide the input width 24") != std::string::npos);
      CHECK(m.find('\n') == std::string::npos);
    }
  }
}
