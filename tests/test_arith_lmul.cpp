#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/lmul_math.h"
#include "core/error.h"

using namespace lmul;
using namespace lmul::arith;
using lmul::test::bits;
using lmul::test::same_bits;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// The paper's product from its parts, computed independently of lmul_math.cpp.
double bits_value(int fx, int fy, int ex, int ey, int m) {
  const double s = std::ldexp(fx + fy, -m) + std::ldexp(1.0, -lmul_l(m));
  const double fl = std::floor(s);
  return (1.0 + s - fl) * std::ldexp(1.0, ex + ey + static_cast<int>(fl));
}
double formula_value(int fx, int fy, int ex, int ey, int m) {
  return (1.0 + std::ldexp(fx + fy, -m) + std::ldexp(1.0, -lmul_l(m))) * std::ldexp(1.0, ex + ey);
}

float operand(int f, int e, int m, bool negative) {
  const float v = std::ldexp(1.0f + std::ldexp(static_cast<float>(f), -m), e);
  return negative ? -v : v;
}

// Random reduced operands with some exact zeros.
std::vector<float> reduced_matrix(size_t n, int m, uint32_t seed, double zero_fraction) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<double> u;
  std::vector<float> v(n);
  for (float& x : v) x = u(rng) < zero_fraction ? 0.0f : lmul_reduce_ref(normal(rng), m, false);
  return v;
}

void check_gemm(LMulVariant variant, int m, bool ta, bool tb, bool accumulate, int64_t M, int64_t N, int64_t K,
                double zeros, bool portable = false) {
  const int64_t pad = 3;
  const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  const auto A = reduced_matrix(static_cast<size_t>((ta ? K : M) * lda), m, 11, zeros);
  const auto B = reduced_matrix(static_cast<size_t>((tb ? N : K) * ldb), m, 12, zeros);
  std::vector<float> C0 = reduced_matrix(static_cast<size_t>(M * ldc), 23, 13, 0.0);
  std::vector<float> C = C0, R = C0;
  Gemm g{ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc, accumulate};
  if (variant == LMulVariant::formula)
    lmul_formula_gemm(g, m);
  else if (portable)
    lmul_bits_gemm_portable(g, m);
  else
    lmul_bits_gemm(g, m);
  Gemm r = g;
  r.C = R.data();
  lmul_gemm_ref(variant, r, m);
  int bad = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const float c = C[i * ldc + j], ref = R[i * ldc + j];
      if (variant == LMulVariant::bits) {
        if (bits(c) != bits(ref) && ++bad < 4) FAIL_CHECK("bits C[" << i << "," << j << "]=" << c << " ref=" << ref);
      } else {
        double mag = accumulate ? std::fabs(C0[i * ldc + j]) : 0.0;
        for (int64_t k = 0; k < K; ++k)
          mag += std::fabs(
              lmul_formula_ref(ta ? A[k * lda + i] : A[i * lda + k], tb ? B[j * ldb + k] : B[k * ldb + j], m));
        if (std::fabs(c - ref) > std::ldexp(mag, -20) && ++bad < 4)
          FAIL_CHECK("formula C[" << i << "," << j << "]=" << c << " ref=" << ref << " mag=" << mag);
      }
    }
  // Padding between rows is untouched.
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = N; j < ldc; ++j) CHECK(bits(C[i * ldc + j]) == bits(C0[i * ldc + j]));
  CHECK(bad == 0);
}

}  // namespace

TEST_SUITE("arith.lmul") {
  TEST_CASE("l(M) and the bits constant follow the paper: 0x3F780000 for M = 23") {
    CHECK(lmul_l(1) == 1);
    CHECK(lmul_l(3) == 3);
    CHECK(lmul_l(4) == 3);
    CHECK(lmul_l(5) == 4);
    CHECK(lmul_l(23) == 4);
    CHECK(lmul_bits_constant(23) == 0x3F780000u);
  }

  TEST_CASE("scalar L-Mul equals the paper's value for all mantissa pairs, m <= 4") {
    for (int m = 1; m <= 4; ++m)
      for (int fx = 0; fx < (1 << m); ++fx)
        for (int fy = 0; fy < (1 << m); ++fy)
          for (int ex : {-3, 0, 5})
            for (int ey : {-7, 0, 2})
              for (int sign = 0; sign < 4; ++sign) {
                const float x = operand(fx, ex, m, sign & 1), y = operand(fy, ey, m, sign & 2);
                const double s = ((sign & 1) != 0) != ((sign & 2) != 0) ? -1.0 : 1.0;
                const float b = lmul_bits_ref(x, y, m), f = lmul_formula_ref(x, y, m);
                CAPTURE(x);
                CAPTURE(y);
                CHECK(static_cast<double>(b) == s * bits_value(fx, fy, ex, ey, m));
                CHECK(static_cast<double>(f) == s * formula_value(fx, fy, ex, ey, m));
                // Two m-bit operands give an m-bit bits-product: no rounding needed.
                CHECK((bits(b) & ((1u << (23 - m)) - 1u)) == 0u);
              }
  }

  TEST_CASE("L-Mul of 1.5 and 1.5 carries into the exponent in the bits variant only") {
    // m = 1: s = 0.5 + 0.5 + 0.5 = 1.5; bits: (1 + 0.5)·2^1 = 3; formula: 2.5.
    CHECK(lmul_bits_ref(1.5f, 1.5f, 1) == 3.0f);
    CHECK(lmul_formula_ref(1.5f, 1.5f, 1) == 2.5f);
    // m = 23 (the paper's fp32 simulation): 1·1 = 1 + 2^-4.
    CHECK(lmul_bits_ref(1.0f, 1.0f, 23) == 1.0625f);
    CHECK(lmul_bits_ref(-2.0f, 0.5f, 23) == -1.0625f);
  }

  TEST_CASE("L-Mul special values: zeros, NaN, Inf, underflow to zero, overflow to Inf") {
    for (LMulVariant v : {LMulVariant::bits, LMulVariant::formula}) {
      CHECK(bits(lmul_ref(v, 0.0f, 3.0f, 4)) == 0u);
      CHECK(bits(lmul_ref(v, -0.0f, 3.0f, 4)) == 0x80000000u);
      CHECK(bits(lmul_ref(v, 2.0f, -0.0f, 4)) == 0x80000000u);
      CHECK(lmul_ref(v, 1e-40f, 3.0f, 4) == 0.0f);  // subnormal operand counts as zero
      CHECK(std::isnan(lmul_ref(v, NAN, 1.0f, 4)));
      CHECK(std::isnan(lmul_ref(v, 0.0f, kInf, 4)));
      CHECK(lmul_ref(v, -kInf, 2.0f, 4) == -kInf);
      CHECK(lmul_ref(v, 1e-30f, 1e-20f, 4) == 0.0f);
      CHECK(bits(lmul_ref(v, -1e-30f, 1e-20f, 4)) == 0x80000000u);
      CHECK(lmul_ref(v, 1e30f, 1e20f, 4) == kInf);
      CHECK(lmul_ref(v, 1e30f, -1e20f, 4) == -kInf);
    }
  }

  TEST_CASE("operand reduction: rne ties to even, trunc toward zero, subnormals flush, Inf stays") {
    CHECK(lmul_reduce_ref(1.0f + std::ldexp(1.0f, -5), 4, false) == 1.0f);        // tie → even
    CHECK(lmul_reduce_ref(1.0f + 3 * std::ldexp(1.0f, -5), 4, false) == 1.125f);  // tie → even
    CHECK(lmul_reduce_ref(1.9999f, 4, true) == 1.9375f);
    CHECK(lmul_reduce_ref(-1.9999f, 4, true) == -1.9375f);
    CHECK(lmul_reduce_ref(1.9999f, 4, false) == 2.0f);
    CHECK(bits(lmul_reduce_ref(-1e-40f, 4, false)) == 0x80000000u);
    CHECK(lmul_reduce_ref(std::numeric_limits<float>::max(), 4, false) == std::ldexp(1.9375f, 127));
    CHECK(lmul_reduce_ref(-kInf, 4, false) == -kInf);
    CHECK(std::isnan(lmul_reduce_ref(NAN, 4, true)));
  }

  TEST_CASE("fast operand reduction equals the reference bit for bit") {
    const auto xs = test::awkward_values(1 << 14, 3);
    std::vector<float> out(xs.size());
    for (int m : {1, 3, 4, 7, 22, 23})
      for (bool trunc : {false, true}) {
        lmul_reduce(xs.data(), 1, static_cast<int64_t>(xs.size()), 0, out.data(), m, trunc);
        int bad = 0;
        for (size_t i = 0; i < xs.size(); ++i)
          if (!same_bits(out[i], lmul_reduce_ref(xs[i], m, trunc)) && ++bad < 4)
            FAIL_CHECK("m=" << m << " trunc=" << trunc << " x=" << xs[i] << " fast=" << out[i]);
        CHECK(bad == 0);
      }
  }

  TEST_CASE("bits GEMM equals the product-by-product definition bit for bit") {
    const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63};
    for (int tt = 0; tt < 4; ++tt)
      for (int64_t M : sizes)
        for (int64_t N : sizes) {
          const int64_t K = (M * 7 + N * 3) % 40 + 1;
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(K);
          CAPTURE(tt);
          check_gemm(LMulVariant::bits, 4, tt & 1, tt & 2, (M + N) % 2 == 0, M, N, K, 0.1);
        }
    // Long K crosses the K-chunk boundary; dense and zero-free tiles; several m.
    for (int m : {1, 3, 4, 23}) {
      check_gemm(LMulVariant::bits, m, false, true, false, 65, 70, 600, 0.0);
      check_gemm(LMulVariant::bits, m, true, false, true, 13, 33, 300, 0.3);
    }
  }

  TEST_CASE("portable bits GEMM (the non-AVX-512 build's) equals the definition bit for bit") {
    for (int tt = 0; tt < 4; ++tt)
      for (int64_t M : {1, 5, 17})
        for (int64_t N : {1, 8, 33}) check_gemm(LMulVariant::bits, 3, tt & 1, tt & 2, tt == 1, M, N, 19, 0.2, true);
  }

  TEST_CASE("formula GEMM (one sgemm, inner dimension doubled) matches the definition") {
    const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63};
    for (int tt = 0; tt < 4; ++tt)
      for (int64_t M : sizes)
        for (int64_t N : {1, 3, 16, 17, 33}) {
          const int64_t K = (M * 5 + N) % 37 + 1;
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(tt);
          check_gemm(LMulVariant::formula, (M % 2) ? 3 : 5, tt & 1, tt & 2, N % 2 == 1, M, N, K, 0.1);
        }
    check_gemm(LMulVariant::formula, 23, false, false, false, 20, 20, 500, 0.0);
    // Large enough (M·N·K > 65536) for the split to run on several threads, in every layout.
    for (int tt = 0; tt < 4; ++tt) {
      CAPTURE(tt);
      check_gemm(LMulVariant::formula, 4, tt & 1, tt & 2, tt == 1, 40, 50, 61, 0.1);
    }
  }

  TEST_CASE("L-Mul GEMMs with NaN, Inf or out-of-range exponents follow the definition") {
    for (LMulVariant v : {LMulVariant::bits, LMulVariant::formula}) {
      const float A[4] = {1e30f, 2.0f, kInf, 0.0f};  // 2×2
      const float B[4] = {1e20f, 0.0f, 1.0f, NAN};
      float C[4], R[4];
      Gemm g{false, false, 2, 2, 2, A, 2, B, 2, C, 2, false};
      if (v == LMulVariant::bits)
        lmul_bits_gemm(g, 4);
      else
        lmul_formula_gemm(g, 4);
      Gemm r = g;
      r.C = R;
      lmul_gemm_ref(v, r, 4);
      for (int i = 0; i < 4; ++i) CHECK(same_bits(C[i], R[i]));
      CHECK(C[0] == kInf);
    }
  }

  TEST_CASE("lmul Multiplier reduces every role and spells its spec") {
    auto m = make_multiplier("lmul:m=3");
    CHECK(m->spec() == "lmul:m=3,variant=bits,round=rne");
    CHECK(make_multiplier("lmul:m=4,round=trunc,variant=formula")->spec() == "lmul:m=4,variant=formula,round=trunc");
    const float x[3] = {1.0f + 1.0f / 16, 3.3f, -1e-41f};
    float out[3];
    for (Role r : {Role::weight, Role::activation, Role::gradient}) {
      REQUIRE(m->quantize(r, x, 1, 3, 3, out));
      CHECK(out[0] == 1.0f);
      CHECK(out[1] == 3.25f);
      CHECK(bits(out[2]) == 0x80000000u);
    }
  }

  TEST_CASE("lmul spec errors name the option and its range") {
    CHECK_THROWS_WITH_AS(make_multiplier("lmul:m=0"),
                         doctest::Contains("'lmul:m=0': m=0 is out of range (allowed 1..23)"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("lmul:m=24"), doctest::Contains("allowed 1..23"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("lmul"), doctest::Contains("lmul needs m="), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("lmul:m=4,variant=fast"),
                         doctest::Contains("variant=fast is not allowed (choose bits|formula)"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("lmul:m=4,round=nearest"),
                         doctest::Contains("round=nearest is not allowed (choose rne|trunc)"), Error);
    CHECK_THROWS_WITH_AS(make_multiplier("lmul:m=4,mm=2"), doctest::Contains("unknown option 'mm'"), Error);
  }
}
