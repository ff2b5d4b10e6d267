// The quantised paths of backward, op by op: the straight-through quantiser, and linear / bmm
// whose gradients must be the exact products of the operands the arithmetic quantised —
// dx = Q'(dy)·W2, dw = Q'(dy)ᵀ·X2 (W2, X2 = Q(w), Q(x) for backward=same|exact, requantised by
// the backward arithmetic for backward=SPEC), see core/ops/linear.cpp. The references quantise
// with fresh instances of the formats (their quantize() is the definition) and multiply in double.
//
// Tolerance of a GEMM element: fp32 summation of K products, in any order and with or without
// FMA, errs by at most γ_{K+1}·Σ|a||b| ≈ (K+1)·2⁻²⁴·Σ|a||b| (Higham, Accuracy and Stability of
// Numerical Algorithms, §3.1); the tests allow twice that. A wrong operand (w instead of Q(w), an
// unquantised gradient) moves an element by a quantisation step, ~10⁻² relative for 4-bit
// formats, four orders of magnitude above the bound at K ≤ 8.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <limits>
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

constexpr double kU = 0x1p-24;  // unit roundoff of fp32

using Values = std::vector<float>;

Values values_of(const Tensor& t) { return {t.data(), t.data() + t.numel()}; }
Values grad_of(const Tensor& t) {
  REQUIRE(t.has_grad());
  return {t.grad(), t.grad() + t.numel()};
}

// x (rows×cols) as m quantises it in role, or x itself when m takes fp32 as it is.
Values quantized(arith::Multiplier& m, arith::Role role, const Values& x, int64_t rows, int64_t cols) {
  Values q(x.size());
  if (!m.quantize(role, x.data(), rows, cols, cols, q.data())) return x;
  return q;
}

// (r×c) → (c×r)
template <class T>
std::vector<T> transposed(const std::vector<T>& a, int64_t r, int64_t c) {
  std::vector<T> t(a.size());
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) t[static_cast<size_t>(j * r + i)] = a[static_cast<size_t>(i * c + j)];
  return t;
}

// C = A (M×K) · B (K×N) in double, with Σ_k |a||b| per element for the error bound.
struct Product {
  std::vector<double> c, magnitude;
  int64_t K = 0;
};
Product product(const Values& A, const Values& B, int64_t M, int64_t K, int64_t N) {
  Product p{std::vector<double>(static_cast<size_t>(M * N)), std::vector<double>(static_cast<size_t>(M * N)), K};
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0, m = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double t = static_cast<double>(A[static_cast<size_t>(i * K + k)]) * B[static_cast<size_t>(k * N + j)];
        s += t;
        m += std::abs(t);
      }
      p.c[static_cast<size_t>(i * N + j)] = s;
      p.magnitude[static_cast<size_t>(i * N + j)] = m;
    }
  return p;
}

Product transposed(const Product& p, int64_t r, int64_t c) {
  return {transposed(p.c, r, c), transposed(p.magnitude, r, c), p.K};
}

// Batch items one after the other (same K).
void append(Product& all, const Product& item) {
  all.c.insert(all.c.end(), item.c.begin(), item.c.end());
  all.magnitude.insert(all.magnitude.end(), item.magnitude.begin(), item.magnitude.end());
  all.K = item.K;
}

// Every element of ours within 2·γ_{K+1}·Σ|a||b| of the exact product; returns the worst
// |error| / bound.
double check_product(const char* what, const Values& ours, const Product& ref) {
  INFO(what);
  REQUIRE(ours.size() == ref.c.size());
  double worst = 0;  // |error| / bound
  for (size_t i = 0; i < ours.size(); ++i) {
    const double bound = 2.0 * static_cast<double>(ref.K + 1) * kU * ref.magnitude[i] + 1e-30;
    worst = worse(worst, std::abs(ours[i] - ref.c[i]) / bound);
  }
  CHECK(worst <= 1.0);
  return worst;
}

// Largest |a − b| over |b|'s scale: shows that quantisation moved a product far beyond the bound,
// so that matching the quantised reference says something.
double relative_distance(const Values& a, const std::vector<double>& b) {
  double d = 0, s = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    d = worse(d, std::abs(a[i] - b[i]));
    s = std::max(s, std::abs(b[i]));
  }
  return d / s;
}

// The reference arithmetics of a site: fresh instances of its forward and backward specs.
struct ReferenceSite {
  std::unique_ptr<arith::Multiplier> forward, backward;
  bool same;
  explicit ReferenceSite(const GemmSite::Specs& s)
      : forward(arith::make_multiplier(s.forward)),
        backward(arith::make_multiplier(s.backward == "same" ? s.forward : s.backward)),
        same(s.backward == "same" || s.backward == s.forward) {}
  // The operand the backward GEMMs use: forward's Q(x) as it is, or requantised by backward.
  Values backward_operand(arith::Role role, const Values& q, int64_t rows, int64_t cols) {
    return same ? q : quantized(*backward, role, q, rows, cols);
  }
};

struct SiteCase {
  const char* forward;
  const char* backward;
};

// Every kind of backward: same (the gradient in the forward format, or fp32 where the format keeps
// gradients fp32), exact (fp32 gradient against the forward's quantised operands), and another spec
// (operands requantised, gradient in that spec).
constexpr SiteCase kLinearCases[] = {
    {"int:b=4", "same"},                    // int4 weights and activations, fp32 dy
    {"int:b=4,gran=channel", "exact"},      // per output channel / per token scales
    {"pot:b=4", "same"},                    // power-of-two weights only
    {"fp8:e4m3,scale=current", "same"},     // dy in E4M3 as well
    {"fp8:hybrid,scale=current", "same"},   // dy in E5M2
    {"fp8:hybrid,scale=current", "exact"},  // dy fp32
    {"int:b=4", "fp8:e5m2,scale=current"},  // int4 operands requantised to E5M2
};

constexpr SiteCase kBmmCases[] = {
    {"int:b=4", "same"},
    {"int:b=4,gran=channel", "exact"},
    {"fp8:e4m3,scale=current", "same"},
    {"fp8:hybrid,scale=current", "exact"},
    {"int:b=4", "fp8:e5m2,scale=current"},
};

}  // namespace

TEST_SUITE("ops.grad") {
  TEST_CASE("quantize_ste: forward is the format's quantize(), gradient = upstream × a mask of ones") {
    // The STE here is the identity (not a clipped STE): saturated values pass their gradient too.
    struct Case {
      std::string spec;
      arith::Role role;
    };
    const Case cases[] = {{"int:b=4,gran=channel", arith::Role::weight},
                          {"int:b=3", arith::Role::activation},
                          {"pot:b=3", arith::Role::weight},
                          {"fp8:e4m3,scale=none", arith::Role::activation},  // 1000 saturates to 448
                          {"fp8:hybrid,scale=current", arith::Role::gradient}};
    const Values x0 = {-1000.0f, -3.0f, -0.01f, 0.0f, 1e-9f, 0.3f, 447.0f, 460.0f, 1000.0f, 2.5f, -0.7f, 7.0f};
    for (const Case& c : cases) {
      CAPTURE(c.spec);
      Tensor x = Tensor::from({3, 4}, x0, true);
      auto m = arith::make_multiplier(c.spec);
      Tensor q = quantize_ste(x, *m, c.role);
      const Values expected = quantized(*arith::make_multiplier(c.spec), c.role, x0, 3, 4);
      int moved = 0;
      for (size_t i = 0; i < x0.size(); ++i) {
        CHECK(std::bit_cast<uint32_t>(q.data()[i]) == std::bit_cast<uint32_t>(expected[i]));
        moved += expected[i] != x0[i];
      }
      CHECK(moved > 0);  // the quantiser did something, so the pass-through is not a plain identity op

      Rng rng(3);
      Tensor upstream = random_tensor({3, 4}, rng, 1.0f, false);
      backward(sum(mul(q, upstream)));
      for (size_t i = 0; i < x0.size(); ++i)
        CHECK(std::bit_cast<uint32_t>(x.grad()[i]) == std::bit_cast<uint32_t>(upstream.data()[i]));
    }
  }

  TEST_CASE("quantize_ste where the arithmetic takes the role in fp32 returns its input, records nothing") {
    struct Case {
      std::string spec;
      arith::Role role;
    };
    // exact: every role; pot: activations stay fp32; int: gradients stay fp32
    for (const Case& c : {Case{"exact", arith::Role::weight}, Case{"pot:b=4", arith::Role::activation},
                          Case{"int:b=4", arith::Role::gradient}}) {
      CAPTURE(c.spec);
      Rng rng(4);
      Tensor x = random_tensor({2, 5}, rng);
      auto m = arith::make_multiplier(c.spec);
      const size_t before = tape_size();
      Tensor q = quantize_ste(x, *m, c.role);
      CHECK(q.impl() == x.impl());
      CHECK(tape_size() == before);
    }
  }

  TEST_CASE("quantize_ste records nothing under NoGrad") {
    Rng rng(5);
    Tensor x = random_tensor({2, 5}, rng);
    auto m = arith::make_multiplier("int:b=4");
    NoGrad ng;
    const size_t before = tape_size();
    Tensor q = quantize_ste(x, *m, arith::Role::weight);
    CHECK(tape_size() == before);
    CHECK(!q.requires_grad());
  }

  TEST_CASE("quantised linear: y, dx, dw are exact products of the quantised operands, db = Σ dy") {
    const int64_t B = 2, T = 3, N = B * T, Cin = 8, Cout = 5;
    for (const SiteCase& c : kLinearCases) {
      const std::string name = fmt::format("linear {} backward={}", c.forward, c.backward);
      CAPTURE(name);
      Rng rng(11);
      Tensor x = random_tensor({B, T, Cin}, rng), w = random_tensor({Cout, Cin}, rng, 0.5f),
             b = random_tensor({Cout}, rng), dy = random_tensor({B, T, Cout}, rng, 1.0f, false);
      GemmSite site = GemmSite::make("site", {c.forward, c.backward}, 1);
      Tensor y = linear(x, w, b, site);
      backward(sum(mul(y, dy)));  // y's gradient is dy, exactly

      ReferenceSite ref({c.forward, c.backward});
      const Values xq = quantized(*ref.forward, arith::Role::activation, values_of(x), N, Cin);
      const Values wq = quantized(*ref.forward, arith::Role::weight, values_of(w), Cout, Cin);
      const Values dyq = quantized(*ref.backward, arith::Role::gradient, values_of(dy), N, Cout);
      const Values x2 = ref.backward_operand(arith::Role::activation, xq, N, Cin);
      const Values w2 = ref.backward_operand(arith::Role::weight, wq, Cout, Cin);

      // y = Q(x)·Q(w)ᵀ + b: the bias joins the bound as one more term.
      Product y_ref = product(xq, transposed(wq, Cout, Cin), N, Cin, Cout);
      for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < Cout; ++j) {
          const size_t e = static_cast<size_t>(i * Cout + j);
          y_ref.c[e] += b.data()[j];
          y_ref.magnitude[e] += std::abs(b.data()[j]);
        }
      const double ey = check_product("y", values_of(y), y_ref);
      const double edx = check_product("dx", grad_of(x), product(dyq, w2, N, Cout, Cin));
      const double edw = check_product("dw", grad_of(w), product(transposed(dyq, N, Cout), x2, Cout, N, Cin));
      // The bias gradient takes the incoming gradient as it is (no GEMM, no quantiser).
      for (int64_t j = 0; j < Cout; ++j) {
        double s = 0;
        for (int64_t i = 0; i < N; ++i) s += dy.data()[i * Cout + j];
        CHECK(b.grad()[j] == doctest::Approx(s).epsilon(1e-6));
      }
      // The exact fp32 gradients of the unquantised operands are far from what the site produced.
      const double moved = worse(
          relative_distance(grad_of(x), product(values_of(dy), values_of(w), N, Cout, Cin).c),
          relative_distance(grad_of(w), product(transposed(values_of(dy), N, Cout), values_of(x), Cout, N, Cin).c));
      MESSAGE(
          fmt::format("{}: |error| / bound y {:.2f} dx {:.2f} dw {:.2f}; quantisation moves the "
                      "gradients by {:.1e} (relative)",
                      name, ey, edx, edw, moved));
      CHECK(moved > 1e-3);
    }
  }

  TEST_CASE("quantised bmm, every transpose: dA, dB are exact products of the quantised operands") {
    // a (2,2,·,·) and b (2,2,·,·): four batch items under two leading dimensions.
    const int64_t G = 4, M = 3, K = 4, N = 5;
    for (const SiteCase& c : kBmmCases)
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          const std::string name =
              fmt::format("bmm{}{} {} backward={}", ta ? " ta" : "", tb ? " tb" : "", c.forward, c.backward);
          CAPTURE(name);
          Rng rng(12);
          const int64_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
          Tensor a = random_tensor({2, 2, ar, ac}, rng), bt = random_tensor({2, 2, br, bc}, rng),
                 dc = random_tensor({2, 2, M, N}, rng, 1.0f, false);
          GemmSite site = GemmSite::make("site", {c.forward, c.backward}, 1);
          Tensor out = bmm(a, bt, ta, tb, site);
          backward(sum(mul(out, dc)));

          // Both operands are quantised as activations over their stored rows (per token for
          // gran=channel), the incoming gradient as a gradient over its (G·M, N) rows.
          ReferenceSite ref({c.forward, c.backward});
          const Values aq = quantized(*ref.forward, arith::Role::activation, values_of(a), G * ar, ac);
          const Values bq = quantized(*ref.forward, arith::Role::activation, values_of(bt), G * br, bc);
          const Values dcq = quantized(*ref.backward, arith::Role::gradient, values_of(dc), G * M, N);
          const Values a2 = ref.backward_operand(arith::Role::activation, aq, G * ar, ac);
          const Values b2 = ref.backward_operand(arith::Role::activation, bq, G * br, bc);

          // Per batch item: op(A) (M×K), op(B) (K×N) as the product sees them; d op(A) = dC·op(B)ᵀ,
          // d op(B) = op(A)ᵀ·dC, stored transposed back for a transposed operand.
          Product out_ref, da_ref, db_ref;
          std::vector<double> out_plain;
          for (int64_t g = 0; g < G; ++g) {
            auto item = [g](const Values& v, int64_t n) { return Values(v.begin() + g * n, v.begin() + (g + 1) * n); };
            auto op_a = [&](const Values& v) { return ta ? transposed(item(v, K * M), K, M) : item(v, M * K); };
            auto op_b = [&](const Values& v) { return tb ? transposed(item(v, N * K), N, K) : item(v, K * N); };
            const Values dcg = item(dcq, M * N);
            Product da = product(dcg, transposed(op_b(b2), K, N), M, N, K);
            Product db = product(transposed(op_a(a2), M, K), dcg, K, M, N);
            append(out_ref, product(op_a(aq), op_b(bq), M, K, N));
            append(da_ref, ta ? transposed(da, M, K) : da);
            append(db_ref, tb ? transposed(db, K, N) : db);
            const Product plain = product(op_a(values_of(a)), op_b(values_of(bt)), M, K, N);
            out_plain.insert(out_plain.end(), plain.c.begin(), plain.c.end());
          }
          const double eo = check_product("out", values_of(out), out_ref);
          const double ea = check_product("da", grad_of(a), da_ref);
          const double eb = check_product("db", grad_of(bt), db_ref);
          const double moved = relative_distance(values_of(out), out_plain);
          MESSAGE(
              fmt::format("{}: |error| / bound out {:.2f} da {:.2f} db {:.2f}; quantisation moves the "
                          "product by {:.1e} (relative)",
                          name, eo, ea, eb, moved));
          CHECK(moved > 1e-3);
        }
  }
}
