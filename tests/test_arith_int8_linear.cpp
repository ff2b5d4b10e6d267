// gemm=int of the int and ternary formats: the integer forward GEMM (core/arith/int8_linear.h).
// The codes are checked against plain-loop definitions (and against the format's own reference
// quantiser: code·s is its value), the fast GEMM against the scalar int64 reference bit for bit
// on shapes that hit every tail of the SIMD kernels, and the result against the fp32 emulation
// (quantize() then sgemm) within a stated bound.
//
// The bound: the emulation rounds each q·s to fp32 and each product, and sums in fp32 (Higham's
// γ_{K+1}); the integer path sums exactly and rounds three times at the end. So
// |y_int − y_fp32| ≤ (K + 6)·u·Σ_k |x_k·w_k| with u = 2⁻²⁴; the test allows twice that.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/int8_linear.h"
#include "core/arith/numerics.h"
#include "core/error.h"

using namespace lmul;
using namespace lmul::arith;
using lmul::test::same_bits;

namespace {

// Rows of different magnitudes (per-token scales differ), a few exact ties of the grid.
std::vector<float> operand(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i) {
    const float mag = std::ldexp(1.0f, static_cast<int>(i % 7) - 3);
    for (int64_t j = 0; j < cols; ++j) v[static_cast<size_t>(i * cols + j)] = mag * n(rng);
  }
  return v;
}

float finite_amax_ref(const float* x, int64_t n) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(x[i])) m = std::max(m, std::fabs(x[i]));
  return m;
}

// The definitions, one value at a time. kind: "tensor" / "channel" (int), "ternary".
Int8Codes reference_codes(const std::string& kind, Role role, int bits, const float* x, int64_t rows, int64_t cols) {
  Int8Codes c;
  c.code.resize(static_cast<size_t>(rows * cols));
  bool any_nan = false;
  std::vector<uint8_t> nan_row(static_cast<size_t>(rows), 0);
  for (int64_t i = 0; i < rows * cols; ++i)
    if (std::isnan(x[i])) nan_row[static_cast<size_t>(i / cols)] = 1, any_nan = true;
  if (any_nan) c.nan_row = nan_row;
  if (kind == "ternary" && role == Role::weight) {
    double total = 0.0;
    for (int64_t i = 0; i < rows; ++i) {
      double row = 0.0;
      for (int64_t j = 0; j < cols; ++j)
        if (std::isfinite(x[i * cols + j])) row += std::fabs(x[i * cols + j]);
      total += row;
    }
    const float gamma = std::max(static_cast<float>(total / static_cast<double>(rows * cols)), 1e-5f);
    c.scale = {gamma};
    for (int64_t i = 0; i < rows * cols; ++i)
      c.code[static_cast<size_t>(i)] =
          std::isnan(x[i]) ? 0 : static_cast<int8_t>(std::clamp(std::nearbyint(x[i] / gamma), -1.0f, 1.0f));
    return c;
  }
  if (kind == "ternary") {
    c.divide = true;
    for (int64_t i = 0; i < rows; ++i) {
      const float s = 127.0f / std::max(finite_amax_ref(x + i * cols, cols), 1e-5f);
      c.scale.push_back(s);
      for (int64_t j = 0; j < cols; ++j) {
        const float v = x[i * cols + j];
        c.code[static_cast<size_t>(i * cols + j)] =
            std::isnan(v) ? 0 : static_cast<int8_t>(std::clamp(std::nearbyint(v * s), -128.0f, 127.0f));
      }
    }
    return c;
  }
  const float lim = static_cast<float>((1 << (bits - 1)) - 1);
  for (int64_t i = 0; i < rows; ++i) {
    const float s =
        kind == "tensor" ? finite_amax_ref(x, rows * cols) / lim : finite_amax_ref(x + i * cols, cols) / lim;
    if (kind == "channel" || i == 0) c.scale.push_back(s);
    for (int64_t j = 0; j < cols; ++j) {
      const float v = x[i * cols + j];
      c.code[static_cast<size_t>(i * cols + j)] =
          std::isnan(v) || s == 0.0f ? 0 : static_cast<int8_t>(std::clamp(std::nearbyint(v / s), -lim, lim));
    }
  }
  return c;
}

struct Case {
  const char* spec;
  const char* kind;
  int w_bits, a_bits;
};
const Case kCases[] = {
    {"int:b=8,gemm=int", "tensor", 8, 8},
    {"int:b=8,gran=channel,gemm=int", "channel", 8, 8},
    {"int:w=4,a=8,gran=channel,gemm=int", "channel", 4, 8},
    {"int:w=2,a=6,gemm=int", "tensor", 2, 6},
    {"ternary:gemm=int", "ternary", 2, 8},
};

void check_codes_equal(const Int8Codes& got, const Int8Codes& want) {
  CHECK(got.code == want.code);
  REQUIRE(got.scale.size() == want.scale.size());
  for (size_t i = 0; i < got.scale.size(); ++i) CHECK(same_bits(got.scale[i], want.scale[i]));
  CHECK(got.divide == want.divide);
  CHECK(got.nan_row == want.nan_row);
}

}  // namespace

TEST_SUITE("arith.int8_linear") {
  TEST_CASE("gemm=int: codes as defined, fast GEMM = int64 reference bit for bit, within the bound of fp32") {
    struct Shape {
      int64_t M, N, K;
    };
    const Shape shapes[] = {{1, 1, 1}, {7, 13, 33}, {37, 29, 1536}, {67, 45, 385}, {19, 70, 127}, {3, 17, 1000}};
    uint32_t seed = 1;
    for (const Case& c : kCases)
      for (const Shape& s : shapes) {
        const std::string name = c.spec;
        CAPTURE(name);
        CAPTURE(s.M);
        CAPTURE(s.N);
        CAPTURE(s.K);
        const auto x = operand(s.M, s.K, seed++);
        const auto w = operand(s.N, s.K, seed++);
        auto mul = make_multiplier(c.spec);
        REQUIRE(mul->int8_forward());
        Int8Codes xc, wc;
        mul->int8_codes(Role::activation, x.data(), s.M, s.K, s.K, xc);
        mul->int8_codes(Role::weight, w.data(), s.N, s.K, s.K, wc);
        const Int8Codes xr = reference_codes(c.kind, Role::activation, c.a_bits, x.data(), s.M, s.K);
        const Int8Codes wr = reference_codes(c.kind, Role::weight, c.w_bits, w.data(), s.N, s.K);
        check_codes_equal(xc, xr);
        check_codes_equal(wc, wr);

        // The codes are the grid points of the format's own reference quantiser.
        const std::string options = std::string(c.spec).substr(std::string(c.spec).find(':') + 1);
        const FormatInfo& f = *std::find_if(formats().begin(), formats().end(), [&](const FormatInfo& fi) {
          return std::string(c.spec).starts_with(std::string(fi.name) + ":");
        });
        std::vector<float> xq(x.size()), wq(w.size());
        REQUIRE(f.reference_quantize(options, 0, Role::activation, x.data(), s.M, s.K, xq.data()));
        REQUIRE(f.reference_quantize(options, 0, Role::weight, w.data(), s.N, s.K, wq.data()));
        for (int64_t i = 0; i < s.M * s.K; ++i) {
          const float code = xr.code[static_cast<size_t>(i)], sc = xr.scale_of(i / s.K);
          CHECK(xq[static_cast<size_t>(i)] == (xr.divide ? code / sc : code * sc));
        }
        for (int64_t i = 0; i < s.N * s.K; ++i)
          CHECK(wq[static_cast<size_t>(i)] == wr.code[static_cast<size_t>(i)] * wr.scale_of(i / s.K));

        std::vector<float> fast(static_cast<size_t>(s.M * s.N)), ref(fast.size()), emul(fast.size());
        int8_linear(xc, wc, s.M, s.N, s.K, fast.data(), s.N);
        int8_linear_ref(xr, wr, s.M, s.N, s.K, ref.data(), s.N);
        for (size_t i = 0; i < fast.size(); ++i) CHECK(same_bits(fast[i], ref[i]));

        // The fp32 emulation: the format's quantize() then its gemm().
        mul->quantize(Role::activation, x.data(), s.M, s.K, s.K, xq.data());
        mul->quantize(Role::weight, w.data(), s.N, s.K, s.K, wq.data());
        mul->gemm({false, true, s.M, s.N, s.K, xq.data(), s.K, wq.data(), s.K, emul.data(), s.N, false});
        for (int64_t i = 0; i < s.M; ++i)
          for (int64_t j = 0; j < s.N; ++j) {
            double mag = 0.0;
            for (int64_t k = 0; k < s.K; ++k)
              mag += std::fabs(double{xq[static_cast<size_t>(i * s.K + k)]} * wq[static_cast<size_t>(j * s.K + k)]);
            const double err =
                std::fabs(double{fast[static_cast<size_t>(i * s.N + j)]} - emul[static_cast<size_t>(i * s.N + j)]);
            const double bound = 2.0 * static_cast<double>(s.K + 6) * 0x1p-24 * mag;
            CHECK(err <= bound);
          }
      }
  }

  TEST_CASE("gemm=int: NaN rows give NaN outputs, infinities clamp to the largest code") {
    const float x[2 * 4] = {1.0f, NAN, -2.0f, 0.5f, INFINITY, -INFINITY, 1.0f, -1.0f};
    const float w[3 * 4] = {1.0f, 1.0f, 1.0f, 1.0f, 0.5f, -0.5f, 2.0f, 0.0f, -1.0f, 0.0f, 1.0f, 0.25f};
    for (const std::string spec : {"int:b=8,gemm=int", "int:b=8,gran=channel,gemm=int", "ternary:gemm=int"}) {
      CAPTURE(spec);
      auto mul = make_multiplier(spec);
      Int8Codes xc, wc;
      mul->int8_codes(Role::activation, x, 2, 4, 4, xc);
      mul->int8_codes(Role::weight, w, 3, 4, 4, wc);
      CHECK(xc.nan_row == std::vector<uint8_t>{1, 0});
      CHECK(wc.nan_row.empty());
      CHECK(xc.code[1] == 0);
      CHECK(xc.code[4] == 127);
      CHECK(xc.code[5] == (spec.starts_with("ternary") ? -128 : -127));  // BitNet clamps to −128
      float y[2 * 3];
      int8_linear(xc, wc, 2, 3, 4, y, 3);
      for (int j = 0; j < 3; ++j) CHECK(std::isnan(y[j]));
      for (int j = 3; j < 6; ++j) CHECK(std::isfinite(y[j]));
      float r[2 * 3];
      int8_linear_ref(xc, wc, 2, 3, 4, r, 3);
      for (int j = 0; j < 6; ++j) CHECK(same_bits(y[j], r[j]));
    }
  }

  TEST_CASE("gemm=int: an all-zero operand gives zero outputs") {
    const float z[2 * 3] = {};
    const float w[2 * 3] = {1, 2, 3, -1, -2, -3};
    for (const char* spec : {"int:b=8,gemm=int", "int:b=4,gran=channel,gemm=int", "ternary:gemm=int"}) {
      auto mul = make_multiplier(spec);
      Int8Codes xc, wc;
      mul->int8_codes(Role::activation, z, 2, 3, 3, xc);
      mul->int8_codes(Role::weight, w, 2, 3, 3, wc);
      float y[4] = {1, 1, 1, 1};
      int8_linear(xc, wc, 2, 2, 3, y, 2);
      for (float v : y) CHECK(v == 0.0f);
    }
  }

  TEST_CASE("gemm=int: numerics mul forms each product as the integer forward GEMM does") {
    const float xs[3] = {0.5f, -0.3f, NAN}, ys[3] = {0.25f, 0.1f, 0.2f};
    auto m = make_multiplier("int:b=8,gemm=int");
    const auto p = multiply_pairs(*m, xs, ys);
    const float sx = 0.5f / 127.0f, sy = 0.25f / 127.0f;  // each operand one 1×3 tensor
    CHECK(same_bits(p[0], (static_cast<float>(127 * 127) * sx) * sy));
    const float qx1 = std::nearbyint(-0.3f / sx), qy1 = std::nearbyint(0.1f / sy);
    CHECK(same_bits(p[1], (static_cast<float>(qx1 * qy1) * sx) * sy));
    CHECK(std::isnan(p[2]));
    auto t = make_multiplier("ternary:gemm=int");
    const float tx[2] = {1.0f, -0.5f}, ty[2] = {1.0f, 0.0f};
    const auto q = multiply_pairs(*t, tx, ty);  // s = 127, γ = 0.5: codes 127, −64 and 1 (1/0.5 clamps), 0
    CHECK(same_bits(q[0], (127.0f / 127.0f) * 0.5f));
    CHECK(q[1] == 0.0f);
  }

  TEST_CASE("gemm=int: spelled in the canonical spec only when set; fp32 is the default") {
    CHECK(make_multiplier("int:b=8")->spec() == "int:w=8,a=8,gran=tensor,round=nearest");
    CHECK(make_multiplier("int:b=8,gemm=fp32")->spec() == "int:w=8,a=8,gran=tensor,round=nearest");
    CHECK(make_multiplier("int:b=8,gemm=int")->spec() == "int:w=8,a=8,gran=tensor,round=nearest,gemm=int");
    CHECK(make_multiplier("int:w=4,gran=channel,gemm=int")->spec() ==
          "int:w=4,a=8,gran=channel,round=nearest,gemm=int");
    CHECK(make_multiplier("ternary")->spec() == "ternary:act=int8");
    CHECK(make_multiplier("ternary:gemm=fp32")->spec() == "ternary:act=int8");
    CHECK(make_multiplier("ternary:gemm=int")->spec() == "ternary:act=int8,gemm=int");
    for (const char* spec : {"int:b=8,gemm=int", "ternary:gemm=int", "int:b=3,gran=channel,gemm=int"}) {
      const std::string canonical = make_multiplier(spec)->spec();
      CHECK(make_multiplier(canonical)->spec() == canonical);
      CHECK(make_multiplier(canonical)->int8_forward());
    }
    for (const char* spec : {"int:b=8", "ternary", "exact", "fp8:e4m3", "int:b=8,gemm=fp32"})
      CHECK_FALSE(make_multiplier(spec)->int8_forward());
    Int8Codes c;
    const float x[1] = {1.0f};
    CHECK_THROWS_AS(make_multiplier("int:b=8")->int8_codes(Role::weight, x, 1, 1, 1, c), Error);
    CHECK_THROWS_AS(make_multiplier("int:b=8,gemm=int")->int8_codes(Role::gradient, x, 1, 1, 1, c), Error);
  }

  TEST_CASE("gemm=int refuses what int8 codes with one scale per tensor or row cannot hold") {
    for (const char* spec :
         {"int:b=8,gran=group,gemm=int", "int:b=8,round=stochastic,gemm=int", "int:b=9,gemm=int",
          "int:w=8,a=12,gemm=int", "ternary:act=fp32,gemm=int", "int:b=8,gemm=int8", "ternary:gemm=yes"}) {
      CAPTURE(spec);
      CHECK_THROWS_AS(make_multiplier(spec), Error);
    }
    try {
      make_multiplier("int:b=8,gran=group,gemm=int");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("gemm=int takes w, a") != std::string::npos);
    }
  }
}
