// One causal self-attention head in integers only, the I-ViT way (VIT:43-54, 72-74): the
// building block of an integer-only GPT forward. Per head, with T positions of hs features:
//   S = q·kᵀ                 int8 × int8 → int32 (int8 GEMM)
//   s8 = clamp8(requant(S, score))        the 1/√hs of attention is folded into `score`'s
//                                         multiplier (s_q·s_k/√hs / s_score), not the integers
//   P = Shiftmax(s8), causal: row i keeps j ≤ i, 16-bit output (scale 2^−15), x0 from s_score
//   Y = P·v                  int16 × int8 → int32 (int16×int8 GEMM)
//   y8 = clamp8(requant(Y, out))          out = 2^−15·s_v / s_y
// Every multiplier is a dyadic (m, e) computed outside; nothing here is a float.
#pragma once
#include <cstdint>

#include "core/integer/dyadic.h"

namespace lmul::integer {

struct IntAttentionHead {
  Dyadic score;     // int32 scores → int8
  int64_t x0 = -1;  // Shiftmax's floor(−1/s_score)
  Dyadic out;       // int32 P·v (P at 2^−15) → int8
};

// q, k, v: T×hs int8 with row stride ld (a head's columns of the qkv activations); y: T×hs int8
// with row stride ldy. Throws lmul::Error when T·|x0|·2^15 > 2^31 − 1 (Shiftmax's sum limit).
void int_attention_head(const IntAttentionHead& p, int64_t T, int64_t hs, const int8_t* q, const int8_t* k,
                        const int8_t* v, int64_t ld, int8_t* y, int64_t ldy);

}  // namespace lmul::integer
