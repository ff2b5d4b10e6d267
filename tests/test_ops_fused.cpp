// The fused ops against their unfused compositions, evaluated in double with plain loops:
// causal_softmax = scale, mask (−∞ above the diagonal), max-shifted exp, sum, divide;
// cross_entropy = log-softmax, gather of the target, negative mean over the non-ignored rows.
// Backward references go through the composition's own chain rule (the softmax Jacobian
// P_k(δ_kj − P_j) applied as a matrix; the gather's one-hot scatter through log-softmax's
// backward), not through the fused closed forms the kernels use.
//
// Tolerances are per element, bounds on the fp32 evaluation the fused kernels do (u = 2⁻²⁴),
// with slack 4:
// - causal softmax: P_j = exp(s_j − max)/Σ. The fp32 shift s_j − max errs by u·|s_j − max|, the
//   exp, the sum of ≤ T terms and the divide add ≈ (T + 3)·u, so |P − P_ref| ≤ 4·u·f·P_ref with
//   f = T + 4 + max_k (max − s_k) over the row (terms more than 104 below the max underflow to 0 in
//   fp32 and are left out), plus 2⁻¹²⁶ for entries in fp32's subnormal range. Backward,
//   scale·P_j·(dP_j − Σ_k P_k dP_k): every factor carries P's relative error, so
//   |dA − dA_ref| ≤ 4·u·f·scale·P_j·(|dP_j| + Σ_k P_k|dP_k|) (+ the same 2⁻¹²⁶ term).
//   Masked entries: exactly 0, and their gradient exactly 0.
// - cross-entropy: the row's logsumexp is rounded to fp32 once (u·|lse|) after a sum whose terms
//   carry the fp32 shift error (≤ u·V/e relative, as x·e^−x ≤ 1/e); every logit difference is an
//   fp32 subtraction. Loss: ≤ 4·u·(max|lse| + V + |loss|). dlogits_j = d·(p_j − [j = y]) with
//   d = seed/count: ≤ 4·u·(3 + |lse| + V + |l_j − lse|)·(p_j + [j = y])·d, plus 2⁻¹²⁶·d.
// A wrong mask (one more column), a missing max shift (Inf for the large-score rows), a wrong
// count (ignored rows counted) or a missing seed each miss by orders of magnitude more.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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

constexpr double kTiny = 0x1p-126;  // below it fp32 is subnormal: absolute, not relative, error

// Unfused causal softmax of one (T,T) item in double: P and the row-wise backward through the
// explicit Jacobian of softmax, applied after the mask (masked entries get no gradient), with the
// error bounds of the fp32 kernel stated at the top of the file.
struct SoftmaxReference {
  std::vector<double> P, dA, P_bound, dA_bound;
};
SoftmaxReference causal_softmax_reference(const float* a, const float* dP, int64_t T, double scale) {
  const size_t n = static_cast<size_t>(T * T);
  SoftmaxReference r{std::vector<double>(n), std::vector<double>(n), std::vector<double>(n), std::vector<double>(n)};
  auto at = [T](int64_t i, int64_t j) { return static_cast<size_t>(i * T + j); };
  for (int64_t i = 0; i < T; ++i) {
    std::vector<double> s(static_cast<size_t>(T)), e(static_cast<size_t>(T));
    for (int64_t j = 0; j < T; ++j) s[static_cast<size_t>(j)] = j <= i ? scale * a[at(i, j)] : -INFINITY;
    const double mx = *std::max_element(s.begin(), s.end());
    double total = 0, spread = 0;
    for (int64_t j = 0; j < T; ++j) {
      total += e[static_cast<size_t>(j)] = std::exp(s[static_cast<size_t>(j)] - mx);
      if (j <= i) spread = std::max(spread, std::min(mx - s[static_cast<size_t>(j)], 104.0));
    }
    for (int64_t j = 0; j < T; ++j) r.P[at(i, j)] = e[static_cast<size_t>(j)] / total;
    const double k = 4.0 * kU * (static_cast<double>(T) + 4.0 + spread);
    // dS_j = Σ_k dP_k · ∂P_k/∂S_j with ∂P_k/∂S_j = P_k(δ_kj − P_j); dA = scale·dS
    double weighted = 0, plain = 0;  // Σ_k P_k|dP_k|, Σ_k |dP_k|
    for (int64_t c = 0; c < T; ++c) {
      weighted += r.P[at(i, c)] * std::abs(dP[at(i, c)]);
      plain += std::abs(dP[at(i, c)]);
    }
    for (int64_t j = 0; j < T; ++j) {
      double ds = 0;
      for (int64_t c = 0; c < T; ++c) ds += dP[at(i, c)] * r.P[at(i, c)] * ((c == j ? 1.0 : 0.0) - r.P[at(i, j)]);
      r.dA[at(i, j)] = scale * ds;
      r.P_bound[at(i, j)] = k * r.P[at(i, j)] + kTiny;
      r.dA_bound[at(i, j)] =
          scale * (k * r.P[at(i, j)] * (std::abs(dP[at(i, j)]) + weighted) + kTiny * (std::abs(dP[at(i, j)]) + plain));
    }
  }
  return r;
}

void check_causal_softmax(Tensor att, float scale, const char* what) {
  const int64_t T = att.size(-1), G = att.numel() / (T * T);
  Rng rng(21);
  Tensor dP = random_tensor(att.shape(), rng, 1.0f, false);
  Tensor P = causal_softmax(att, scale);
  backward(sum(mul(P, dP)));        // P's gradient is dP, exactly
  double worst_p = 0, worst_d = 0;  // |error| / bound
  for (int64_t g = 0; g < G; ++g) {
    const int64_t off = g * T * T;
    const SoftmaxReference ref = causal_softmax_reference(att.data() + off, dP.data() + off, T, scale);
    for (int64_t e = 0; e < T * T; ++e) {
      const size_t i = static_cast<size_t>(e);
      const float p = P.data()[off + e], d = att.grad()[off + e];
      if (e % T > e / T) {  // above the diagonal: exactly zero, and no gradient
        CHECK(p == 0.0f);
        CHECK(d == 0.0f);
        continue;
      }
      worst_p = worse(worst_p, std::abs(p - ref.P[i]) / ref.P_bound[i]);
      worst_d = worse(worst_d, std::abs(d - ref.dA[i]) / ref.dA_bound[i]);
    }
  }
  MESSAGE(fmt::format("causal_softmax {}: |error| / bound P {:.3f} dA {:.3f}", what, worst_p, worst_d));
  CHECK(worst_p <= 1.0);
  CHECK(worst_d <= 1.0);

  // Written over the scores: the same P and the same gradient of the scores, bit for bit.
  Tensor att2 = att.clone();
  att2.set_requires_grad(true);
  Tensor P2 = causal_softmax(att2, scale, true);
  CHECK(P2.data() == att2.data());
  backward(sum(mul(P2, dP)));
  CHECK(std::memcmp(P2.data(), P.data(), sizeof(float) * static_cast<size_t>(P.numel())) == 0);
  CHECK(std::memcmp(att2.grad(), att.grad(), sizeof(float) * static_cast<size_t>(P.numel())) == 0);
}

// Unfused cross-entropy in double: log-softmax, gather, negative mean; backward = the gather's
// one-hot scatter of −seed/count, then log-softmax's backward g_j − softmax_j·Σ_k g_k. With the
// error bounds of the fp32 kernel stated at the top of the file.
struct CrossEntropyReference {
  double loss = 0, loss_bound = 0;
  std::vector<double> dlogits, d_bound;
};
CrossEntropyReference cross_entropy_reference(const Tensor& logits, const std::vector<int32_t>& y, double seed) {
  const int64_t V = logits.size(-1), N = logits.numel() / V;
  CrossEntropyReference r;
  r.dlogits.assign(static_cast<size_t>(N * V), 0.0);
  r.d_bound.assign(static_cast<size_t>(N * V), 0.0);
  int64_t count = 0;
  for (int32_t t : y) count += t >= 0;
  const double d = seed / static_cast<double>(count);
  double total = 0, largest_lse = 0;
  for (int64_t i = 0; i < N; ++i) {
    const float* l = logits.data() + i * V;
    const double mx = *std::max_element(l, l + V);
    double s = 0;
    for (int64_t j = 0; j < V; ++j) s += std::exp(l[j] - mx);
    const double lse = mx + std::log(s);
    largest_lse = std::max(largest_lse, std::abs(lse));
    std::vector<double> log_softmax(static_cast<size_t>(V));
    for (int64_t j = 0; j < V; ++j) log_softmax[static_cast<size_t>(j)] = l[j] - lse;
    const int32_t target = y[static_cast<size_t>(i)];
    if (target < 0) continue;  // ignored: no loss, no gradient
    total += -log_softmax[static_cast<size_t>(target)];
    // gather's backward: g = onehot(y)·(−d); log-softmax's backward: g_j − p_j·Σ_k g_k
    for (int64_t j = 0; j < V; ++j) {
      const size_t e = static_cast<size_t>(i * V + j);
      const double p = std::exp(log_softmax[static_cast<size_t>(j)]), hit = j == target ? 1.0 : 0.0;
      r.dlogits[e] = -d * hit + p * d;
      r.d_bound[e] =
          4.0 * kU * (3.0 + std::abs(lse) + static_cast<double>(V) + std::abs(log_softmax[static_cast<size_t>(j)])) *
              (p + hit) * d +
          kTiny * d;
    }
  }
  r.loss = total / static_cast<double>(count);
  r.loss_bound = 4.0 * kU * (largest_lse + static_cast<double>(V) + std::abs(r.loss));
  return r;
}

void check_cross_entropy(Tensor logits, const std::vector<int32_t>& y, float seed, const char* what) {
  Tensor loss = cross_entropy(logits, y);
  backward(loss, seed);
  const CrossEntropyReference ref = cross_entropy_reference(logits, y, seed);
  const double loss_err = std::abs(loss.item() - ref.loss) / ref.loss_bound;
  double worst_d = 0;
  for (size_t e = 0; e < ref.dlogits.size(); ++e) {
    if (ref.d_bound[e] == 0) {  // an ignored row: exactly no gradient
      CHECK(logits.grad()[e] == 0.0f);
      continue;
    }
    worst_d = worse(worst_d, std::abs(logits.grad()[e] - ref.dlogits[e]) / ref.d_bound[e]);
  }
  MESSAGE(fmt::format("cross_entropy {}: |error| / bound loss {:.3f} dlogits {:.3f}", what, loss_err, worst_d));
  CHECK(loss_err <= 1.0);
  CHECK(worst_d <= 1.0);
}

}  // namespace

TEST_SUITE("ops.fused") {
  TEST_CASE("causal softmax equals scale, mask, exp, sum, divide — forward and backward") {
    Rng rng(22);
    check_causal_softmax(random_tensor({2, 3, 7, 7}, rng, 2.0f), 0.5f, "(2,3,7,7) scale 0.5");
    check_causal_softmax(random_tensor({1, 1, 1}, rng), 0.25f, "T=1");
    // scores of ±200·2: exp overflows fp32 unless the row max is subtracted first
    check_causal_softmax(random_tensor({2, 5, 5}, rng, 200.0f), 2.0f, "large scores");
  }

  TEST_CASE("cross-entropy equals log-softmax, gather of the target, negative mean — forward and backward") {
    Rng rng(23);
    check_cross_entropy(random_tensor({6, 11}, rng, 3.0f), {3, -1, 0, 10, 10, -1}, 1.0f, "with ignored rows");
    check_cross_entropy(random_tensor({2, 3, 7}, rng), {6, 0, 1, 2, 3, 4}, 1.0f / 3.0f, "(B,T,V) seed 1/3");
    // logits of ±100·2: exp overflows fp32 unless the row max is subtracted first
    check_cross_entropy(random_tensor({4, 9}, rng, 200.0f), {1, 2, 3, 8}, 1.0f, "large logits");
  }
}
