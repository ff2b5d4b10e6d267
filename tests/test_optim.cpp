#include <doctest/doctest.h>

#include <cmath>

#include "optim/adamw.h"

using namespace lmul;

TEST_SUITE("optim") {
TEST_CASE("learning rate: linear warmup, cosine to min_lr, then min_lr (nanoGPT get_lr)") {
  optim::LrSchedule s{1e-3f, 1e-4f, 100, 2000, true};
  CHECK(s.at(0) == doctest::Approx(1e-3 * 1 / 101));
  CHECK(s.at(99) == doctest::Approx(1e-3 * 100 / 101));
  CHECK(s.at(100) == doctest::Approx(1e-3));
  CHECK(s.at(1050) == doctest::Approx(1e-4 + 0.5 * (1e-3 - 1e-4)));
  CHECK(s.at(2000) == doctest::Approx(1e-4));
  CHECK(s.at(5000) == doctest::Approx(1e-4));
  s.decay = false;
  CHECK(s.at(5000) == doctest::Approx(1e-3));
}

TEST_CASE("AdamW first step moves each weight by lr against the gradient sign, decays only ≥2-D") {
  Parameters ps = {{"w", Tensor::full({2, 2}, 1.0f, true), true}, {"b", Tensor::full({2}, 1.0f, true), false}};
  for (float& g : ps[0].value.grad_values()) g = 0.5f;
  for (float& g : ps[1].value.grad_values()) g = -2.0f;
  optim::AdamW opt(ps, {0.9f, 0.99f, 1e-8f, 0.1f});
  opt.step(0.01f);
  // step 1: m̂ = g, v̂ = g², update = lr·g/(|g|+eps) = ±lr; decay 1 - lr·wd on w only
  CHECK(ps[0].value.data()[0] == doctest::Approx(1.0 * (1 - 0.001) - 0.01).epsilon(1e-6));
  CHECK(ps[1].value.data()[0] == doctest::Approx(1.0 + 0.01).epsilon(1e-6));
}

TEST_CASE("gradient clipping scales to max_norm and returns the norm before") {
  Parameters ps = {{"a", Tensor::zeros({2}, true), false}};
  ps[0].value.grad()[0] = 3;
  ps[0].value.grad()[1] = 4;
  CHECK(optim::clip_grad_norm(ps, 1.0f) == doctest::Approx(5.0));
  CHECK(ps[0].value.grad()[0] == doctest::Approx(0.6).epsilon(1e-5));
  CHECK(optim::clip_grad_norm(ps, 10.0f) == doctest::Approx(1.0).epsilon(1e-5));  // no change below
  CHECK(ps[0].value.grad()[1] == doctest::Approx(0.8).epsilon(1e-5));
}
}
