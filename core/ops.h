// The differentiable ops a GPT needs. One file per op under core/ops/: the kernel pair on raw
// pointers at the top, the op (compute, then record the backward closure) at the bottom.
// Shapes use llm.c's letters: B batch, T time, C channels, NH heads, hs head size, V vocabulary.
#pragma once
#include <cstdint>
#include <span>

#include "core/arith/arith.h"
#include "core/gemm_site.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace lmul {

// out[b,t,:] = wte[idx[b,t],:] + wpe[t,:]. idx has B·T ids in [0, V); wpe has ≥ T rows.
Tensor embedding(const Tensor& wte, const Tensor& wpe, std::span<const int32_t> idx, int64_t B, int64_t T);
// Gathers rows: out[i,:] = table[idx[i],:] (no positional part).
Tensor gather_rows(const Tensor& table, std::span<const int32_t> idx);

Tensor add(const Tensor& a, const Tensor& b);  // same shapes
Tensor mul(const Tensor& a, const Tensor& b);  // elementwise, same shapes
Tensor one_minus(const Tensor& x);             // 1 − x, elementwise
Tensor sum(const Tensor& x);                   // → one element
Tensor mean(const Tensor& x);                  // → one element

// y = x·wᵀ + b over the last dimension: x (..., Cin), w (Cout, Cin), b (Cout) or undefined.
// The product goes through site (forward multiplier; the backward one for dx and dw).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, GemmSite& site);
// linear()'s kernel pair on raw pointers (also the Python module's, python/), without the bias.
// Forward: y (N×Cout) = x·wᵀ as site.forward multiplies: the int8 codes of x and w with an integer
// forward (Multiplier::int8_forward), else gemm() of xq and wq — x and w as site.forward's
// quantize() rounds them (activation, weight), or x and w themselves where it takes fp32 as it is.
void linear_forward(GemmSite& site, const float* x, const float* w, const float* xq, const float* wq, int64_t N,
                    int64_t Cin, int64_t Cout, float* y);
// Backward (straight-through): with dyq = dy rounded by site.backward (gradient role),
// dx (N×Cin) = dyq·w2 (+= when dx_accumulate) and dw (Cout×Cin) += dyqᵀ·x2, where x2, w2 are the
// forward's xq, wq (backward "same") or their rounding by site.backward. A null dx or dw is skipped.
void linear_backward(GemmSite& site, const float* dy, const float* xq, const float* wq, int64_t N, int64_t Cin,
                     int64_t Cout, float* dx, bool dx_accumulate, float* dw);
// db (Cout) += Σ over the N rows of dy (N×Cout), in row order per channel.
void linear_bias_backward(const float* dy, int64_t N, int64_t Cout, float* db);
// Plain matrix product of 2-D tensors a (M,K)·b (K,N) through site.
Tensor matmul(const Tensor& a, const Tensor& b, GemmSite& site);
// Batched product over the leading dimensions: a (...,M,K) or (...,K,M) if ta, b (...,K,N) or
// (...,N,K) if tb → (...,M,N). Operands are quantised as activations (attention's Q·Kᵀ and P·V).
Tensor bmm(const Tensor& a, const Tensor& b, bool ta, bool tb, GemmSite& site);

// x with its values replaced by the multiplier's quantisation (role decides the granularity);
// gradient passes straight through (STE: identity).
Tensor quantize_ste(const Tensor& x, arith::Multiplier& m, arith::Role role);

// (B,T,3C) → q, k, v each (B,NH,T,hs), in that order (nanoGPT's c_attn split).
struct Heads {
  Tensor q, k, v;
};
Heads split_qkv_heads(const Tensor& qkv, int64_t NH);
// (B,NH,T,hs) → (B,T,C)
Tensor merge_heads(const Tensor& y);
// Transposes the two trailing... (G,M,N) → (G,N,M)
Tensor transpose_last(const Tensor& x);
// Same values under another shape (same numel); gradient reshaped back.
Tensor reshape(const Tensor& x, const Shape& shape);

// att (...,T,T) → P with P[g,i,j] = softmax over j ≤ i of scale·att[g,i,j], and 0 for j > i.
// overwrite_scores: P is computed in att's own buffer (att's values are gone; its gradient is
// still formed), for scores nothing else reads — one (...,T,T) buffer fewer per attention layer
// held until the backward. The values are the same bit for bit.
Tensor causal_softmax(const Tensor& att, float scale, bool overwrite_scores = false);

// LayerNorm over the last dimension, eps 1e-5 (PyTorch's default); bias may be undefined.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

// GELU: exact 0.5·x·(1 + erf(x/√2)) as nn.GELU(), or the tanh approximation of GPT-2 / llm.c.
Tensor gelu(const Tensor& x, bool tanh_approximation = false);

// ReLU: max(x, 0); gradient 0 at x = 0 (torch.relu).
Tensor relu(const Tensor& x);

// The MatMul-free LM's ops (ridgerchu/matmulfreellm, ../shared/research/matmulfree_spec.md).
// Logistic sigmoid σ(x) and SiLU x·σ(x).
Tensor sigmoid(const Tensor& x);
Tensor silu(const Tensor& x);
// x (..., 2I) → silu(x[..., :I])·x[..., I:] (the GLU of the fused gate_proj, chunk(2, -1)).
Tensor swiglu(const Tensor& x);
// RMSNorm over the last dimension: x/√(mean(x²) + eps)·weight, no bias.
Tensor rms_norm(const Tensor& x, const Tensor& weight, float eps);
// h_t = f_t ⊙ h_{t−1} + c_t over T for f, c (B,T,C), starting from h0 (B,C) or zeros if undefined.
// Backward runs through time. h_last, if given, receives h at t = T−1 (B,C), without gradient.
Tensor linear_recurrence(const Tensor& f, const Tensor& c, const Tensor& h0 = Tensor(), Tensor* h_last = nullptr);
// HGRN's lower bounds from the trainable table p (L,d): lb = cumsum(softmax over L) − first row.
Tensor lower_bounds(const Tensor& p);
// gate (..., d) floored by row `layer` of lb (L,d): lb_l + (1 − lb_l)·gate.
Tensor forget_gate(const Tensor& gate, const Tensor& lb, int64_t layer);

// Inverted dropout: keep with probability 1-p, scale kept values by 1/(1-p). Identity when p == 0.
// The mask is drawn from rng (counter-based: independent of the thread count) and redrawn, not
// stored, in backward.
Tensor dropout(const Tensor& x, float p, Rng& rng);

// Mean cross-entropy of logits (N,V) against targets (N ids; -1 = ignored, as nanoGPT's
// ignore_index), fused log-softmax + NLL. → one element.
Tensor cross_entropy(const Tensor& logits, std::span<const int32_t> targets);

}  // namespace lmul
