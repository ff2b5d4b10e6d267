// Every op's backward accumulates into a gradient that is already there (tied weights, gradient
// accumulation over micro-batches, a tensor used twice): with x.grad = G0 before backward, after
// it x.grad = G0 + g, where g is what a fresh backward (no gradient before) produces. Several ops
// write instead of add when the gradient is fresh (Tensor::grad_for_write), so both paths of each
// are run. One row per op of core/ops.h, and per quantised GEMM site kind.
//
// Tolerance: |x.grad − (G0 + g)| ≤ 4·u·(|G0| + |g| + max|g|), u = 2⁻²⁴, max over the input. The
// elementwise ops compute the same g and add it once, which is exact to the last bit (one rounding
// of G0 + g, as the reference does); a GEMM may add its partial sums into C one block at a time,
// and layer_norm adds one partial sum per thread into dweight / dbias, a few more roundings, each
// of the size of the running sum: |G0| plus partial sums that are as large as the gradient's
// scale (max|g|) even where the element itself cancels to near zero. An op that overwrote the old
// gradient, or dropped the new one, is off by |G0| or |g|, ~10⁵ times the tolerance.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/autograd.h"
#include "core/ops.h"
#include "grad_check.h"
#include "worst_error.h"

using namespace lmul;
using lmul::testing::random_tensor;
using lmul::testing::worse;

namespace {

struct OpCase {
  std::string name;
  std::vector<Shape> inputs;  // each requires a gradient
  std::function<Tensor(const std::vector<Tensor>&)> f;
};

// Runs f's backward with L = Σ out·R twice, once from no gradient and once from G0; checks every
// input's accumulated gradient element by element, returns the worst |error| / tolerance.
double check_accumulates(const OpCase& c) {
  Rng rng(31);
  std::vector<Tensor> in;
  for (const Shape& s : c.inputs) in.push_back(random_tensor(s, rng));
  Tensor R;
  auto run_backward = [&] {
    Tensor out = c.f(in);
    if (!R.defined()) R = random_tensor(out.shape(), rng, 1.0f, false);
    backward(sum(mul(out, R)));
  };

  run_backward();
  std::vector<std::vector<float>> fresh;
  for (const Tensor& t : in) {
    CHECK(t.has_grad());  // not REQUIRE: the other rows of the table still run
    if (!t.has_grad()) return INFINITY;
    fresh.emplace_back(t.grad(), t.grad() + t.numel());
  }

  std::vector<std::vector<float>> old;
  for (const Tensor& t : in) {
    Tensor g0 = random_tensor(t.shape(), rng, 1.0f, false);
    old.emplace_back(g0.data(), g0.data() + g0.numel());
    std::copy(old.back().begin(), old.back().end(), t.grad());
  }
  run_backward();

  double worst = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    CAPTURE(k);
    double largest_new = 0;
    for (float g : fresh[k]) largest_new = std::max(largest_new, static_cast<double>(std::abs(g)));
    CHECK(largest_new > 0.0);  // the op does send a gradient to this input
    for (size_t e = 0; e < fresh[k].size(); ++e) {
      const double g0 = old[k][e], g = fresh[k][e];
      const double tolerance = 4.0 * 0x1p-24 * (std::abs(g0) + std::abs(g) + largest_new);
      worst = worse(worst, std::abs(in[k].grad()[e] - (g0 + g)) / tolerance);
    }
  }
  return worst;
}

}  // namespace

TEST_SUITE("ops.grad") {
  TEST_CASE("every op's backward adds to an existing gradient: old + new") {
    GemmSite exact = GemmSite::exact();
    GemmSite int4_same = GemmSite::make("int4", {"int:b=4", "same"}, 1);
    GemmSite fp8_same = GemmSite::make("fp8", {"fp8:hybrid,scale=current", "same"}, 1);
    GemmSite int4_exact = GemmSite::make("int4 exact", {"int:b=4,gran=channel", "exact"}, 1);
    GemmSite int4_e5m2 = GemmSite::make("int4 e5m2", {"int:b=4", "fp8:e5m2,scale=current"}, 1);
    auto ste_int4 = arith::make_multiplier("int:b=4,gran=channel");
    const Rng drop(99);
    const std::vector<int32_t> ids = {3, 1, 4, 1, 5, 0};  // B=2, T=3, id 1 twice
    const std::vector<int32_t> targets = {2, -1, 0, 4};

    std::vector<OpCase> cases = {
        {"embedding", {{6, 4}, {5, 4}}, [&](const auto& in) { return embedding(in[0], in[1], ids, 2, 3); }},
        {"gather_rows", {{6, 4}}, [&](const auto& in) { return gather_rows(in[0], ids); }},
        {"add", {{2, 3}, {2, 3}}, [](const auto& in) { return add(in[0], in[1]); }},
        {"mul", {{2, 3}, {2, 3}}, [](const auto& in) { return mul(in[0], in[1]); }},
        {"sum", {{7}}, [](const auto& in) { return sum(in[0]); }},
        {"mean", {{7}}, [](const auto& in) { return mean(in[0]); }},
        {"quantize_ste int:b=4,gran=channel",
         {{3, 5}},
         [&](const auto& in) { return quantize_ste(in[0], *ste_int4, arith::Role::weight); }},
        {"split_qkv_heads",
         {{2, 3, 12}},
         [](const auto& in) {
           Heads h = split_qkv_heads(in[0], 2);
           return add(add(h.q, mul(h.k, h.k)), h.v);
         }},
        {"merge_heads", {{2, 2, 3, 2}}, [](const auto& in) { return merge_heads(in[0]); }},
        {"transpose_last", {{2, 3, 4}}, [](const auto& in) { return transpose_last(in[0]); }},
        {"reshape",
         {{2, 6}},
         [](const auto& in) {
           return reshape(in[0], {3, 4});
         }},
        {"causal_softmax", {{2, 4, 4}}, [](const auto& in) { return causal_softmax(in[0], 0.7f); }},
        {"layer_norm", {{4, 6}, {6}, {6}}, [](const auto& in) { return layer_norm(in[0], in[1], in[2]); }},
        {"layer_norm without bias", {{4, 6}, {6}}, [](const auto& in) { return layer_norm(in[0], in[1], Tensor()); }},
        {"gelu", {{20}}, [](const auto& in) { return gelu(in[0]); }},
        {"gelu tanh", {{20}}, [](const auto& in) { return gelu(in[0], true); }},
        {"dropout",
         {{50}},
         [&](const auto& in) {
           Rng r = drop;  // the same mask in both backward runs
           return dropout(in[0], 0.3f, r);
         }},
        {"cross_entropy", {{4, 5}}, [&](const auto& in) { return cross_entropy(in[0], targets); }},
        {"matmul", {{3, 4}, {4, 2}}, [&](const auto& in) { return matmul(in[0], in[1], exact); }},
        {"one_minus", {{7}}, [](const auto& in) { return one_minus(in[0]); }},
        {"sigmoid", {{20}}, [](const auto& in) { return sigmoid(in[0]); }},
        {"silu", {{20}}, [](const auto& in) { return silu(in[0]); }},
        {"swiglu", {{3, 8}}, [](const auto& in) { return swiglu(in[0]); }},
        {"rms_norm", {{4, 6}, {6}}, [](const auto& in) { return rms_norm(in[0], in[1], 1e-6f); }},
        {"linear_recurrence",
         {{2, 4, 3}, {2, 4, 3}, {2, 3}},
         [](const auto& in) { return linear_recurrence(in[0], in[1], in[2]); }},
        {"lower_bounds", {{3, 4}}, [](const auto& in) { return lower_bounds(in[0]); }},
        {"forget_gate", {{5, 4}, {3, 4}}, [](const auto& in) { return forget_gate(in[0], in[1], 2); }},
    };
    for (GemmSite* site : {&exact, &int4_same, &fp8_same, &int4_exact, &int4_e5m2}) {
      const std::string arith =
          site->forward->spec() + " backward=" + (site->backward_same ? "same" : site->backward->spec());
      cases.push_back({"linear+bias " + arith, {{2, 3, 5}, {4, 5}, {4}}, [site](const auto& in) {
                         return linear(in[0], in[1], in[2], *site);
                       }});
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          cases.push_back({fmt::format("bmm{}{} {}", ta ? " ta" : "", tb ? " tb" : "", arith),
                           {ta ? Shape{2, 4, 3} : Shape{2, 3, 4}, tb ? Shape{2, 5, 4} : Shape{2, 4, 5}},
                           [site, ta, tb](const auto& in) { return bmm(in[0], in[1], ta, tb, *site); }});
    }

    double worst = 0;
    for (const OpCase& c : cases) {
      CAPTURE(c.name);
      const double e = check_accumulates(c);
      CHECK(e <= 1.0);
      worst = worse(worst, e);
    }
    MESSAGE(fmt::format("{} op cases accumulate: worst |grad − (old + new)| / tolerance {:.3f}", cases.size(), worst));
  }
}
