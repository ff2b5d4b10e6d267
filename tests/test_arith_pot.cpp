#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/pot_math.h"
#include "core/error.h"

using namespace lmul;
using namespace lmul::arith;
using lmul::test::same_bits;

TEST_SUITE("arith.pot") {
  TEST_CASE("pot b=4 reproduces the PoT worked example (s = 2^-8)") {
    const float w[8] = {0.31f, -0.02f, 0.007f, -0.5f, 0.12f, 0.0f, 0.26f, -0.09f};
    const float expect[8] = {0.25f, -0.015625f, 0.0078125f, -0.5f, 0.125f, 0.0f, 0.25f, -0.125f};
    auto m = make_multiplier("pot:b=4,eps=0");
    float out[8];
    REQUIRE(m->quantize(Role::weight, w, 2, 4, 4, out));
    for (int i = 0; i < 8; ++i) CHECK(out[i] == expect[i]);
    CHECK(pot_scale(0.5f, 4, 0.0f) == std::ldexp(1.0f, -8));
  }

  TEST_CASE("pot leaves activations and gradients as they are") {
    auto m = make_multiplier("pot:b=4");
    float x = 0.3f, out = 0;
    CHECK_FALSE(m->quantize(Role::activation, &x, 1, 1, 1, &out));
    CHECK_FALSE(m->quantize(Role::gradient, &x, 1, 1, 1, &out));
  }

  TEST_CASE("pot exponent rounding: log at sqrt 2, ceil, linear at 1.5") {
    const float s = 1.0f;
    // q = 23: log2 = 4.52 → 32 (log), 32 (ceil), 16 (linear: 23 < 24).
    CHECK(pot_value_ref(23.0f, s, 6, PotRound::log) == 32.0f);
    CHECK(pot_value_ref(23.0f, s, 6, PotRound::ceil) == 32.0f);
    CHECK(pot_value_ref(23.0f, s, 6, PotRound::linear) == 16.0f);
    // q = 22: log2 = 4.46 → 16; ceil 32; linear 16. q = 24: linear tie 1.5·16 goes up.
    CHECK(pot_value_ref(22.0f, s, 6, PotRound::log) == 16.0f);
    CHECK(pot_value_ref(22.0f, s, 6, PotRound::ceil) == 32.0f);
    CHECK(pot_value_ref(-24.0f, s, 6, PotRound::linear) == -32.0f);
    CHECK(pot_value_ref(16.0f, s, 6, PotRound::ceil) == 16.0f);
  }

  TEST_CASE("pot clamps to 2^R·s, keeps NaN, signs zeros, and zero groups stay zero") {
    // b=3: R = 3, levels s·{0, 1, 2, 4, 8}.
    CHECK(pot_value_ref(100.0f, 1.0f, 3, PotRound::log) == 8.0f);
    CHECK(pot_value_ref(-INFINITY, 1.0f, 3, PotRound::log) == -8.0f);
    CHECK(std::isnan(pot_value_ref(NAN, 1.0f, 3, PotRound::log)));
    CHECK(std::signbit(pot_value_ref(-0.3f, 1.0f, 3, PotRound::log)));
    const float z[3] = {0.0f, -0.0f, 0.0f};
    float out[3];
    make_multiplier("pot:b=3")->quantize(Role::weight, z, 1, 3, 3, out);
    CHECK(out[0] == 0.0f);
    CHECK(std::signbit(out[1]));
  }

  TEST_CASE("fast pot equals the reference bit for bit, per tensor and per channel") {
    const auto xs = test::awkward_values(4096, 9);
    std::vector<float> w;
    for (float x : xs) w.push_back(std::isfinite(x) && std::fabs(x) < 1e3f ? x : 0.37f);
    w[5] = NAN;
    w[6] = -INFINITY;
    const int64_t rows = 16, cols = 256;
    std::vector<float> out(w.size());
    for (int b : {2, 3, 4, 6, 8})
      for (PotRound r : {PotRound::log, PotRound::ceil, PotRound::linear})
        for (bool per_row : {false, true}) {
          for (float eps : {0.0f, 1.0f / 32}) {
            pot_quantize(w.data(), rows, cols, cols, out.data(), b, eps, r, per_row);
            int bad = 0;
            float tensor_amax = 0;
            for (float x : w)
              if (std::isfinite(x)) tensor_amax = std::max(tensor_amax, std::fabs(x));
            for (int64_t i = 0; i < rows; ++i) {
              float amax = tensor_amax;
              if (per_row) {
                amax = 0;
                for (int64_t j = 0; j < cols; ++j)
                  if (std::isfinite(w[i * cols + j])) amax = std::max(amax, std::fabs(w[i * cols + j]));
              }
              const float s = pot_scale(amax, b, eps);
              for (int64_t j = 0; j < cols; ++j)
                if (!same_bits(out[i * cols + j], pot_value_ref(w[i * cols + j], s, b, r)) && ++bad < 4)
                  FAIL_CHECK("b=" << b << " x=" << w[i * cols + j] << " fast=" << out[i * cols + j]);
            }
            CHECK(bad == 0);
          }
        }
  }

  TEST_CASE("pot exponent threshold at sqrt 2 agrees with double log2 on every mantissa") {
    // All 2^23 integers q in [2^23, 2^24): the bit test and rne(log2 q) must agree.
    std::vector<float> q(1 << 23), out(1 << 23);
    for (uint32_t f = 0; f < (1u << 23); ++f) q[f] = test::from_bits((150u << 23) | f);  // 2^23·1.f, an integer
    const float s = 1.0f;
    // b=8 keeps every q below the clamp; s stays 1 via eps = 1 and amax/2^127 < 1.
    pot_quantize(q.data(), 1, 1 << 23, 1 << 23, out.data(), 8, 1.0f, PotRound::log, false);
    int bad = 0;
    for (uint32_t f = 0; f < (1u << 23); ++f)
      if (out[f] != pot_value_ref(q[f], s, 8, PotRound::log) && ++bad < 4) FAIL_CHECK("fraction " << f);
    CHECK(bad == 0);
  }

  TEST_CASE("pot specs spell every option and reject impossible ones") {
    CHECK(make_multiplier("pot:b=4")->spec() == "pot:b=4,eps=0,round=log,gran=tensor");
    CHECK(make_multiplier("pot:b=5,eps=0.03125,gran=channel,round=ceil")->spec() ==
          "pot:b=5,eps=0.03125,round=ceil,gran=channel");
    CHECK_THROWS_WITH_AS(make_multiplier("pot:b=1"), doctest::Contains("'pot:b=1': b=1 is out of range (allowed 2..8)"),
                         Error);
    CHECK_THROWS_WITH_AS(make_multiplier("pot"), doctest::Contains("pot needs b="), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("pot:b=4,round=nearest"),
                         doctest::Contains("round=nearest is not allowed (choose log|ceil|linear)"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("pot:b=4,eps=-1"), doctest::Contains("eps=-1 is out of range"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("pot:b=4,gran=group"),
                         doctest::Contains("gran=group is not allowed (choose tensor|channel)"), Error);
  }
}
