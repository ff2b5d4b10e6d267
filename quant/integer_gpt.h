// A trained GPT as an integer-only model (I-ViT, HAWQ-V3; ../shared/research/ivit_integer_ops.md):
// from token ids to int32 logits every operation is an integer one. What it holds is integers
// and dyadic (m, e) pairs only — no float member — which integer_only.h checks at compile time
// (static_assert below); quantise_gpt() is the one place floats become these integers.
//
// The graph, per block (bit widths as I-ViT's ViT, §4 "Bit widths"):
//   x (int16, residual stream)
//   ─▶ I-LayerNorm ─▶ requant → int8                                   ln_1
//   ─▶ int8 GEMM c_attn (+ int32 bias) ─▶ requant → int8 q, k, v       (one scale each)
//   ─▶ per head: int8 Q·Kᵀ ─▶ requant → int8 scores (1/√hs folded in) ─▶ causal Shiftmax, 16-bit
//      ─▶ int16 × int8 P·V ─▶ requant → int8                          (core/integer/int_attention.h)
//   ─▶ int8 GEMM c_proj (+ bias) ─▶ residual add: branch and x requantised separately to the new
//      residual scale, added, clamped to int16
//   ─▶ I-LayerNorm ─▶ int8 ─▶ int8 GEMM c_fc (+ bias) ─▶ requant → int8
//   ─▶ ShiftGELU (8-bit sigmoid; x·sig) ─▶ requant → int8   (a ReLU model: max(0, x), no requant)
//   ─▶ int8 GEMM c_proj (+ bias) ─▶ residual add as above
// Before the blocks: x = wte_q[id]·s_e[id] + wpe_q[t]·s_p[t] as a residual add of the two int8
// rows into the first int16 scale. After them: I-LayerNorm ─▶ int8 ─▶ int8 GEMM with the int8
// token table (the tied head) ─▶ int32 logits, whose real value is acc·logit_scale[v] — read out
// by the caller, outside the integer graph.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/integer/dyadic.h"
#include "core/integer/int_attention.h"
#include "quant/integer_only.h"

namespace lmul::quant {

using integer::Dyadic;

// y = x·Wᵀ + b: int8 weights (out × in, one symmetric scale per output channel), int32 biases at
// the accumulator's scale s_x·s_w[o], and the per-channel dyadic from that scale to the next one.
struct IntLinear {
  static constexpr int kMembers = 5;
  int64_t in = 0, out = 0;
  std::vector<int8_t> weight;
  std::vector<int32_t> bias;
  std::vector<Dyadic> requant;
};

// I-LayerNorm (core/integer/ilayernorm.h) and its per-channel requantisation to int8: the output
// scale √C·w_c/2^30 is negative where w_c is, so the dyadic takes |·| and `negate` the sign.
struct IntLayerNorm {
  static constexpr int kMembers = 3;
  std::vector<int64_t> bias_int;
  std::vector<Dyadic> requant;
  std::vector<uint8_t> negate;
};

struct IntBlock {
  static constexpr int kMembers = 11;
  IntLayerNorm ln_1;
  IntLinear c_attn;                // → int8 q|k|v
  integer::IntAttentionHead attn;  // the same for every head of the layer
  IntLinear attn_proj;             // requant: into the residual scale after the attention
  Dyadic resid_attn;               // the incoming residual into that scale
  IntLayerNorm ln_2;
  IntLinear c_fc;        // → int8 GELU (or ReLU) input
  int64_t gelu_x0 = -1;  // ShiftGELU's floor(−1/(1.702·s)) (unused by a ReLU model)
  Dyadic gelu_requant;   // ShiftGELU's output (scale s/2^7) → int8
  IntLinear mlp_proj;    // requant: into the residual scale after the MLP
  Dyadic resid_mlp;      // the residual after the attention into that scale
};

struct IntegerGPT {
  static constexpr int kMembers = 13;
  int64_t vocab_size = 0, block_size = 0, n_embd = 0, n_head = 0;
  uint8_t relu = 0;                 // the MLP's activation: 1 ReLU, 0 ShiftGELU
  std::vector<int8_t> wte, wpe;     // V×C and block_size×C, one scale per row
  std::vector<Dyadic> wte_requant;  // row scale → the first residual scale
  std::vector<Dyadic> wpe_requant;
  std::vector<IntBlock> blocks;
  IntLayerNorm ln_f;
  std::vector<Dyadic> logit_scale;  // per vocabulary entry: logit = acc·m·2^−e (s_lnf·s_e[v])
  int64_t residual_bits = 16;       // I-ViT's 16-bit residual stream
};

static_assert(integer_only<IntegerGPT>(), "the integer-only model must hold integers and dyadic pairs only");

// The integer activations at every quantisation point of one forward, in graph order, for the
// fake-quant training graph (quant/fake_quant_gpt.h) that takes them as its forward values. Each
// is rows × width, row-major; its real value is q·s at the point's calibrated scale (q, k, v
// one scale each over the columns of qkv).
struct IntegerTrace {
  struct Layer {
    std::vector<int8_t> ln_1, qkv, attn;  // qkv: N × 3C (q | k | v)
    std::vector<int16_t> res_attn;
    std::vector<int8_t> ln_2, fc, act;  // fc: the MLP's pre-activation; act: ShiftGELU's (or ReLU's) output
    std::vector<int16_t> res_mlp;
  };
  std::vector<int16_t> embed;
  std::vector<Layer> layers;
  std::vector<int8_t> ln_f;
};

// The int32 logits of the B·T ids (every id < vocab_size, T ≤ block_size; else lmul::Error):
// rows × vocab_size, rows = B·T, or B (each sequence's last position) when last_position_only.
// Integer operations only; the same result for any thread count. A trace, when given, receives
// the activations (of every position, whatever last_position_only).
std::vector<int32_t> integer_forward(const IntegerGPT& m, std::span<const int32_t> idx, int64_t B, int64_t T,
                                     bool last_position_only = false, IntegerTrace* trace = nullptr);

}  // namespace lmul::quant
