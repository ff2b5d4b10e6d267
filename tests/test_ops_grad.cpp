// Every differentiable op against finite differences. Each case prints the max error it saw.
#include <cmath>

#include <doctest/doctest.h>

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
}  // namespace

TEST_SUITE("ops.grad") {
  TEST_CASE("embedding gradient flows to token and position tables") {
    Rng rng(1);
    std::vector<int32_t> idx = {3, 1, 4, 1, 5, 0};  // B=2, T=3, id 1 repeated
    auto err = max_grad_error({random_tensor({6, 4}, rng), random_tensor({5, 4}, rng)},
                              [&](const auto& in) { return embedding(in[0], in[1], idx, 2, 3); });
    expect_small("embedding", err);
  }

  TEST_CASE("gather_rows gradient scatters back") {
    Rng rng(2);
    std::vector<int32_t> idx = {2, 2, 0};
    expect_small("gather_rows",
                 max_grad_error({random_tensor({3, 5}, rng)}, [&](const auto& in) { return gather_rows(in[0], idx); }));
  }

  TEST_CASE("add, mul, sum and mean gradients") {
    Rng rng(3);
    expect_small("add", max_grad_error({random_tensor({2, 3}, rng), random_tensor({2, 3}, rng)},
                                       [](const auto& in) { return add(in[0], in[1]); }));
    expect_small("mul", max_grad_error({random_tensor({2, 3}, rng), random_tensor({2, 3}, rng)},
                                       [](const auto& in) { return mul(in[0], in[1]); }));
    expect_small("sum", max_grad_error({random_tensor({4}, rng)}, [](const auto& in) { return sum(in[0]); }));
    expect_small("mean", max_grad_error({random_tensor({4}, rng)}, [](const auto& in) { return mean(in[0]); }));
  }

  TEST_CASE("linear gradient with and without bias (exact arithmetic)") {
    Rng rng(4);
    GemmSite site = GemmSite::exact();
    expect_small("linear+bias",
                 max_grad_error({random_tensor({2, 3, 5}, rng), random_tensor({4, 5}, rng), random_tensor({4}, rng)},
                                [&](const auto& in) { return linear(in[0], in[1], in[2], site); }));
    expect_small("linear", max_grad_error({random_tensor({3, 5}, rng), random_tensor({4, 5}, rng)},
                                          [&](const auto& in) { return linear(in[0], in[1], Tensor(), site); }));
  }

  TEST_CASE("matmul and bmm gradients for every transpose combination") {
    Rng rng(5);
    GemmSite site = GemmSite::exact();
    expect_small("matmul", max_grad_error({random_tensor({3, 4}, rng), random_tensor({4, 2}, rng)},
                                          [&](const auto& in) { return matmul(in[0], in[1], site); }));
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Shape sa = ta ? Shape{2, 4, 3} : Shape{2, 3, 4};
        Shape sb = tb ? Shape{2, 5, 4} : Shape{2, 4, 5};
        auto err = max_grad_error({random_tensor(sa, rng), random_tensor(sb, rng)},
                                  [&](const auto& in) { return bmm(in[0], in[1], ta, tb, site); });
        expect_small(ta ? (tb ? "bmm ta tb" : "bmm ta") : (tb ? "bmm tb" : "bmm"), err);
      }
  }

  TEST_CASE("head split, merge, transpose and reshape gradients") {
    Rng rng(6);
    expect_small("split_qkv_heads", max_grad_error({random_tensor({2, 3, 12}, rng)}, [](const auto& in) {
                   Heads h = split_qkv_heads(in[0], 2);
                   // weight the three outputs differently so a swapped q/k/v would show
                   return add(add(h.q, mul(h.k, h.k)), mul(mul(h.v, h.v), h.v));
                 }));
    expect_small("merge_heads",
                 max_grad_error({random_tensor({2, 2, 3, 2}, rng)}, [](const auto& in) { return merge_heads(in[0]); }));
    expect_small("transpose_last",
                 max_grad_error({random_tensor({2, 3, 4}, rng)}, [](const auto& in) { return transpose_last(in[0]); }));
    expect_small("reshape", max_grad_error({random_tensor({2, 6}, rng)}, [](const auto& in) {
                   return reshape(in[0], {3, 4});
                 }));
  }

  TEST_CASE("causal softmax gradient") {
    Rng rng(7);
    expect_small("causal_softmax", max_grad_error({random_tensor({3, 5, 5}, rng)},
                                                  [](const auto& in) { return causal_softmax(in[0], 0.7f); }));
  }

  TEST_CASE("layer norm gradient with and without bias") {
    Rng rng(8);
    expect_small("layer_norm+bias",
                 max_grad_error({random_tensor({4, 6}, rng), random_tensor({6}, rng), random_tensor({6}, rng)},
                                [](const auto& in) { return layer_norm(in[0], in[1], in[2]); }));
    expect_small("layer_norm", max_grad_error({random_tensor({4, 6}, rng), random_tensor({6}, rng)},
                                              [](const auto& in) { return layer_norm(in[0], in[1], Tensor()); }));
  }

  TEST_CASE("gelu gradient, exact and tanh") {
    Rng rng(9);
    expect_small("gelu", max_grad_error({random_tensor({20}, rng, 2.0f)}, [](const auto& in) { return gelu(in[0]); }));
    expect_small("gelu tanh",
                 max_grad_error({random_tensor({20}, rng, 2.0f)}, [](const auto& in) { return gelu(in[0], true); }));
  }

  TEST_CASE("relu gradient away from the kink, zero gradient below it") {
    Rng rng(11);
    Tensor x = random_tensor({40}, rng, 2.0f);
    int negatives = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {  // |x| >= 0.1: the finite difference (h = 1e-2) never crosses 0
      float& v = x.data()[i];
      if (std::fabs(v) < 0.1f) v = v < 0 ? v - 0.1f : v + 0.1f;
      negatives += v < 0;
    }
    REQUIRE(negatives > 5);
    REQUIRE(negatives < 35);
    expect_small("relu", max_grad_error({x}, [](const auto& in) { return relu(in[0]); }));
    Tensor y = relu(x);
    for (int64_t i = 0; i < x.numel(); ++i) CHECK(y.data()[i] == (x.data()[i] > 0 ? x.data()[i] : 0.0f));
  }

  TEST_CASE("dropout gradient uses the forward mask") {
    Rng rng(10);
    Rng drop(99);
    expect_small("dropout", max_grad_error({random_tensor({50}, rng)}, [&](const auto& in) {
                   Rng r = drop;  // same state every evaluation: same mask
                   return dropout(in[0], 0.3f, r);
                 }));
  }

  TEST_CASE("cross entropy gradient, with an ignored target") {
    Rng rng(11);
    std::vector<int32_t> y = {2, -1, 0, 4};
    expect_small("cross_entropy",
                 max_grad_error({random_tensor({4, 5}, rng)}, [&](const auto& in) { return cross_entropy(in[0], y); }));
  }
}
