#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/fp8_scaling.h"
#include "core/arith/minifloat.h"
#include "core/error.h"

using namespace lmul;
using namespace lmul::arith;
using lmul::test::bits;

namespace {

// Decodes an 8-bit code straight from the OCP OFP8 spec (v1.0 §4), independently of minifloat.cpp.
float decode(uint8_t code, int e, int m, int bias, bool fn) {
  const int sign = code >> 7, ef = (code >> m) & ((1 << e) - 1), mf = code & ((1 << m) - 1);
  const int all_ones = (1 << e) - 1;
  if (fn && ef == all_ones && mf == (1 << m) - 1) return NAN;  // E4M3FN: S.1111.111
  if (!fn && ef == all_ones) return mf ? NAN : (sign ? -INFINITY : INFINITY);
  const float mag = ef ? std::ldexp(1.0f + std::ldexp(static_cast<float>(mf), -m), ef - bias)
                       : std::ldexp(static_cast<float>(mf), 1 - bias - m);
  return sign ? -mag : mag;
}

float q(const char* spec, float x, Role role = Role::weight) {
  auto mul = make_multiplier(spec);
  float out = 0;
  REQUIRE(mul->quantize(role, &x, 1, 1, 1, &out));
  return out;
}

}  // namespace

TEST_SUITE("arith.fp8") {
  TEST_CASE("all 256 e4m3 codes round-trip and midpoints round to the even code") {
    std::vector<float> finite;
    for (int c = 0; c < 256; ++c) {
      const float v = decode(static_cast<uint8_t>(c), 4, 3, 7, true);
      CAPTURE(c);
      if (std::isnan(v)) {
        CHECK((c & 0x7F) == 0x7F);
        CHECK(std::isnan(q("fp8:e4m3", v)));
        continue;
      }
      CHECK(bits(q("fp8:e4m3", v)) == bits(v));
      if (c < 0x7F) finite.push_back(v);
    }
    CHECK(finite.back() == 448.0f);
    for (size_t i = 0; i + 1 < finite.size(); ++i) {
      const float mid = 0.5f * (finite[i] + finite[i + 1]);  // exact: one more bit
      CAPTURE(mid);
      const bool lower_even = (i % 2) == 0;  // codes 0,1,2,... alternate parity
      CHECK(q("fp8:e4m3", mid) == (lower_even ? finite[i] : finite[i + 1]));
      CHECK(q("fp8:e4m3", -mid) == -(lower_even ? finite[i] : finite[i + 1]));
    }
  }

  TEST_CASE("all 256 e5m2 codes round-trip; infinities saturate") {
    for (int c = 0; c < 256; ++c) {
      const float v = decode(static_cast<uint8_t>(c), 5, 2, 15, false);
      CAPTURE(c);
      if (std::isnan(v))
        CHECK(std::isnan(q("fp8:e5m2", v)));
      else if (std::isinf(v))
        CHECK(q("fp8:e5m2", v) == std::copysign(57344.0f, v));
      else
        CHECK(bits(q("fp8:e5m2", v)) == bits(v));
    }
  }

  TEST_CASE("e4m3 saturates 464 to 448") {
    CHECK(q("fp8:e4m3", 464.0f) == 448.0f);  // tie between 448 and the NaN code's 480
    CHECK(q("fp8:e4m3", 455.0f) == 448.0f);
    CHECK(q("fp8:e4m3", 1e6f) == 448.0f);
    CHECK(q("fp8:e4m3", -INFINITY) == -448.0f);
  }

  TEST_CASE("e4m3 subnormals: 2^-9 is the smallest, half of it ties to zero") {
    CHECK(q("fp8:e4m3", std::ldexp(1.0f, -9)) == std::ldexp(1.0f, -9));
    CHECK(bits(q("fp8:e4m3", -std::ldexp(1.0f, -10))) == 0x80000000u);
    CHECK(q("fp8:e4m3", std::ldexp(1.0f, -10) * 1.01f) == std::ldexp(1.0f, -9));
    CHECK(q("fp8:e4m3", std::ldexp(3.0f, -10)) == std::ldexp(2.0f, -9));  // 1.5 quanta → 2
  }

  TEST_CASE("e5m2 saturates to 57344 and keeps 2^-16") {
    CHECK(q("fp8:e5m2", 61439.0f) == 57344.0f);
    CHECK(q("fp8:e5m2", 61440.0f) == 57344.0f);  // tie with the Inf code → saturate
    CHECK(q("fp8:e5m2", std::ldexp(1.0f, -16)) == std::ldexp(1.0f, -16));
    CHECK(q("fp8:e5m2", std::ldexp(1.0f, -17)) == 0.0f);
  }

  TEST_CASE("hybrid rounds gradients to e5m2 and the rest to e4m3") {
    CHECK(q("fp8:hybrid", 1000.0f, Role::weight) == 448.0f);
    CHECK(q("fp8:hybrid", 1000.0f, Role::activation) == 448.0f);
    CHECK(q("fp8:hybrid", 1000.0f, Role::gradient) == 1024.0f);
    CHECK(q("fp8:e4m3", 1000.0f, Role::gradient) == 448.0f);
  }

  TEST_CASE("current scaling maps amax into the top binade with a power-of-two scale") {
    auto m = make_multiplier("fp8:e4m3,scale=current");
    const float x[4] = {0.001f, -0.0123f, 0.0005f, 0.00071f};
    float out[4];
    m->quantize(Role::activation, x, 1, 4, 4, out);
    // fmax/amax = 448/0.0123 = 36423 → scale 2^15; 0.0123·2^15 = 403.0 → 416 in e4m3.
    CHECK(out[1] == -416.0f / 32768.0f);
    for (int i = 0; i < 4; ++i) CHECK(out[i] == round_nearest_ref(MiniFloat::e4m3(), x[i] * 32768.0f) / 32768.0f);
    // An all-zero or non-finite tensor keeps the previous scale.
    const float z[2] = {0.0f, NAN};
    float oz[2];
    m->quantize(Role::activation, z, 1, 2, 2, oz);
    m->quantize(Role::activation, x, 1, 1, 1, out);
    CHECK(out[0] == round_nearest_ref(MiniFloat::e4m3(), 0.001f * 32768.0f) / 32768.0f);
  }

  TEST_CASE("delayed scaling uses the history of earlier amaxes and checkpoints it") {
    auto m = make_multiplier("fp8:e4m3,scale=delayed,history=2,margin=1");
    float out;
    const float big = 100.0f, small = 1.0f;
    // First call: scale 1 (no history yet). Then the window holds {100}: 448/100/2 → 2^1.
    m->quantize(Role::weight, &big, 1, 1, 1, &out);
    CHECK(out == 96.0f);  // 100 in e4m3 at scale 1
    const auto saved = m->state();
    m->quantize(Role::weight, &small, 1, 1, 1, &out);  // scaled by 2: exact
    CHECK(out == 1.0f);
    const float mid = 3.3f;
    m->quantize(Role::weight, &mid, 1, 1, 1, &out);  // window {100, 1} → still 2
    CHECK(out == round_nearest_ref(MiniFloat::e4m3(), 6.6f) / 2.0f);
    m->quantize(Role::weight, &mid, 1, 1, 1, &out);  // window {1, 3.3} → 448/3.3/2 = 67.9 → 2^6
    CHECK(out == round_nearest_ref(MiniFloat::e4m3(), 3.3f * 64.0f) / 64.0f);
    // Roles keep separate histories: the gradient role is still at scale 1.
    m->quantize(Role::gradient, &mid, 1, 1, 1, &out);
    CHECK(out == 3.25f);
    // Restoring the checkpoint replays the same scales.
    auto r = make_multiplier("fp8:e4m3,scale=delayed,history=2,margin=1");
    r->set_state(saved);
    r->quantize(Role::weight, &small, 1, 1, 1, &out);
    CHECK(out == 1.0f);
    CHECK(r->state() != saved);
    auto other = make_multiplier("fp8:e4m3,scale=delayed,history=3");
    CHECK_THROWS_AS(other->set_state(saved), Error);
  }

  TEST_CASE("the amax taken while rounding is max |x| of the block, +Inf for any NaN or Inf") {
    // Padded rows (ld > cols): the padding holds larger values and a NaN, which must not count.
    for (const int64_t rows : {1, 3, 200}) {  // 200·97 elements: the OpenMP-parallel path
      const int64_t cols = 97, ld = 101;
      std::vector<float> x(static_cast<size_t>(rows * ld)), out(static_cast<size_t>(rows * cols));
      float want = 0.0f;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < ld; ++j) {
          const float v = j < cols ? std::ldexp(static_cast<float>((i * 31 + j * 17) % 53) - 26.0f, -(j % 7))
                                   : (j == cols ? NAN : 1e30f);
          x[static_cast<size_t>(i * ld + j)] = v;
          if (j < cols) want = std::max(want, std::fabs(v));
        }
      x[1] = -0.0f;
      float got = -1.0f;
      round_minifloat(MiniFloat::e4m3(), Rounding::nearest, x.data(), rows, cols, ld, out.data(), 0.25f, 0, &got);
      CHECK(bits(got) == bits(want));
      CHECK(bits(amax(x.data(), rows, cols, ld)) == bits(want));
      got = -1.0f;
      round_minifloat(MiniFloat::e5m2(), Rounding::stochastic, x.data(), rows, cols, ld, out.data(), 1.0f, 9, &got);
      CHECK(bits(got) == bits(want));
      for (const float bad : {NAN, -INFINITY}) {
        const float keep = x[static_cast<size_t>((rows - 1) * ld + cols - 1)];
        x[static_cast<size_t>((rows - 1) * ld + cols - 1)] = bad;
        round_minifloat(MiniFloat::e4m3(), Rounding::nearest, x.data(), rows, cols, ld, out.data(), 1.0f, 0, &got);
        CHECK(got == INFINITY);
        CHECK(amax(x.data(), rows, cols, ld) == INFINITY);
        x[static_cast<size_t>((rows - 1) * ld + cols - 1)] = keep;
      }
    }
    // Delayed scaling records that amax: a NaN tensor joins the window as +Inf and the scale stays.
    auto m = make_multiplier("fp8:e4m3,scale=delayed,history=4");
    const float big = 100.0f, nan = NAN, small = 1.0f;
    float out;
    m->quantize(Role::weight, &big, 1, 1, 1, &out);  // window {100} → 448/100 → 2^2
    m->quantize(Role::weight, &nan, 1, 1, 1, &out);  // used 2^2; window {100, Inf} → keeps 2^2
    CHECK(std::isnan(out));
    m->quantize(Role::weight, &small, 1, 1, 1, &out);
    CHECK(out == 1.0f);
    const float third = 1.0f / 3.0f;
    m->quantize(Role::weight, &third, 1, 1, 1, &out);  // still 2^2: 1/3·4 = 1.333 → 1.375 in e4m3
    CHECK(out == 1.375f / 4.0f);
  }

  TEST_CASE("fp8 specs spell every option and reject impossible ones") {
    CHECK(make_multiplier("fp8:e4m3,scale=none")->spec() == "fp8:e4m3,scale=none,round=nearest");
    CHECK(make_multiplier("fp8:hybrid,scale=delayed")->spec() ==
          "fp8:hybrid,scale=delayed,margin=0,history=1024,round=nearest");
    CHECK(make_multiplier(make_multiplier("fp8:e5m2,scale=current")->spec())->spec() ==
          "fp8:e5m2,scale=current,margin=0,round=nearest");
    CHECK_THROWS_WITH_AS(make_multiplier("fp8:e3m4"),
                         doctest::Contains("fp8 format 'e3m4' is not allowed (choose e4m3|e5m2|hybrid)"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("fp8"), doctest::Contains("fp8 format '' is not allowed"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("fp8:e4m3,scale=delayed,history=0"),
                         doctest::Contains("history=0 is out of range (allowed 1..1048576)"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("fp8:e4m3,scale=none,history=16"),
                         doctest::Contains("history= applies to scale=delayed only"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("fp8:e4m3,scale=later"),
                         doctest::Contains("scale=later is not allowed (choose none|current|delayed)"), Error);
  }
}
