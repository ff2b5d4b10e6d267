#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <omp.h>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/counter_random.h"
#include "core/arith/minifloat.h"
#include "core/error.h"

using namespace lmul;
using namespace lmul::arith;
using lmul::test::bits;
using lmul::test::same_bits;

namespace {
float q(const char* spec, float x) {
  auto m = make_multiplier(spec);
  float out = 0;
  REQUIRE(m->quantize(Role::activation, &x, 1, 1, 1, &out));
  return out;
}
}  // namespace

TEST_SUITE("arith.float") {
  TEST_CASE("bf16 rounds to nearest with ties to even") {
    // bf16 spacing at 1 is 2^-7: 1 + 2^-8 is a tie → 1 (even), 1 + 3·2^-8 → 1 + 2^-6 (even).
    CHECK(q("bf16", 1.0f + std::ldexp(1.0f, -8)) == 1.0f);
    CHECK(q("bf16", 1.0f + 3 * std::ldexp(1.0f, -8)) == 1.0f + std::ldexp(1.0f, -6));
    CHECK(q("bf16", 1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 1.0f + std::ldexp(1.0f, -7));
    CHECK(q("bf16", -1.0f - std::ldexp(1.0f, -8)) == -1.0f);
  }

  TEST_CASE("fp16 max finite, saturation, subnormals and zero signs") {
    CHECK(q("fp16", 65504.0f) == 65504.0f);
    CHECK(q("fp16", 65519.0f) == 65504.0f);
    CHECK(q("fp16", 1e9f) == 65504.0f);
    CHECK(q("fp16", -1e9f) == -65504.0f);
    CHECK(q("fp16", INFINITY) == 65504.0f);
    CHECK(q("fp16", -INFINITY) == -65504.0f);
    CHECK(std::isnan(q("fp16", NAN)));
    CHECK(q("fp16", std::ldexp(1.0f, -24)) == std::ldexp(1.0f, -24));  // smallest subnormal
    CHECK(q("fp16", std::ldexp(1.0f, -25)) == 0.0f);                   // tie → even (0)
    CHECK(q("fp16", std::ldexp(1.5f, -25)) == std::ldexp(1.0f, -24));
    CHECK(q("fp16", std::ldexp(3.0f, -25)) == std::ldexp(2.0f, -24));  // tie 1.5 → 2
    CHECK(q("fp16", std::ldexp(1.0f, -14)) == std::ldexp(1.0f, -14));  // smallest normal
    CHECK(bits(q("fp16", -0.0f)) == 0x80000000u);
    CHECK(bits(q("fp16", -1e-30f)) == 0x80000000u);
    CHECK(bits(q("fp16", 0.0f)) == 0u);
  }

  TEST_CASE("float:e=8,m=23 is the identity on finite fp32 values, subnormals included") {
    for (float x : test::awkward_values(2000, 1))
      if (std::isfinite(x)) CHECK(same_bits(q("float:e=8,m=23", x), x));
  }

  TEST_CASE("fast minifloat rounding equals the scalar reference bit for bit") {
    const std::vector<float> xs = test::awkward_values(1 << 15, 7);
    const MiniFloat formats[] = {MiniFloat::ieee(8, 7),  MiniFloat::ieee(5, 10), MiniFloat::ieee(2, 1),
                                 MiniFloat::ieee(3, 4),  MiniFloat::ieee(8, 1),  MiniFloat::ieee(8, 22),
                                 MiniFloat::ieee(6, 23), MiniFloat::e4m3(),      MiniFloat::e5m2()};
    for (const MiniFloat& f : formats) {
      CAPTURE(f.e);
      CAPTURE(f.m);
      std::vector<float> out(xs.size());
      // As a 2-row block with a padded stride, to exercise ld.
      const int64_t cols = static_cast<int64_t>(xs.size()) / 2;
      std::vector<float> padded(static_cast<size_t>(2 * (cols + 3)));
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < cols; ++j) padded[i * (cols + 3) + j] = xs[i * cols + j];
      round_minifloat(f, Rounding::nearest, padded.data(), 2, cols, cols + 3, out.data());
      int bad = 0;
      for (size_t i = 0; i < xs.size(); ++i)
        if (!same_bits(out[i], round_nearest_ref(f, xs[i])) && ++bad < 5)
          FAIL_CHECK("nearest x=" << xs[i] << " fast=" << out[i] << " ref=" << round_nearest_ref(f, xs[i]));
      const uint64_t key = 12345;
      round_minifloat(f, Rounding::stochastic, padded.data(), 2, cols, cols + 3, out.data(), 1.0f, key);
      for (size_t i = 0; i < xs.size(); ++i) {
        const float ref = round_stochastic_ref(f, xs[i], random_bits(key, i));
        if (!same_bits(out[i], ref) && ++bad < 10)
          FAIL_CHECK("stochastic x=" << xs[i] << " fast=" << out[i] << " ref=" << ref);
      }
      CHECK(bad == 0);
    }
  }

  TEST_CASE("stochastic rounding picks a neighbour, is unbiased and repeats given the seed") {
    auto a = make_multiplier("bf16:round=stochastic", 42);
    auto b = make_multiplier("bf16:round=stochastic", 42);
    const float x = 1.0f + std::ldexp(1.0f, -9);  // a quarter of the way from 1 to 1 + 2^-7
    std::vector<float> in(100000, x), oa(in.size()), ob(in.size());
    a->quantize(Role::gradient, in.data(), 1, static_cast<int64_t>(in.size()), 0, oa.data());
    b->quantize(Role::gradient, in.data(), 1, static_cast<int64_t>(in.size()), 0, ob.data());
    double mean = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      CHECK((oa[i] == 1.0f || oa[i] == 1.0f + std::ldexp(1.0f, -7)));
      CHECK(bits(oa[i]) == bits(ob[i]));
      mean += oa[i];
    }
    mean /= static_cast<double>(in.size());
    CHECK(mean == doctest::Approx(x).epsilon(2e-5));
    // A second call draws fresh bits; state() restores the call counter.
    const auto saved = a->state();
    std::vector<float> second(in.size()), replay(in.size());
    a->quantize(Role::gradient, in.data(), 1, static_cast<int64_t>(in.size()), 0, second.data());
    CHECK(second != oa);
    b->set_state(saved);
    b->quantize(Role::gradient, in.data(), 1, static_cast<int64_t>(in.size()), 0, replay.data());
    CHECK(replay == second);
  }

  TEST_CASE("stochastic rounding does not depend on the thread count") {
    std::vector<float> x(1 << 16), one(x.size()), two(x.size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i)) * 3.0f;
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    make_multiplier("fp8:e5m2,round=stochastic", 9)->quantize(Role::gradient, x.data(), 256, 256, 256, one.data());
    omp_set_num_threads(2);
    make_multiplier("fp8:e5m2,round=stochastic", 9)->quantize(Role::gradient, x.data(), 256, 256, 256, two.data());
    omp_set_num_threads(saved);
    CHECK(one == two);
  }

  TEST_CASE("float specs spell every option and reject impossible ones") {
    CHECK(make_multiplier("bf16")->spec() == "float:e=8,m=7,round=nearest");
    CHECK(make_multiplier("fp16:round=stochastic")->spec() == "float:e=5,m=10,round=stochastic");
    CHECK(make_multiplier("float:e=4,m=3")->spec() == "float:e=4,m=3,round=nearest");
    CHECK_THROWS_WITH_AS(make_multiplier("float:e=9,m=30"),
                         doctest::Contains("float:e=9,m=30': e=9 is out of range (allowed 2..8)"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("float:e=8,m=0"), doctest::Contains("m=0 is out of range (allowed 1..23)"),
                         Error);
    CHECK_THROWS_WITH_AS(make_multiplier("float:e=5"), doctest::Contains("needs e="), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("bf16:round=up"),
                         doctest::Contains("round=up is not allowed (choose nearest|stochastic)"), Error);
  }
}
