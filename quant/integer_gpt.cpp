#include "quant/integer_gpt.h"

#include <algorithm>

#include "core/error.h"
#include "core/integer/ilayernorm.h"
#include "core/integer/int_gemm.h"
#include "core/integer/shiftgelu.h"

namespace lmul::quant {

namespace {

using integer::clamp_bits;
using integer::requant;

// An accumulator (int32 GEMM sum + int32 bias, or an I-LayerNorm output) into requant's int32
// domain. Saturating at ±2^31 changes nothing while the multiplier is above 2^(b−1)/2^31 — the
// saturated value already requantises beyond the b-bit clamp — which every rescale of a
// calibrated model is by orders of magnitude.
int64_t saturate31(int64_t acc) { return std::clamp(acc, -(int64_t{1} << 31), int64_t{1} << 31); }

int8_t to_int8(int64_t acc, Dyadic d) { return static_cast<int8_t>(clamp_bits(requant(saturate31(acc), d), 8)); }

// I-LayerNorm over each of `rows` residual rows, requantised to int8.
void layer_norm(const IntLayerNorm& ln, const std::vector<int16_t>& x, int64_t rows, int64_t C,
                std::vector<int8_t>& y) {
  y.resize(static_cast<size_t>(rows * C));
#pragma omp parallel
  {
    std::vector<int32_t> in(static_cast<size_t>(C));
    std::vector<int64_t> out(static_cast<size_t>(C));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      std::copy_n(x.begin() + r * C, C, in.begin());
      integer::ilayernorm_row(in, ln.bias_int, out);
      for (int64_t c = 0; c < C; ++c) {
        const int64_t q = requant(saturate31(out[c]), ln.requant[c]);
        y[r * C + c] = static_cast<int8_t>(clamp_bits(ln.negate[c] ? -q : q, 8));
      }
    }
  }
}

// The int8 GEMM of x (rows × in) with the layer's weights, plus its bias: rows × out int32.
void gemm(const IntLinear& L, const std::vector<int8_t>& x, int64_t rows, std::vector<int32_t>& acc) {
  acc.resize(static_cast<size_t>(rows * L.out));
  integer::int8_gemm(rows, L.out, L.in, x.data(), L.in, L.weight.data(), L.in, acc.data(), L.out);
}

void linear_int8(const IntLinear& L, const std::vector<int8_t>& x, int64_t rows, std::vector<int32_t>& acc,
                 std::vector<int8_t>& y) {
  gemm(L, x, rows, acc);
  y.resize(acc.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < L.out; ++o)
      y[r * L.out + o] = to_int8(int64_t{acc[r * L.out + o]} + L.bias[o], L.requant[o]);
}

// x ← clamp16(requant(branch, its rescale) + requant(x, resid)): the residual add with its two
// roundings (core/integer/dyadic.h residual_requant).
void residual_add(const IntLinear& L, const std::vector<int8_t>& in, int64_t rows, Dyadic resid, int bits,
                  std::vector<int32_t>& acc, std::vector<int16_t>& x) {
  gemm(L, in, rows, acc);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < L.out; ++o) {
      const size_t i = static_cast<size_t>(r * L.out + o);
      x[i] = static_cast<int16_t>(
          integer::residual_requant(saturate31(int64_t{acc[i]} + L.bias[o]), L.requant[o], x[i], resid, bits));
    }
}

}  // namespace

std::vector<int32_t> integer_forward(const IntegerGPT& m, std::span<const int32_t> idx, int64_t B, int64_t T,
                                     bool last_position_only, IntegerTrace* trace) {
  if (T < 1 || T > m.block_size)
    throw Error("cannot forward a sequence of length {}: block_size is {}", T, m.block_size);
  LMUL_ASSERT(static_cast<int64_t>(idx.size()) == B * T);
  const int64_t C = m.n_embd, N = B * T, hs = C / m.n_head, V = m.vocab_size;
  for (int32_t id : idx)
    if (id < 0 || id >= V) throw Error("token id {} is outside the model's vocabulary [0, {})", id, V);

  // The embedding: two int8 rows into the first 16-bit residual scale.
  std::vector<int16_t> x(static_cast<size_t>(N * C));
  for (int64_t i = 0; i < N; ++i) {
    const int64_t id = idx[i], t = i % T;
    for (int64_t c = 0; c < C; ++c)
      x[i * C + c] = static_cast<int16_t>(integer::residual_requant(
          m.wte[id * C + c], m.wte_requant[id], m.wpe[t * C + c], m.wpe_requant[t], m.residual_bits));
  }

  if (trace) {
    trace->embed = x;
    trace->layers.clear();
  }
  std::vector<int8_t> a, qkv, att(static_cast<size_t>(N * C)), f;
  std::vector<int32_t> acc;
  for (const IntBlock& k : m.blocks) {
    IntegerTrace::Layer* t = nullptr;
    if (trace) t = &trace->layers.emplace_back();
    layer_norm(k.ln_1, x, N, C, a);
    linear_int8(k.c_attn, a, N, acc, qkv);
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < m.n_head; ++h) {
        const int8_t* q = qkv.data() + b * T * 3 * C + h * hs;
        integer::int_attention_head(k.attn, T, hs, q, q + C, q + 2 * C, 3 * C, att.data() + b * T * C + h * hs, C);
      }
    residual_add(k.attn_proj, att, N, k.resid_attn, static_cast<int>(m.residual_bits), acc, x);
    if (t) t->ln_1 = a, t->qkv = qkv, t->attn = att, t->res_attn = x;

    layer_norm(k.ln_2, x, N, C, a);
    linear_int8(k.c_fc, a, N, acc, f);
    if (t) t->ln_2 = a, t->fc = f;
    if (m.relu) {
      for (int8_t& v : f) v = std::max<int8_t>(v, 0);
    } else {
      const int64_t F = k.c_fc.out;
#pragma omp parallel
      {
        std::vector<int32_t> in(static_cast<size_t>(F));
        std::vector<int64_t> out(static_cast<size_t>(F));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < N; ++r) {
          std::copy_n(f.begin() + r * F, F, in.begin());
          integer::shiftgelu_row(in, k.gelu_x0, integer::kShiftGeluN, 8, out);
          for (int64_t j = 0; j < F; ++j) f[r * F + j] = to_int8(out[j], k.gelu_requant);
        }
      }
    }
    residual_add(k.mlp_proj, f, N, k.resid_mlp, static_cast<int>(m.residual_bits), acc, x);
    if (t) t->act = f, t->res_mlp = x;
  }

  // The final LayerNorm and the tied head, on the rows asked for.
  const int64_t rows = last_position_only ? B : N;
  std::vector<int16_t> xr = x;
  if (last_position_only) {
    xr.resize(static_cast<size_t>(B * C));
    for (int64_t b = 0; b < B; ++b) std::copy_n(x.begin() + ((b + 1) * T - 1) * C, C, xr.begin() + b * C);
  }
  if (trace) layer_norm(m.ln_f, x, N, C, trace->ln_f);
  if (trace && !last_position_only)
    a = trace->ln_f;
  else
    layer_norm(m.ln_f, xr, rows, C, a);
  std::vector<int32_t> logits(static_cast<size_t>(rows * V));
  integer::int8_gemm(rows, V, C, a.data(), C, m.wte.data(), C, logits.data(), V);
  return logits;
}

}  // namespace lmul::quant
