#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>

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

  TEST_CASE("clipping inside AdamW's pass updates bit for bit as clip_grad_norm then step") {
    for (float max_norm : {0.5f, 100.0f, 0.0f}) {
      CAPTURE(max_norm);
      auto make = [] {
        return Parameters{{"w", Tensor::full({3, 37}, 0.3f, true), true},
                          {"b", Tensor::full({37}, -0.2f, true), false}};
      };
      auto set_grads = [](Parameters& ps, int step) {  // a fresh gradient every step, as backward
        for (auto& p : ps) {
          float* g = p.value.grad();
          for (int64_t j = 0; j < p.value.numel(); ++j) g[j] = std::sin(0.7f * static_cast<float>(j + step)) * 0.3f;
        }
      };
      Parameters a = make(), b = make();
      optim::AdamW oa(a, {}), ob(b, {});
      for (int step = 0; step < 3; ++step) {
        set_grads(a, step);
        set_grads(b, step);
        const float na = optim::clip_grad_norm(a, max_norm);
        oa.step(1e-2f);
        const float nb = optim::grad_norm(b);
        ob.step(1e-2f, optim::clip_coefficient(nb, max_norm));
        CHECK(std::bit_cast<uint32_t>(na) == std::bit_cast<uint32_t>(nb));
        for (size_t i = 0; i < a.size(); ++i)
          for (int64_t j = 0; j < a[i].value.numel(); ++j)
            CHECK(std::bit_cast<uint32_t>(a[i].value.data()[j]) == std::bit_cast<uint32_t>(b[i].value.data()[j]));
      }
      if (max_norm == 0.5f) CHECK(optim::clip_coefficient(10.0f, max_norm) < 1.0f);
    }
  }

  TEST_CASE("the gradient norm counts every parameter that has a gradient") {
    Parameters ps = {{"a", Tensor::zeros({2}, true), false},
                     {"b", Tensor::zeros({19}, true), false},
                     {"none", Tensor::zeros({4}, true), false}};
    ps[0].value.grad()[0] = 3;
    ps[1].value.grad()[18] = 4;  // past the 8-wide partial sums
    CHECK(optim::grad_norm(ps) == doctest::Approx(5.0));
    CHECK(!ps[2].value.has_grad());
    CHECK(optim::clip_coefficient(5.0f, 1.0f) == doctest::Approx(0.2));
    CHECK(optim::clip_coefficient(5.0f, 10.0f) == 1.0f);
    CHECK(optim::clip_coefficient(5.0f, 0.0f) == 1.0f);
  }
}
