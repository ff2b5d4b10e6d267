// Calibration of an integer-only GPT's activation scales: the fp32 model (every GEMM exact,
// whatever arithmetic the run trained with) is run on batches and a RangeObserver at each point
// of the integer graph (activation_scales.h) sees the values there — post-training quantisation
// on the float activations. (I-ViT's QuantAct, calibrating inside a fake-quant model, sees its
// upstream already quantised; here the observers see the float model.) The scores are observed
// over the causal positions only, the values the integer attention requantises. Two scales have
// a floor (scales()): the score scale where Shiftmax's row sum at block_size would overflow
// (block_size·|x0|·2^15 ≤ 2^31 − 1) and the MLP-input scale where ShiftGELU's would
// (|x0|·2^23 ≤ 2^31 − 1).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "nn/gpt.h"
#include "quant/activation_scales.h"

namespace lmul::quant {

class Calibrator {
 public:
  explicit Calibrator(const nn::GPT& model);
  // One batch of B sequences of T ids (T ≤ block_size).
  void observe(std::span<const int32_t> idx, int64_t B, int64_t T);
  int64_t batches() const { return batches_; }
  // The scales so far; throws lmul::Error when no batch was observed.
  ActivationScales scales() const;

 private:
  struct Layer {
    RangeObserver ln_1, q, k, v, score, attn, res_attn, ln_2, fc, gelu, res_mlp;
  };
  const nn::GPT& model_;
  RangeObserver embed_{16};
  std::vector<Layer> layers_;
  RangeObserver ln_f_{8};
  int64_t batches_ = 0;
};

}  // namespace lmul::quant
