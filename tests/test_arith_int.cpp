#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/counter_random.h"
#include "core/arith/int_math.h"
#include "core/error.h"

using namespace lmul;
using namespace lmul::arith;
using lmul::test::same_bits;

TEST_SUITE("arith.int") {
  TEST_CASE("int b=4 per tensor: grid amax/7, ties to even, saturation") {
    // amax 7 → s = 1: 2.5 → 2, 3.5 → 4, -0.5 → -0.
    const float x[6] = {7.0f, 2.5f, 3.5f, -0.5f, -6.6f, 0.2f};
    float out[6];
    REQUIRE(make_multiplier("int:b=4")->quantize(Role::weight, x, 1, 6, 6, out));
    CHECK(out[0] == 7.0f);
    CHECK(out[1] == 2.0f);
    CHECK(out[2] == 4.0f);
    CHECK(out[3] == 0.0f);
    CHECK(std::signbit(out[3]));
    CHECK(out[4] == -7.0f);
    CHECK(out[5] == 0.0f);
  }

  TEST_CASE("int keeps NaN, clamps infinities, scales by the finite max and keeps zero signs") {
    const float x[5] = {NAN, INFINITY, -INFINITY, 3.5f, -0.0f};  // finite amax 3.5 → s = 0.5 (b=4)
    float out[5];
    make_multiplier("int:b=4")->quantize(Role::activation, x, 1, 5, 5, out);
    CHECK(std::isnan(out[0]));
    CHECK(out[1] == 3.5f);
    CHECK(out[2] == -3.5f);
    CHECK(out[3] == 3.5f);
    CHECK(std::signbit(out[4]));
    const float zeros[2] = {0.0f, -0.0f};  // s = 0: the group stays zero
    make_multiplier("int:b=4")->quantize(Role::weight, zeros, 1, 2, 2, out);
    CHECK(out[0] == 0.0f);
    CHECK(std::signbit(out[1]));
  }

  TEST_CASE("int channel and group granularity scale each row / group of g on its own") {
    const float x[8] = {1.0f,   0.5f, 0.25f, 0.1f,   // row 0: amax 1
                        100.0f, 1.0f, 3.0f,  0.3f};  // row 1: amax 100; groups {100, 1}, {3, 0.3}
    float out[8];
    make_multiplier("int:b=8,gran=channel")->quantize(Role::weight, x, 2, 4, 4, out);
    CHECK(out[3] == std::nearbyint(0.1f / (1.0f / 127)) * (1.0f / 127));
    CHECK(out[5] == std::nearbyint(1.0f / (100.0f / 127)) * (100.0f / 127));
    make_multiplier("int:b=8,gran=group,g=2")->quantize(Role::weight, x, 2, 4, 4, out);
    CHECK(out[6] == 3.0f);
    CHECK(out[7] == std::nearbyint(0.3f / (3.0f / 127)) * (3.0f / 127));
  }

  TEST_CASE("int w= and a= set weight and activation bits; gradients stay fp32") {
    auto m = make_multiplier("int:w=2,a=8");
    const float x[2] = {1.0f, 0.4f};
    float out[2];
    m->quantize(Role::weight, x, 1, 2, 2, out);
    CHECK(out[1] == 0.0f);  // 2 bits: grid {-1, 0, 1}·1
    m->quantize(Role::activation, x, 1, 2, 2, out);
    CHECK(out[1] == std::nearbyint(0.4f * 127) / 127);
    CHECK_FALSE(m->quantize(Role::gradient, x, 1, 2, 2, out));
  }

  TEST_CASE("fast int quantiser equals the reference bit for bit, both roundings") {
    auto xs = test::awkward_values(3000, 4);
    for (float& x : xs)
      if (std::isfinite(x) && std::fabs(x) > 1e6f) x = 1.0f / x;
    const int64_t rows = 10, cols = 300;
    std::vector<float> out(xs.size());
    for (Granularity gran : {Granularity::tensor, Granularity::row, Granularity::group})
      for (Rounding r : {Rounding::nearest, Rounding::stochastic}) {
        const int64_t g = 7;
        int_quantize(xs.data(), rows, cols, cols, out.data(), 127, gran, g, r, 99);
        int bad = 0;
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j) {
            const int64_t j0 = gran == Granularity::group ? j / g * g : 0;
            const int64_t n = gran == Granularity::group ? std::min(g, cols - j0) : cols;
            float amax = 0;
            for (int64_t ii = (gran == Granularity::tensor ? 0 : i); ii < (gran == Granularity::tensor ? rows : i + 1);
                 ++ii)
              for (int64_t jj = j0; jj < j0 + n; ++jj)
                if (std::isfinite(xs[ii * cols + jj])) amax = std::max(amax, std::fabs(xs[ii * cols + jj]));
            const float ref = int_value_ref(xs[i * cols + j], amax / 127, 127, r,
                                            random_bits(99, static_cast<uint64_t>(i * cols + j)));
            if (!same_bits(out[i * cols + j], ref) && ++bad < 4) FAIL_CHECK("x=" << xs[i * cols + j]);
          }
        CHECK(bad == 0);
      }
  }

  TEST_CASE("int stochastic rounding is unbiased on average") {
    auto m = make_multiplier("int:b=4,round=stochastic", 3);
    std::vector<float> x(20001, 0.3f), out(x.size());
    x[0] = 7.0f;  // s = 1
    m->quantize(Role::activation, x.data(), 1, static_cast<int64_t>(x.size()), 0, out.data());
    double mean = 0;
    for (size_t i = 1; i < x.size(); ++i) mean += out[i];
    CHECK(mean / 20000 == doctest::Approx(0.3).epsilon(0.03));
  }

  TEST_CASE("int specs spell every option and reject impossible ones") {
    CHECK(make_multiplier("int:b=4")->spec() == "int:w=4,a=4,gran=tensor,round=nearest");
    CHECK(make_multiplier("int:gran=group")->spec() == "int:w=8,a=8,gran=group,g=128,round=nearest");
    CHECK_THROWS_WITH_AS(make_multiplier("int:b=1"), doctest::Contains("b=1 is out of range (allowed 2..16)"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("int:b=8,a=40"), doctest::Contains("a=40 is out of range"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("int:g=64"), doctest::Contains("g= applies to gran=group only"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("int:gran=group,g=0"), doctest::Contains("g=0 is out of range"), Error);
  }
}
