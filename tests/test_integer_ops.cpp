// Golden values of the integer-only operators (core/integer), from the worked vectors of
// ../shared/research/ivit_integer_ops.md §10 and by hand from its formulas.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/integer/dyadic.h"
#include "core/integer/ilayernorm.h"
#include "core/integer/int_exp.h"
#include "core/integer/shiftgelu.h"
#include "core/integer/shiftmax.h"

using namespace lmul;
using namespace lmul::integer;

namespace {

std::vector<int32_t> shiftmax(const std::vector<int32_t>& x, float s, int bits, int64_t kept = -1,
                              MaskMode mode = MaskMode::exclude) {
  std::vector<int32_t> y(x.size());
  shiftmax_row(x, kept < 0 ? static_cast<int64_t>(x.size()) : kept, exp_shift_x0(s, "test"), kShiftmaxN, bits, mode, y);
  return y;
}

}  // namespace

TEST_SUITE("integer.ops") {
  TEST_CASE("x0 = floor(-1/s) in float32, and the shift exponential of the spec's worked vector") {
    CHECK(exp_shift_x0(0.1f, "t") == -10);         // f32(1/0.1f) = 10 exactly
    CHECK(exp_shift_x0(0.3f, "t") == -4);          // floor(-3.33)
    CHECK(exp_shift_x0(2.0f, "t") == -1);          // coarse scales still give −1
    CHECK(shiftgelu_x0(0.05f) == -12);             // 1/(0.05·1.702) = 11.75
    CHECK(int_exp_shift(-7, -10, 15) == 163840);   // xp = −7 − 4 + 1 = −10: q = 1, r = 0 → 20·2^14/2
    CHECK(int_exp_shift(0, -10, 15) == 10 << 15);  // e^0 = 1 → |x0|·2^n
    CHECK(int_exp_shift(-1000, -10, 15) == 10);    // clamped at n·x0: q = n, r = 0 → −x0
    // xp = −3 − 2 + 1 = −4: q = 0, r = −4 → (−4 + 20)·2^15/2 = 16·2^14 (2^−0.4 ≈ 1 − 0.4/2).
    CHECK(int_exp_shift(-3, -10, 15) == 16 << 14);
    CHECK_THROWS_AS(exp_shift_x0(0.0f, "t"), Error);
    CHECK_THROWS_AS(exp_shift_x0(-1.0f, "t"), Error);
    CHECK_THROWS_WITH_AS(exp_shift_x0(1e-12f, "t"), doctest::Contains("too small"), Error);
  }

  TEST_CASE("int_exp_shift of a positive argument (ShiftGELU's e_m) saturates at 2^31-1") {
    // d = 5, x0 = −10: xp = 5 + 2 − 0 = 7, q = floor(7/−10) = −1, r = 7 − 10 = −3,
    // ((−3 + 20) << 24) >> 1 = 17·2^23.
    CHECK(int_exp_shift(5, -10, 23) == int64_t{17} << 23);
    CHECK(int_exp_shift(100, -10, 23) == (int64_t{1} << 31) - 1);
    CHECK(int_exp_shift(int64_t{1} << 40, -1, 23) == (int64_t{1} << 31) - 1);
  }

  TEST_CASE("shiftmax: the spec's worked vector, 8 and 16 bits") {
    const std::vector<int32_t> x = {0, -5, -10, 3, 3, -128};
    CHECK(shiftmax(x, 0.1f, 8) == std::vector<int32_t>{28, 17, 9, 36, 36, 0});
    CHECK(shiftmax(x, 0.1f, 16) == std::vector<int32_t>{7384, 4384, 2538, 9230, 9230, 0});
  }

  TEST_CASE("shiftmax: a lone winner gives 127/128 and 32765/32768, never 1") {
    CHECK(shiftmax({5}, 0.1f, 8) == std::vector<int32_t>{127});
    // exp = 10·2^15, f = floor((2^31 − 1)/exp) = 6553, exp·f = 32765·2^16.
    CHECK(shiftmax({-7}, 0.1f, 16) == std::vector<int32_t>{32765});
    // Two equal scores: exp = 10·2^15 each, S = 655360, f = 3276, exp·f = 1073479680 → >> 24 = 63.
    CHECK(shiftmax({4, 4}, 0.1f, 8) == std::vector<int32_t>{63, 63});
  }

  TEST_CASE("shiftmax causal exclude: masked entries leave max and sum, output 0") {
    // Row 1 of a causal block keeps columns 0..1; the huge masked score must not move the max.
    const std::vector<int32_t> x = {4, 4, 100, 7};
    CHECK(shiftmax(x, 0.1f, 8, 2) == std::vector<int32_t>{63, 63, 0, 0});
    CHECK(shiftmax(x, 0.1f, 8, 0) == std::vector<int32_t>{0, 0, 0, 0});
  }

  TEST_CASE("shiftmax floor mask: masked entries get exp = -x0 and count in the sum (Swin-like)") {
    // The spec's self-test: 48 columns, x0 = −12, row 0 → [127, 0, 0, ...], masked exp = 12:
    // S = 12·2^15 + 47·12 = 393780, f = 5453, 393216·5453 >> 24 = 127, 12·5453 >> 24 = 0.
    std::vector<int32_t> x(48, 0);
    const float s = 1.0f / 11.5f;  // floor(−11.5) = −12
    REQUIRE(exp_shift_x0(s, "t") == -12);
    const auto y = shiftmax(x, s, 8, 1, MaskMode::floor);
    CHECK(y[0] == 127);
    for (size_t j = 1; j < y.size(); ++j) CHECK(y[j] == 0);
    // With 16-bit outputs the masked weight shows: 12·5453 >> 16 = 0, but the winner loses to the
    // masked sum: 393216·5453 >> 16 = 32718, where exclude gives 393216·5461 >> 16 = 32766.
    const auto y16 = shiftmax(x, s, 16, 1, MaskMode::floor);
    CHECK(y16[0] == 32718);
    CHECK(shiftmax(x, s, 16, 1)[0] == 32766);
  }

  TEST_CASE("shiftmax range check: the sum must stay below 2^31-1") {
    CHECK_NOTHROW(check_shiftmax_range(-10, 6553, 15, "t"));  // 6553·10·2^15 = 2147123200
    CHECK_THROWS_WITH_AS(check_shiftmax_range(-10, 6554, 15, "t"), doctest::Contains("need |x0| <= 9"), Error);
    // Beyond it the clamp is still the spec's: S = 2^31 − 1 → f = 1 → y = exp >> 24.
    std::vector<int32_t> x(7000, 0), y(7000);
    shiftmax_row(x, 7000, -10, 15, 8, MaskMode::exclude, y);
    CHECK(y[0] == (10 << 15) >> 24);
  }

  TEST_CASE("shiftgelu: the spec's worked vector and output scale") {
    const std::vector<int32_t> x = {-128, -40, -7, 0, 7, 40, 127};
    std::vector<int64_t> y(x.size());
    shiftgelu_row(x, shiftgelu_x0(0.05f), kShiftGeluN, 8, y);
    CHECK(y == std::vector<int64_t>{0, -160, -322, 0, 581, 4920, 16002});
    CHECK(shiftgelu_scale_out(0.05f, 8) == 0.05f / 128.0f);
  }

  TEST_CASE("shiftgelu: a negative row max takes the saturated e_m") {
    // x = [−3], s = 0.05 (x0 = −12): m = −3, e = |x0|·2^23, e_m = int_exp_shift(3): xp = 3 + 1 = 4,
    // q = floor(4/−12) = −1, r = −8 → (−8 + 24)·2^24/2 = 16·2^23; S = 28·2^23, f = 9,
    // sig = (12·2^23·9) >> 24 = 54, y = −3·54.
    std::vector<int64_t> y(1);
    shiftgelu_row(std::vector<int32_t>{-3}, -12, 23, 8, y);
    CHECK(y[0] == -162);
    CHECK_NOTHROW(check_shiftgelu_range(-255, 23));
    CHECK_THROWS_WITH_AS(check_shiftgelu_range(-256, 23), doctest::Contains("coarser input scale"), Error);
  }

  TEST_CASE("ivit_sqrt: exactly 10 Newton steps from 2^16, the spec's values") {
    CHECK(ivit_sqrt(0) == 64);
    CHECK(ivit_sqrt(6400) == 93);
    CHECK(ivit_sqrt(2000000) == 1414);
    // The largest v < 2^16 wrong by more than 1 is 34595 (§10).
    CHECK(ivit_sqrt(34595) - 185 > 1);  // floor(√34595) = 185
    for (int64_t v = 34596; v < (int64_t{1} << 16); ++v) {
      int64_t r = 0;
      while ((r + 1) * (r + 1) <= v) ++r;
      const int64_t k = ivit_sqrt(v);
      if (k < r || k > r + 1) FAIL("ivit_sqrt(" << v << ") = " << k << ", floor sqrt " << r);
    }
  }

  TEST_CASE("ilayernorm: hand-computed rows") {
    // x = [1, 2, 3, 5]: mean = round(2.75) = 3, y = [−2, −1, 0, 2], var = 9, std = 64 (var too
    // small for the fixed Newton start), f = floor((2^31−1)/64) = 33554431.
    std::vector<int64_t> out(4);
    ilayernorm_row(std::vector<int32_t>{1, 2, 3, 5}, std::vector<int64_t>(4, 0), out);
    CHECK(out == std::vector<int64_t>{-33554431, -16777216, 0, 33554431});
    // x = [1000, −1000]: var = 2·10^6, std = 1414, f = 1518729, floor(1000·f/2).
    std::vector<int64_t> out2(2);
    ilayernorm_row(std::vector<int32_t>{1000, -1000}, std::vector<int64_t>{7, -7}, out2);
    CHECK(out2 == std::vector<int64_t>{759364500 + 7, -759364500 - 7});
    // Mean ties go to even: Σ = 2, C = 4 → 0.5 → 0; Σ = 6 → 1.5 → 2.
    std::vector<int64_t> o(4);
    ilayernorm_row(std::vector<int32_t>{0, 0, 1, 1}, std::vector<int64_t>(4, 0), o);
    CHECK(o[0] == 0);
    ilayernorm_row(std::vector<int32_t>{1, 1, 2, 2}, std::vector<int64_t>(4, 0), o);
    CHECK(o[3] == 0);
  }

  TEST_CASE("ilayernorm constants: sqrt(C)/2^30 per channel, bias_int = floor(b/w / scale_mid)") {
    const auto k = ilayernorm_constants(std::vector<float>{1.0f, 2.0f, -0.5f, 1.0f},
                                        std::vector<float>{0.0f, 1.0f, 0.25f, -1e-9f});
    CHECK(k.scale_out[0] == 0x1p-29f);  // √4 / 2^30
    CHECK(k.scale_out[1] == 0x1p-28f);
    CHECK(k.scale_out[2] == -0x1p-30f);
    CHECK(k.bias_int == std::vector<int64_t>{0, int64_t{1} << 28, -(int64_t{1} << 28), -1});
    CHECK_THROWS_WITH_AS(ilayernorm_constants(std::vector<float>{0.0f}, std::vector<float>{0.0f}),
                         doctest::Contains("weight nonzero"), Error);
    CHECK_THROWS_WITH_AS(ilayernorm_constants(std::vector<float>{1e-30f}, std::vector<float>{1e10f}),
                         doctest::Contains("too large"), Error);
  }

  TEST_CASE("dyadic: the spec's multipliers, m = 2^31 included") {
    const Dyadic d = dyadic(0.0123);
    CHECK(d.m == 1690499128);
    CHECK(d.e == 37);
    CHECK(requant(1000, d) == 12);
    CHECK(requant(-1000, d) == -12);
    const Dyadic top = dyadic(1.0 - 0x1p-40);
    CHECK(top.m == int64_t{1} << 31);
    CHECK(top.e == 31);
    const Dyadic half = dyadic(0.5);
    CHECK(half.m == int64_t{1} << 30);
    CHECK(half.e == 31);
    // Ties away from zero in the mantissa: 0.5 + 2^−33 → mant·2^31 = 2^30 + 0.25 → 2^30, and
    // 0.5 + 2^−32 → 2^30 + 0.5 → 2^30 + 1 (half to even would give 2^30).
    CHECK(dyadic(0.5 + 0x1p-33).m == int64_t{1} << 30);
    CHECK(dyadic(0.5 + 0x1p-32).m == (int64_t{1} << 30) + 1);
    CHECK_THROWS_AS(dyadic(0.0), Error);
    CHECK_THROWS_AS(dyadic(0x1p31), Error);
  }

  TEST_CASE("requant rounds half to even, and large shifts give 0") {
    CHECK(requant(3, {1, 1}) == 2);
    CHECK(requant(5, {1, 1}) == 2);
    CHECK(requant(-3, {1, 1}) == -2);
    CHECK(requant(-5, {1, 1}) == -2);
    CHECK(requant(7, {3, 2}) == 5);  // 21/4 = 5.25
    CHECK(requant(-7, {3, 2}) == -5);
    CHECK(requant(INT32_MAX, {int64_t{1} << 31, 0}) == int64_t{INT32_MAX} << 31);
    CHECK(requant(INT32_MIN, {int64_t{1} << 31, 62}) == -1);  // −2^62/2^62
    CHECK(requant(INT32_MIN, {int64_t{1} << 31, 63}) == 0);   // −1/2: a tie, to even
    CHECK(requant(INT32_MIN, {(int64_t{1} << 31) - 1, 63}) == 0);
    CHECK(requant(INT32_MIN, {int64_t{1} << 30, 64}) == 0);
    CHECK(requant(INT32_MAX, dyadic(1e-300)) == 0);
    CHECK(dyadic(1e-300).e > 64);
  }

  TEST_CASE("residual requant: two roundings, then the add, then the clamp") {
    // 3·2^−1 = 1.5 → 2 and 5·2^−1 = 2.5 → 2: the sum 4, where one rounding of 4 would give 4
    // too; 1.5 + 1.5 → 2 + 2 = 4 where rounding the exact sum 3 would give 3.
    CHECK(residual_requant(3, {1, 1}, 3, {1, 1}, 16) == 4);
    CHECK(residual_requant(30000, {1, 0}, 30000, {1, 0}, 16) == 32767);
    CHECK(residual_requant(-30000, {1, 0}, -30000, {1, 0}, 16) == -32768);
  }

  TEST_CASE("quantize: f32(1/s)·x rounded half to even, clamped") {
    CHECK(quantize(0.25f, 0.5f, 8) == 0);  // 0.5 → 0
    CHECK(quantize(0.75f, 0.5f, 8) == 2);  // 1.5 → 2
    CHECK(quantize(-0.75f, 0.5f, 8) == -2);
    CHECK(quantize(1000.0f, 0.5f, 8) == 127);
    CHECK(quantize(-1000.0f, 0.5f, 8) == -128);
  }

  TEST_CASE("floor_div and round_half_even_div on every sign") {
    CHECK(floor_div(7, -10) == -1);
    CHECK(floor_div(-7, 10) == -1);
    CHECK(floor_div(-10, -10) == 1);
    CHECK(floor_div(-20, 10) == -2);
    CHECK(round_half_even_div(-2, 4) == 0);   // −0.5 → 0
    CHECK(round_half_even_div(-6, 4) == -2);  // −1.5 → −2
    CHECK(round_half_even_div(-7, 4) == -2);  // −1.75
    CHECK(round_half_even_div(5, 4) == 1);
  }
}
