// The MatMul-free LM's ops (core/ops: sigmoid, silu, swiglu, rms_norm, one_minus,
// linear_recurrence, lower_bounds, forget_gate): forward values against their definitions written
// out in plain loops, gradients against finite differences. Each gradient case prints its error.
#include <cmath>

#include <doctest/doctest.h>

#include "core/error.h"
#include "core/ops.h"
#include "grad_check.h"

using namespace lmul;
using lmul::testing::max_grad_error;
using lmul::testing::random_tensor;

namespace {
void expect_small(const char* name, double err, double tol = 2e-3) {
  MESSAGE(fmt::format("{}: max relative gradient error {:.2e}", name, err));
  CHECK(err < tol);
}
Tensor uniform_tensor(const Shape& s, Rng& rng, float lo, float hi) {
  Tensor t(s, true);
  for (float& v : t.values()) v = lo + (hi - lo) * static_cast<float>(rng.uniform());
  return t;
}
}  // namespace

TEST_SUITE("ops.matmulfree") {
  TEST_CASE("sigmoid and silu forward match their formulas, including large |x|") {
    Tensor x = Tensor::from({6}, std::vector<float>{-100.0f, -3.0f, -0.5f, 0.0f, 2.0f, 100.0f});
    Tensor s = sigmoid(x), u = silu(x);
    for (int i = 0; i < 6; ++i) {
      const double v = x.data()[i], ref = 1.0 / (1.0 + std::exp(-v));
      CHECK(s.data()[i] == doctest::Approx(ref).epsilon(1e-6));
      CHECK(u.data()[i] == doctest::Approx(v * ref).epsilon(1e-6));
      CHECK(std::isfinite(s.data()[i]));
    }
    CHECK(s.data()[3] == 0.5f);
  }

  TEST_CASE("swiglu is silu of the first half times the second half") {
    Rng rng(3);
    Tensor x = random_tensor({2, 3, 8}, rng, 1.0f, false);
    Tensor y = swiglu(x);
    REQUIRE(y.shape() == Shape{2, 3, 4});
    for (int64_t r = 0; r < 6; ++r)
      for (int64_t j = 0; j < 4; ++j) {
        const double u = x.data()[r * 8 + j], v = x.data()[r * 8 + 4 + j];
        CHECK(y.data()[r * 4 + j] == doctest::Approx(u / (1 + std::exp(-u)) * v).epsilon(1e-5));
      }
    CHECK_THROWS_WITH_AS(swiglu(Tensor::zeros({2, 5})), doctest::Contains("[swiglu]"), Error);
  }

  TEST_CASE("rms_norm divides by the root mean square, with eps inside the root") {
    Tensor x = Tensor::from({2, 2}, std::vector<float>{3.0f, 4.0f, 0.0f, 0.0f});
    Tensor w = Tensor::from({2}, std::vector<float>{1.0f, 2.0f});
    Tensor y = rms_norm(x, w, 1e-6f);
    const double r = std::sqrt(12.5 + 1e-6);
    CHECK(y.data()[0] == doctest::Approx(3.0 / r).epsilon(1e-6));
    CHECK(y.data()[1] == doctest::Approx(8.0 / r).epsilon(1e-6));
    CHECK(y.data()[2] == 0.0f);  // a zero row stays zero (eps keeps it finite)
    CHECK(y.data()[3] == 0.0f);
  }

  TEST_CASE("linear_recurrence equals h_t = f_t·h_{t-1} + c_t and carries its state") {
    Rng rng(4);
    const int64_t B = 2, T = 5, C = 3;
    Tensor f = uniform_tensor({B, T, C}, rng, 0.0f, 1.0f), c = random_tensor({B, T, C}, rng);
    Tensor h0 = random_tensor({B, C}, rng);
    Tensor last;
    Tensor h = linear_recurrence(f, c, h0, &last);
    // Each step from the op's own h_{t-1}: one multiply and one add, rounded twice or fused into
    // one FMA (the compiler may contract either, and differently at -O2 and -O3) — nothing else.
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < C; ++k) {
        float prev = h0.data()[b * C + k];
        for (int64_t t = 0; t < T; ++t) {
          const int64_t i = (b * T + t) * C + k;
          volatile float product = f.data()[i] * prev;  // volatile: rounded, never fused
          const float separate = product + c.data()[i], fused = std::fma(f.data()[i], prev, c.data()[i]);
          CHECK((h.data()[i] == separate || h.data()[i] == fused));
          prev = h.data()[i];
        }
        CHECK(last.data()[b * C + k] == prev);
      }
    // Splitting the sequence and passing the state on gives the same h (generation relies on it).
    Tensor f1({B, 2, C}), c1({B, 2, C}), f2({B, 3, C}), c2({B, 3, C});
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t k = 0; k < C; ++k) {
          const int64_t i = (b * T + t) * C + k;
          Tensor& fs = t < 2 ? f1 : f2;
          Tensor& cs = t < 2 ? c1 : c2;
          const int64_t tt = t < 2 ? t : t - 2, TT = t < 2 ? 2 : 3;
          fs.data()[(b * TT + tt) * C + k] = f.data()[i];
          cs.data()[(b * TT + tt) * C + k] = c.data()[i];
        }
    Tensor mid;
    linear_recurrence(f1, c1, h0, &mid);
    Tensor h2 = linear_recurrence(f2, c2, mid);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < 3; ++t)
        for (int64_t k = 0; k < C; ++k) CHECK(h2.data()[(b * 3 + t) * C + k] == h.data()[(b * T + t + 2) * C + k]);
  }

  TEST_CASE("lower_bounds start at l/L and run from 0 to 1 - s_0") {
    Tensor p = Tensor::zeros({4, 3}, true);
    Tensor lb = lower_bounds(p);
    for (int64_t l = 0; l < 4; ++l)
      for (int64_t k = 0; k < 3; ++k) CHECK(lb.data()[l * 3 + k] == doctest::Approx(l / 4.0).epsilon(1e-6));
    Rng rng(5);
    Tensor q = random_tensor({3, 2}, rng);
    Tensor m = lower_bounds(q);
    for (int64_t k = 0; k < 2; ++k) {
      double z = 0;
      for (int64_t l = 0; l < 3; ++l) z += std::exp(q.data()[l * 2 + k]);
      CHECK(m.data()[k] == 0.0f);
      CHECK(m.data()[2 * 2 + k] == doctest::Approx(1.0 - std::exp(q.data()[k]) / z).epsilon(1e-5));
    }
    Tensor gate = Tensor::from({1, 3}, std::vector<float>{0.0f, 0.5f, 1.0f});
    Tensor f = forget_gate(gate, lb, 2);  // lb_2 = 0.5
    CHECK(f.data()[0] == 0.5f);
    CHECK(f.data()[1] == 0.75f);
    CHECK(f.data()[2] == 1.0f);
    CHECK_THROWS_WITH_AS(forget_gate(gate, lb, 4), doctest::Contains("[forget_gate]"), Error);
  }

  TEST_CASE("gradients of the MatMul-free ops against finite differences") {
    Rng rng(6);
    expect_small("sigmoid",
                 max_grad_error({random_tensor({3, 5}, rng, 2.0f)}, [](const auto& in) { return sigmoid(in[0]); }));
    expect_small("silu",
                 max_grad_error({random_tensor({3, 5}, rng, 2.0f)}, [](const auto& in) { return silu(in[0]); }));
    expect_small("swiglu",
                 max_grad_error({random_tensor({2, 3, 6}, rng)}, [](const auto& in) { return swiglu(in[0]); }));
    expect_small("one_minus",
                 max_grad_error({random_tensor({4}, rng)}, [](const auto& in) { return one_minus(in[0]); }));
    expect_small("rms_norm", max_grad_error({random_tensor({3, 6}, rng), random_tensor({6}, rng)},
                                            [](const auto& in) { return rms_norm(in[0], in[1], 1e-6f); }));
    // f in (0, 1) as the gate is; a long enough T that the gradient runs back through several steps.
    expect_small(
        "linear_recurrence",
        max_grad_error(
            {uniform_tensor({2, 6, 3}, rng, 0.1f, 0.9f), random_tensor({2, 6, 3}, rng), random_tensor({2, 3}, rng)},
            [](const auto& in) { return linear_recurrence(in[0], in[1], in[2]); }, 1e-2f));
    expect_small("linear_recurrence without h0",
                 max_grad_error({uniform_tensor({1, 7, 2}, rng, 0.1f, 0.9f), random_tensor({1, 7, 2}, rng)},
                                [](const auto& in) { return linear_recurrence(in[0], in[1]); }));
    expect_small("lower_bounds",
                 max_grad_error({random_tensor({4, 3}, rng)}, [](const auto& in) { return lower_bounds(in[0]); }));
    expect_small("forget_gate from lower_bounds",
                 max_grad_error({uniform_tensor({5, 3}, rng, 0.0f, 1.0f), random_tensor({3, 3}, rng)},
                                [](const auto& in) { return forget_gate(in[0], lower_bounds(in[1]), 1); }));
  }
}
