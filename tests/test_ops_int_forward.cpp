// linear() with an integer forward (gemm=int of int and ternary): y is int8_linear's integer GEMM of
// the codes plus the bias, bit for bit against the scalar reference; the gradients are those of the
// same format with gemm=fp32, bit for bit (the backward multiplies the same quantised values); y is
// within the stated bound of the fp32 emulation (test_arith_int8_linear.cpp derives it).
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>
#include <vector>

#include "core/arith/int8_linear.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "grad_check.h"

using namespace lmul;
using lmul::testing::random_tensor;

namespace {
bool same_bits(const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i])) return false;
  return true;
}
}  // namespace

TEST_SUITE("ops.int_forward") {
  TEST_CASE("linear with gemm=int: y = integer GEMM of the codes + b; gradients as gemm=fp32") {
    struct Case {
      const char* int_spec;
      const char* fp32_spec;
    };
    const Case cases[] = {{"int:b=8,gemm=int", "int:b=8"},
                          {"int:b=8,gran=channel,gemm=int", "int:b=8,gran=channel"},
                          {"int:w=4,a=8,gran=channel,gemm=int", "int:w=4,a=8,gran=channel"},
                          {"ternary:gemm=int", "ternary"}};
    struct Shape {
      int64_t B, T, Cin, Cout;
    };
    const Shape shapes[] = {{3, 5, 97, 23}, {1, 7, 1536, 19}, {2, 9, 33, 65}};
    for (const Case& c : cases)
      for (const Shape& s : shapes) {
        const std::string name = c.int_spec;
        CAPTURE(name);
        CAPTURE(s.Cin);
        const int64_t N = s.B * s.T;
        Rng rng(5);
        Tensor x = random_tensor({s.B, s.T, s.Cin}, rng), w = random_tensor({s.Cout, s.Cin}, rng, 0.1f),
               b = random_tensor({s.Cout}, rng), dy = random_tensor({s.B, s.T, s.Cout}, rng, 1.0f, false);
        Tensor x2 = x.clone(), w2 = w.clone(), b2 = b.clone();
        for (Tensor* t : {&x2, &w2, &b2}) t->set_requires_grad(true);

        GemmSite int_site = GemmSite::make("int", {c.int_spec, "same"}, 1);
        GemmSite fp_site = GemmSite::make("fp32", {c.fp32_spec, "same"}, 1);
        Tensor y = linear(x, w, b, int_site);
        backward(sum(mul(y, dy)));
        Tensor y_fp = linear(x2, w2, b2, fp_site);
        backward(sum(mul(y_fp, dy)));

        // The reference: the format's codes, int64 sums, the epilogue, then + b[j] in fp32.
        auto fresh = arith::make_multiplier(c.int_spec);
        arith::Int8Codes xc, wc;
        fresh->int8_codes(arith::Role::activation, x.data(), N, s.Cin, s.Cin, xc);
        fresh->int8_codes(arith::Role::weight, w.data(), s.Cout, s.Cin, s.Cin, wc);
        std::vector<float> ref(static_cast<size_t>(N * s.Cout));
        arith::int8_linear_ref(xc, wc, N, s.Cout, s.Cin, ref.data(), s.Cout);
        for (int64_t i = 0; i < N; ++i)
          for (int64_t j = 0; j < s.Cout; ++j) ref[static_cast<size_t>(i * s.Cout + j)] += b.data()[j];
        CHECK(same_bits(y.data(), ref.data(), y.numel()));

        CHECK(same_bits(x.grad(), x2.grad(), x.numel()));
        CHECK(same_bits(w.grad(), w2.grad(), w.numel()));
        CHECK(same_bits(b.grad(), b2.grad(), b.numel()));

        // Close to the emulation: 2·(K + 6)·u·Σ_k|x_k w_k| over the quantised values, plus one rounding
        // of the bias sum on each side; not equal.
        std::vector<float> xq(static_cast<size_t>(x.numel())), wq(static_cast<size_t>(w.numel()));
        REQUIRE(fresh->quantize(arith::Role::activation, x.data(), N, s.Cin, s.Cin, xq.data()));
        REQUIRE(fresh->quantize(arith::Role::weight, w.data(), s.Cout, s.Cin, s.Cin, wq.data()));
        double max_err = 0.0;
        for (int64_t i = 0; i < N; ++i)
          for (int64_t j = 0; j < s.Cout; ++j) {
            double mag = 0.0;
            for (int64_t k = 0; k < s.Cin; ++k)
              mag += std::fabs(double{xq[static_cast<size_t>(i * s.Cin + k)]} * wq[static_cast<size_t>(j * s.Cin + k)]);
            const int64_t e = i * s.Cout + j;
            const double err = std::fabs(double{y.data()[e]} - y_fp.data()[e]);
            max_err = std::max(max_err, err);
            CHECK(err <= 2.0 * static_cast<double>(s.Cin + 6) * 0x1p-24 * mag +
                             2.0 * 0x1p-24 * (std::fabs(y_fp.data()[e]) + std::fabs(b.data()[j])));
          }
        CHECK(max_err > 0.0);  // the semantics differ: the test would not notice a fallback to sgemm

        // Without gradients the forward skips the dequantised operands and gives the same y.
        NoGrad guard;
        Tensor y_eval = linear(x, w, b, int_site);
        CHECK(same_bits(y_eval.data(), y.data(), y.numel()));
      }
  }
}
