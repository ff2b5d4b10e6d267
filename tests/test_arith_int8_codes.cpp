// The fused row kernel of gemm=int's codes (core/arith/int8_codes_by_row.h): int8_code_row (the
// SIMD path this build compiles) against int8_code_row_ref bit for bit — codes, dequantised values,
// NaN flag — on lengths around every vector width and tail, both forms (· and /), s = 0, and the
// specials (NaN, ±Inf, ±0, exact ties of the grid, values beyond the clamp). And, per format, that
// int8_codes_and_values() gives exactly int8_codes() and quantize() of the same operand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/int8_codes_by_row.h"

using namespace lmul;
using namespace lmul::arith;
using lmul::test::same_bits;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Normal values of magnitude mag with specials and grid ties (k + 0.5)/s sprinkled in.
std::vector<float> row_values(int64_t n, float s, bool divide, uint32_t seed, bool specials) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 40.0f);
  std::uniform_int_distribution<int> pick(0, 15);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) {
    const float grid = nd(rng);
    e = divide ? grid * s : grid / (s == 0.0f ? 1.0f : s);
    switch (specials ? pick(rng) : 15) {
      case 0:
        e = kNaN;
        break;
      case 1:
        e = pick(rng) % 2 ? kInf : -kInf;
        break;
      case 2:
        e = pick(rng) % 2 ? 0.0f : -0.0f;
        break;
      case 3: {  // an exact tie of the grid where representable
        const float k = std::floor(nd(rng)) + 0.5f;
        e = divide ? k * s : k / (s == 0.0f ? 1.0f : s);
        break;
      }
      case 4:
        e *= 1e6f;
        break;  // far beyond the clamp
      default:
        break;
    }
  }
  return v;
}

}  // namespace

TEST_SUITE("arith.int8_codes") {
  TEST_CASE("int8_code_row = int8_code_row_ref bit for bit on every tail, form, scale and special") {
    const int64_t lengths[] = {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 100, 384, 385, 1537};
    struct Form {
      float s;
      bool divide;
      float lo, hi;
    };
    const Form forms[] = {
        {0.0123f, true, -1.0f, 1.0f},      // ternary weights: rne(w/γ) ∈ {−1, 0, 1}, value code·γ
        {3.7f, false, -128.0f, 127.0f},    // BitNet activations: rne(x·s), value code/s
        {0.031f, true, -127.0f, 127.0f},   // int:b=8: rne(x/s), value code·s
        {0.25f, true, -7.0f, 7.0f},        // int:b=4
        {0.0f, true, -127.0f, 127.0f},     // int's all-zero group: code 0, value ±0
        {1e-30f, false, -128.0f, 127.0f},  // tiny scale
    };
    uint32_t seed = 7;
    for (const Form& f : forms)
      for (int64_t n : lengths)
        for (bool specials : {false, true})
          for (bool with_values : {false, true}) {
            CAPTURE(f.s);
            CAPTURE(f.divide);
            CAPTURE(n);
            CAPTURE(specials);
            const auto x = row_values(n, f.s, f.divide, seed++, specials);
            std::vector<int8_t> q(static_cast<size_t>(n), 99), qr(static_cast<size_t>(n), 98);
            std::vector<float> v(static_cast<size_t>(n), 5.0f), vr(static_cast<size_t>(n), 6.0f);
            const bool nan =
                int8_code_row(x.data(), n, f.s, f.divide, f.lo, f.hi, q.data(), with_values ? v.data() : nullptr);
            const bool nan_ref =
                int8_code_row_ref(x.data(), n, f.s, f.divide, f.lo, f.hi, qr.data(), with_values ? vr.data() : nullptr);
            CHECK(nan == nan_ref);
            CHECK(q == qr);
            if (with_values) {
              int bad = 0;
              for (int64_t j = 0; j < n; ++j) bad += !same_bits(v[static_cast<size_t>(j)], vr[static_cast<size_t>(j)]);
              CHECK(bad == 0);
            } else {
              CHECK(std::all_of(v.begin(), v.end(), [](float e) { return e == 5.0f; }));  // values untouched
            }
          }
  }

  TEST_CASE("int8_codes_and_values = int8_codes + quantize, strided operands with specials, every gemm=int format") {
    const char* specs[] = {"int:b=8,gemm=int", "int:b=8,gran=channel,gemm=int", "int:w=4,a=8,gran=channel,gemm=int",
                           "int:w=2,a=6,gemm=int", "ternary:gemm=int"};
    struct Shape {
      int64_t rows, cols, ld;
    };
    const Shape shapes[] = {{1, 1, 1}, {5, 17, 20}, {33, 384, 384}, {9, 1537, 1540}, {64, 129, 129}};
    uint32_t seed = 100;
    for (const char* spec : specs)
      for (const Shape& s : shapes)
        for (Role role : {Role::weight, Role::activation})
          for (bool specials : {false, true}) {
            CAPTURE(std::string(spec));
            CAPTURE(s.rows);
            CAPTURE(s.cols);
            CAPTURE(specials);
            std::vector<float> x(static_cast<size_t>(s.rows * s.ld));
            for (int64_t i = 0; i < s.rows; ++i) {
              const auto r = row_values(s.ld, 0.02f * static_cast<float>(i % 5 + 1), true, seed++, specials);
              std::copy(r.begin(), r.end(), x.begin() + i * s.ld);
            }
            auto fused = make_multiplier(spec), apart = make_multiplier(spec);
            Int8Codes cf, ca;
            const auto n = static_cast<size_t>(s.rows * s.cols);
            std::vector<float> vf(n, 5.0f), va(n, 6.0f);
            fused->int8_codes_and_values(role, x.data(), s.rows, s.cols, s.ld, cf, vf.data());
            apart->int8_codes(role, x.data(), s.rows, s.cols, s.ld, ca);
            REQUIRE(apart->quantize(role, x.data(), s.rows, s.cols, s.ld, va.data()));
            CHECK(cf.code == ca.code);
            REQUIRE(cf.scale.size() == ca.scale.size());
            for (size_t i = 0; i < cf.scale.size(); ++i) CHECK(same_bits(cf.scale[i], ca.scale[i]));
            CHECK(cf.divide == ca.divide);
            CHECK(cf.nan_row == ca.nan_row);
            int bad = 0;
            for (size_t i = 0; i < n; ++i) bad += !same_bits(vf[i], va[i]);
            CHECK(bad == 0);
          }
  }
}
