// Batched products through the arithmetic seam (attention's Q·Kᵀ and P·V), and a 2-D matmul.
// Both operands are quantised as activations; the incoming gradient as a gradient.
#include <algorithm>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace lmul {

namespace {
Tensor quantized(arith::Multiplier& m, arith::Role role, const Tensor& x) {
  const int64_t cols = x.size(-1), rows = x.numel() / cols;
  Tensor q(x.shape());
  if (m.quantize(role, x.data(), rows, cols, cols, q.data())) return q;
  return x;
}

// C (G,M,N) [+]= op(A)·op(B) for G items; A, B given as stored (G, rows, cols).
void batched(arith::Multiplier& m, const float* A, bool ta, const float* B, bool tb, float* C, int64_t G, int64_t M,
             int64_t N, int64_t K, bool accumulate) {
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  m.gemm_batched({ta, tb, M, N, K, A, lda, B, ldb, C, N, accumulate}, G, M * K, K * N, M * N);
}
}  // namespace

Tensor bmm(const Tensor& a, const Tensor& b, bool ta, bool tb, GemmSite& site) {
  // Leading dimensions are the batch: (..., rows, cols), the same leading shape for a and b.
  const bool same_lead =
      a.dim() == b.dim() && a.dim() >= 3 && std::equal(a.shape().begin(), a.shape().end() - 2, b.shape().begin());
  if (!same_lead)
    throw Error("[bmm] expected (...,·,·) operands with the same leading shape, got {} and {}", shape_str(a.shape()),
                shape_str(b.shape()));
  const int64_t G = a.numel() / (a.size(-1) * a.size(-2));
  const int64_t M = ta ? a.size(-1) : a.size(-2), K = ta ? a.size(-2) : a.size(-1);
  const int64_t Kb = tb ? b.size(-1) : b.size(-2), N = tb ? b.size(-2) : b.size(-1);
  if (K != Kb)
    throw Error("[bmm] inner dimensions differ: {}{} · {}{}", shape_str(a.shape()), ta ? "ᵀ" : "", shape_str(b.shape()),
                tb ? "ᵀ" : "");
  Shape out_shape(a.shape().begin(), a.shape().end() - 2);
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor out(out_shape);
  Tensor aq = quantized(*site.forward, arith::Role::activation, a);
  Tensor bq = quantized(*site.forward, arith::Role::activation, b);
  batched(*site.forward, aq.data(), ta, bq.data(), tb, out.data(), G, M, N, K, false);

  if (needs_grad({&a, &b})) {
    record(out, [out = out.shared(), a, b, aq, bq, ta, tb, &site, G, M, N, K] {
      arith::Multiplier& m = *site.backward;
      const float* d = out->grad->data();
      Tensor dq({G, M, N});
      const float* dC = m.quantize(arith::Role::gradient, d, G * M, N, N, dq.data()) ? dq.data() : d;
      Tensor a2 = site.backward_same ? aq : quantized(m, arith::Role::activation, aq);
      Tensor b2 = site.backward_same ? bq : quantized(m, arith::Role::activation, bq);
      if (a.requires_grad()) {
        bool fresh = false;
        float* da = a.grad_for_write(&fresh);
        if (!ta)  // dA (M,K) = dC·op(B)ᵀ
          batched(m, dC, false, b2.data(), !tb, da, G, M, K, N, !fresh);
        else  // dA stored (K,M) = op(B)·dCᵀ
          batched(m, b2.data(), tb, dC, true, da, G, K, M, N, !fresh);
      }
      if (b.requires_grad()) {
        bool fresh = false;
        float* db = b.grad_for_write(&fresh);
        if (!tb)  // dB (K,N) = op(A)ᵀ·dC
          batched(m, a2.data(), !ta, dC, false, db, G, K, N, M, !fresh);
        else  // dB stored (N,K) = dCᵀ·op(A)
          batched(m, dC, true, a2.data(), ta, db, G, N, K, M, !fresh);
      }
    });
  }
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b, GemmSite& site) {
  if (a.dim() != 2 || b.dim() != 2)
    throw Error("[matmul] expected 2-D operands, got {} and {}", shape_str(a.shape()), shape_str(b.shape()));
  Tensor c = bmm(reshape(a, {1, a.size(0), a.size(1)}), reshape(b, {1, b.size(0), b.size(1)}), false, false, site);
  return reshape(c, {a.size(0), b.size(1)});
}

Tensor quantize_ste(const Tensor& x, arith::Multiplier& m, arith::Role role) {
  const int64_t cols = x.size(-1), rows = x.numel() / cols;
  Tensor q(x.shape());
  if (!m.quantize(role, x.data(), rows, cols, cols, q.data())) return x;
  if (needs_grad({&x})) record_pass_through(q, x);  // straight-through estimator
  return q;
}

}  // namespace lmul
