// An IntegerGPT behind nn::LanguageModel, so `lmul eval` and `lmul sample` (the evaluation loop,
// answer accuracy, sampling) run it unchanged. forward() runs the integer graph to int32 logits,
// then — outside the integer graph, for reporting — dequantises them (acc·m·2^−e in double,
// stored as float) and takes the cross-entropy with the fp32 op. No parameters, no GEMM sites:
// it cannot be trained or initialised.
#pragma once
#include "nn/language_model.h"
#include "quant/integer_gpt.h"

namespace lmul::quant {

class IntegerOnlyModel final : public nn::LanguageModel {
 public:
  explicit IntegerOnlyModel(IntegerGPT model) : model_(std::move(model)) {}

  void init(Rng&) override;  // throws: an integer-only model is built from a trained one
  Output forward(std::span<const int32_t> idx, int64_t B, int64_t T, std::span<const int32_t> targets, Rng& rng,
                 bool last_position_only = false) override;
  void set_training(bool) override {}
  Parameters& parameters() override { return none_; }
  std::vector<GemmSite*> gemm_sites() override { return {}; }
  int64_t block_size() const override { return model_.block_size; }
  int64_t vocab_size() const override { return model_.vocab_size; }
  int64_t num_params(bool non_embedding = true) const override;

  const IntegerGPT& integer_model() const { return model_; }

 private:
  IntegerGPT model_;
  Parameters none_;
};

// The real value of int32 logits (rows × V) from the per-entry dyadic scales: the read-out.
std::vector<float> dequantise_logits(const IntegerGPT& m, std::span<const int32_t> logits);

// The read-out of integer_forward's int32 logits as IntegerOnlyModel::forward returns it: the
// dequantised logits (B, T or 1, V) and, with targets, their fp32 cross-entropy. The fake-quant
// training graph (fake_quant_gpt.h) reads its logits out through the same function.
nn::LanguageModel::Output read_out(const IntegerGPT& m, std::span<const int32_t> logits, int64_t B, int64_t T,
                                   std::span<const int32_t> targets, bool last_position_only);

}  // namespace lmul::quant
