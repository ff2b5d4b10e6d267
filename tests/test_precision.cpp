// HAWQ-V3 mixed precision (train/precision.h): Hutchinson traces by central differences of
// gradients against a softmax regression whose Hessian trace is known in closed form, the exact
// optimum of the bit allocation against brute force, and `lmul precision` end to end.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "core/autograd.h"
#include "core/error.h"
#include "core/gemm_site.h"
#include "core/ops.h"
#include "test_helpers.h"
#include "train/bit_allocation.h"
#include "train/config.h"
#include "train/hessian_trace.h"

using namespace lmul;
using namespace lmul::train;
using lmul::test::TempDir;
using lmul::testing::read_file;
using lmul::testing::run_lmul;
using lmul::testing::tiny_cli_config;
using lmul::testing::write_file;

namespace {

// L(W1, W2) = mean_n CE(softmax(W1 x_n + W2 u_n), y_n). With p_n = softmax(z_n),
// ∂²L/∂W1[c,d]² = (1/N) Σ_n p_nc (1 − p_nc) x_nd², so Tr(H_W1) = (1/N) Σ_n Σ_c p_nc (1 − p_nc) ‖x_n‖²
// (and likewise with u_n for W2).
struct SoftmaxRegression {
  static constexpr int64_t N = 8, C = 5, D = 6, E = 4;
  Tensor x, u, w1, w2;
  std::vector<int32_t> y;
  GemmSite site = GemmSite::exact();

  SoftmaxRegression() {
    std::mt19937 rng(3);
    std::normal_distribution<float> normal;
    auto fill = [&](int64_t n, float scale) {
      std::vector<float> v(static_cast<size_t>(n));
      for (float& a : v) a = scale * normal(rng);
      return v;
    };
    x = Tensor::from({N, D}, fill(N * D, 1.0f));
    u = Tensor::from({N, E}, fill(N * E, 1.0f));
    w1 = Tensor::from({C, D}, fill(C * D, 0.5f), true);
    w2 = Tensor::from({C, E}, fill(C * E, 0.5f), true);
    for (int64_t n = 0; n < N; ++n) y.push_back(static_cast<int32_t>(n % C));
  }
  void gradient() {
    w1.zero_grad();
    w2.zero_grad();
    Tensor loss = cross_entropy(add(linear(x, w1, Tensor(), site), linear(u, w2, Tensor(), site)), y);
    backward(loss);
  }
  std::pair<double, double> exact_traces() const {
    double t1 = 0, t2 = 0;
    for (int64_t n = 0; n < N; ++n) {
      std::vector<double> z(C, 0.0);
      double zmax = -1e300, sum = 0, xx = 0, uu = 0;
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t d = 0; d < D; ++d) z[c] += static_cast<double>(w1.values()[c * D + d]) * x.values()[n * D + d];
        for (int64_t e = 0; e < E; ++e) z[c] += static_cast<double>(w2.values()[c * E + e]) * u.values()[n * E + e];
        zmax = std::max(zmax, z[c]);
      }
      for (double& v : z) sum += (v = std::exp(v - zmax));
      for (int64_t d = 0; d < D; ++d) xx += static_cast<double>(x.values()[n * D + d]) * x.values()[n * D + d];
      for (int64_t e = 0; e < E; ++e) uu += static_cast<double>(u.values()[n * E + e]) * u.values()[n * E + e];
      for (double v : z) {
        const double p = v / sum;
        t1 += p * (1 - p) * xx;
        t2 += p * (1 - p) * uu;
      }
    }
    return {t1 / N, t2 / N};
  }
};

}  // namespace

TEST_SUITE("precision") {
  TEST_CASE("central differences of gradients: the trace of a softmax regression to 1e-3 at eps=1e-3") {
    SoftmaxRegression m;
    const auto [t1, t2] = m.exact_traces();
    const std::vector<float> before(m.w1.values().begin(), m.w1.values().end());
    for (float eps : {1e-2f, 1e-3f}) {
      const auto fd = coordinate_traces(
          {m.w1, m.w2}, [&] { m.gradient(); }, eps);
      const double e1 = std::fabs(fd[0].trace - t1) / t1, e2 = std::fabs(fd[1].trace - t2) / t2;
      MESSAGE("eps=" << eps << ": relative error of the traces " << e1 << ", " << e2 << " (exact " << t1 << ", " << t2
                     << ")");
      CHECK(e1 < 1e-3);
      CHECK(e2 < 1e-3);
    }
    // The weights are restored bit for bit.
    CHECK(std::equal(before.begin(), before.end(), m.w1.values().begin()));
  }

  TEST_CASE("Hutchinson's estimator (one Rademacher vector over both blocks) converges to each block's trace") {
    SoftmaxRegression m;
    const auto [t1, t2] = m.exact_traces();
    const auto h = hutchinson_traces({m.w1, m.w2}, [&] { m.gradient(); }, {400, 1e-3f, 7});
    MESSAGE("Hutchinson 400 samples: " << h[0].trace << " ± " << h[0].std_error << " (exact " << t1 << "), "
                                       << h[1].trace << " ± " << h[1].std_error << " (exact " << t2 << ")");
    CHECK(std::fabs(h[0].trace - t1) < 4 * h[0].std_error + 1e-3 * t1);
    CHECK(std::fabs(h[1].trace - t2) < 4 * h[1].std_error + 1e-3 * t2);
    CHECK(h[0].std_error < 0.1 * t1);
    CHECK(h[1].std_error < 0.1 * t2);
    // Same seed, same estimate.
    const auto again = hutchinson_traces({m.w1, m.w2}, [&] { m.gradient(); }, {400, 1e-3f, 7});
    CHECK(again[0].trace == h[0].trace);
  }

  TEST_CASE("the allocation is the exact optimum (brute force over every allocation)") {
    std::mt19937 rng(11);
    for (int trial = 0; trial < 60; ++trial) {
      AllocationProblem p;
      p.bits = {2, 4, 8};
      const int m = 1 + trial % 7;
      std::uniform_int_distribution<int> size(1, 20);
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      int64_t total = 0;
      for (int i = 0; i < m; ++i) {
        p.params.push_back(16 * size(rng));
        total += p.params.back();
        const double s = unit(rng);
        p.omega.push_back({s, s * unit(rng) * 0.3, s * unit(rng) * 0.01});
      }
      p.budget_bits = (2 + 6 * unit(rng)) * static_cast<double>(total);
      double best = INFINITY;
      int combos = 1;
      for (int i = 0; i < m; ++i) combos *= 3;
      for (int code = 0; code < combos; ++code) {
        int64_t bits = 0;
        double omega = 0;
        for (int i = 0, c = code; i < m; ++i, c /= 3) {
          bits += p.params[static_cast<size_t>(i)] * p.bits[static_cast<size_t>(c % 3)];
          omega += p.omega[static_cast<size_t>(i)][static_cast<size_t>(c % 3)];
        }
        if (static_cast<double>(bits) <= p.budget_bits) best = std::min(best, omega);
      }
      const Allocation a = allocate_bits(p);
      CHECK(a.omega == doctest::Approx(best).epsilon(1e-12));
      CHECK(static_cast<double>(a.size_bits) <= p.budget_bits);
      double omega = 0;
      for (int i = 0; i < m; ++i)
        for (size_t k = 0; k < 3; ++k)
          if (a.bits[static_cast<size_t>(i)] == p.bits[k]) omega += p.omega[static_cast<size_t>(i)][k];
      CHECK(omega == doctest::Approx(a.omega).epsilon(1e-12));
    }
  }

  TEST_CASE("a budget no allocation meets is a one-line error naming the least size") {
    AllocationProblem p{{100, 300}, {4, 8}, {{1, 0}, {1, 0}}, 3.9 * 400};
    try {
      allocate_bits(p);
      FAIL("expected an error");
    } catch (const Error& e) {
      const std::string m = e.what();
      CHECK(m.find("no allocation fits the budget") != std::string::npos);
      CHECK(m.find("1600 bits") != std::string::npos);
    }
    p.budget_bits = 4 * 400;  // exactly the least: every module at 4 bits
    CHECK(allocate_bits(p).bits == std::vector<int>{4, 4});
  }

  TEST_CASE("cli: lmul precision prints the table and writes an [arith.modules] fragment a config takes") {
    TempDir d;
    const std::string cfg = tiny_cli_config(d, 2);
    REQUIRE(run_lmul("train " + cfg + " -q").exit_code == 0);
    const auto r = run_lmul("precision " + (d / "run") + " --bits 4,8 --avg-bits 6 --samples 3 --batches 1 --out " +
                            (d / "frag.toml"));
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("transformer.h.0.mlp.c_fc") != std::string::npos);
    CHECK(r.output.find("average bits (budget 6)") != std::string::npos);
    const std::string frag = read_file(d / "frag.toml");
    CHECK(frag.find("[arith.modules]") != std::string::npos);
    // Appended to the config, the fragment gives every Linear module of the block its bits.
    write_file(d / "with.toml", read_file(cfg) + frag);
    const TrainConfig c = load_config(d / "with.toml", {});
    CHECK(c.arith.modules.size() == 4);
    int64_t eight = 0;
    for (const auto& [m, spec] : c.arith.modules) eight += spec.starts_with("int:w=8");
    CHECK(eight >= 1);
    CHECK(eight <= 3);
  }
}
