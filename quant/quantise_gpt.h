// The float → integer boundary of the integer-only GPT: a trained nn::GPT and its calibrated
// activation scales become an IntegerGPT (integer_gpt.h) — the one place where floats are read.
//   weights:  int8, symmetric, one scale per output channel: s_w[o] = max|W[o,:]|/127 (≥ 2^−23),
//             q = round_half_even(f32(1/s)·w) (core/integer/dyadic.h `quantize`); the token and
//             position tables one scale per row (a row of wte is the tied head's output channel);
//             the Linear layers' weights take weight_bits (2..8; max|W|/(2^(b−1)−1), held in
//             int8: W4A8 with 4), the tables (and so the tied head) stay 8-bit;
//   biases:   int32 at the accumulator's scale s_x·s_w[o];
//   rescales: every ratio s_in/s_out as a dyadic (m, e) (HAWQ-V3), computed in double from the
//             float32 scales as the I-ViT code does;
//   I-LayerNorm: constants from the float weight and bias (core/integer/ilayernorm.h);
//   Shiftmax / ShiftGELU: x0 from the score and GELU-input scales.
#pragma once
#include <string>

#include "nn/gpt.h"
#include "quant/activation_scales.h"
#include "quant/integer_gpt.h"

namespace lmul::quant {

// Throws lmul::Error (one line, naming `source`, the tensor or scale, and the fix) for what the
// integer graph cannot represent: a non-finite weight, a LayerNorm weight of 0 or a bias/weight
// too large for I-LayerNorm's int32 output, n_embd beyond I-LayerNorm's 2^14 channels, a score
// scale that breaks Shiftmax's row sum at block_size (§8: block_size·|x0|·2^15 ≤ 2^31 − 1), a GELU
// input scale that breaks ShiftGELU (|x0|·2^23 ≤ 2^31 − 1), a rescale beyond a dyadic's range.
IntegerGPT quantise_gpt(const nn::GPT& model, const ActivationScales& scales, const std::string& source,
                        int weight_bits = 8);

}  // namespace lmul::quant
