// Forward values of the ops against plain definitions.
#include <doctest/doctest.h>

#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "grad_check.h"

using namespace lmul;

TEST_SUITE("ops") {
  TEST_CASE("causal softmax rows sum to one and are zero above the diagonal") {
    Rng rng(1);
    Tensor a = lmul::testing::random_tensor({2, 4, 4}, rng, 3.0f, false);
    Tensor p = causal_softmax(a, 0.5f);
    for (int64_t r = 0; r < 8; ++r) {
      double s = 0;
      for (int64_t j = 0; j < 4; ++j) {
        s += p.data()[r * 4 + j];
        if (j > r % 4) CHECK(p.data()[r * 4 + j] == 0.0f);
      }
      CHECK(s == doctest::Approx(1.0).epsilon(1e-6));
    }
  }

  TEST_CASE("cross entropy of uniform logits is log V") {
    Tensor logits = Tensor::zeros({3, 65});
    std::vector<int32_t> y = {0, 7, 64};
    CHECK(cross_entropy(logits, y).item() == doctest::Approx(std::log(65.0)).epsilon(1e-6));
  }

  TEST_CASE("layer norm output has zero mean and unit variance per row") {
    Rng rng(2);
    Tensor x = lmul::testing::random_tensor({3, 16}, rng, 5.0f, false);
    Tensor y = layer_norm(x, Tensor::full({16}, 1.0f), Tensor());
    for (int64_t i = 0; i < 3; ++i) {
      double m = 0, v = 0;
      for (int64_t c = 0; c < 16; ++c) m += y.data()[i * 16 + c];
      m /= 16;
      for (int64_t c = 0; c < 16; ++c) v += std::pow(y.data()[i * 16 + c] - m, 2);
      CHECK(m == doctest::Approx(0).epsilon(1e-5));
      CHECK(v / 16 == doctest::Approx(1).epsilon(1e-3));
    }
  }

  TEST_CASE("dropout keeps about 1-p of the values, scaled, and is deterministic for a seed") {
    Tensor x = Tensor::full({10000}, 1.0f);
    Rng a(5), b(5);
    Tensor ya = dropout(x, 0.2f, a), yb = dropout(x, 0.2f, b);
    int kept = 0;
    for (int64_t i = 0; i < 10000; ++i) {
      CHECK(ya.data()[i] == yb.data()[i]);
      if (ya.data()[i] != 0) {
        ++kept;
        CHECK(ya.data()[i] == doctest::Approx(1.25f));
      }
    }
    CHECK(kept > 7800);
    CHECK(kept < 8200);
  }

  TEST_CASE("ops name the op and the shapes on bad input") {
    GemmSite site = GemmSite::exact();
    CHECK_THROWS_WITH_AS(linear(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}), Tensor(), site),
                         doctest::Contains("[linear]"), Error);
    std::vector<int32_t> y = {70};
    CHECK_THROWS_WITH_AS(cross_entropy(Tensor::zeros({1, 65}), y), doctest::Contains("out of range"), Error);
    std::vector<int32_t> idx = {9};
    CHECK_THROWS_WITH_AS(embedding(Tensor::zeros({5, 2}), Tensor::zeros({4, 2}), idx, 1, 1),
                         doctest::Contains("[embedding] token id 9"), Error);
  }

  TEST_CASE("no tape is recorded under NoGrad") {
    Tensor w = Tensor::full({2, 2}, 1.0f, true);
    {
      NoGrad ng;
      Tensor y = add(w, w);
      CHECK(tape_size() == 0);
    }
    Tensor y = add(w, w);
    CHECK(tape_size() == 1);
    clear_tape();
  }
}
