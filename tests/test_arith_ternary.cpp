#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/ternary_math.h"
#include "core/error.h"

using namespace lmul;
using namespace lmul::arith;
using lmul::test::same_bits;

TEST_SUITE("arith.ternary") {
  TEST_CASE("ternary weights are {-1, 0, 1}·mean|W|") {
    const float w[4] = {0.9f, -0.1f, 0.25f, -0.35f};  // mean |W| = 0.4: ratios 2.25, -0.25, 0.625, -0.875
    float out[4];
    REQUIRE(make_multiplier("ternary")->quantize(Role::weight, w, 2, 2, 2, out));
    CHECK(out[0] == 0.4f);
    CHECK(out[1] == 0.0f);
    CHECK(std::signbit(out[1]));
    CHECK(out[2] == 0.4f);
    CHECK(out[3] == -0.4f);
  }

  TEST_CASE("ternary gamma is floored at 1e-5") {
    const float w[2] = {0.0f, 1e-7f};
    float out[2];
    make_multiplier("ternary")->quantize(Role::weight, w, 1, 2, 2, out);
    CHECK(out[1] == 0.0f);
    CHECK(absmean_gamma(w, 1, 2, 2) == 1e-5f);
  }

  TEST_CASE("ternary activations are per-token absmax int8; act=fp32 leaves them") {
    const float x[4] = {2.0f, -1.0f,     // token 0: scale 63.5
                        0.01f, 0.005f};  // token 1: scale 12700
    float out[4];
    REQUIRE(make_multiplier("ternary")->quantize(Role::activation, x, 2, 2, 2, out));
    CHECK(out[0] == 2.0f);
    CHECK(out[1] == std::nearbyint(-63.5f) / 63.5f);  // -64 / 63.5: -1 is not on the grid
    CHECK(out[3] == std::nearbyint(0.005f * 12700.0f) / 12700.0f);
    CHECK_FALSE(make_multiplier("ternary:act=fp32")->quantize(Role::activation, x, 2, 2, 2, out));
    CHECK_FALSE(make_multiplier("ternary")->quantize(Role::gradient, x, 2, 2, 2, out));
  }

  TEST_CASE("ternary activations clamp to [-128, 127] and keep NaN") {
    CHECK(absmax_int8_ref(-INFINITY, 1.0f) == -128.0f / 127.0f);
    CHECK(absmax_int8_ref(INFINITY, 1.0f) == 1.0f);
    CHECK(std::isnan(absmax_int8_ref(NAN, 1.0f)));
  }

  TEST_CASE("fast ternary quantisers equal the references bit for bit") {
    auto xs = test::awkward_values(4000, 5);
    for (float& x : xs)
      if (std::isfinite(x) && std::fabs(x) > 1e4f) x = 1.0f / x;
    const int64_t rows = 20, cols = 200;
    std::vector<float> out(xs.size());
    const float gamma = absmean_gamma(xs.data(), rows, cols, cols);
    ternary_weights(xs.data(), rows, cols, cols, out.data());
    for (size_t i = 0; i < xs.size(); ++i) CHECK(same_bits(out[i], ternary_weight_ref(xs[i], gamma)));
    absmax_int8_rows(xs.data(), rows, cols, cols, out.data());
    for (int64_t i = 0; i < rows; ++i) {
      float amax = 0;
      for (int64_t j = 0; j < cols; ++j)
        if (std::isfinite(xs[i * cols + j])) amax = std::max(amax, std::fabs(xs[i * cols + j]));
      for (int64_t j = 0; j < cols; ++j) CHECK(same_bits(out[i * cols + j], absmax_int8_ref(xs[i * cols + j], amax)));
    }
  }

  TEST_CASE("ternary spec spells its option and rejects others") {
    CHECK(make_multiplier("ternary")->spec() == "ternary:act=int8");
    CHECK(make_multiplier("ternary:act=fp32")->spec() == "ternary:act=fp32");
    CHECK_THROWS_WITH_AS(make_multiplier("ternary:act=int4"),
                         doctest::Contains("act=int4 is not allowed (choose int8|fp32)"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("ternary:b=2"), doctest::Contains("unknown option 'b'"), Error);
  }
}
