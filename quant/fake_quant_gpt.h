// Quantisation-aware training of the integer-only GPT (I-ViT's fine-tuning, §4 of
// ../shared/research/ivit_integer_ops.md): a trainable model whose forward values are exactly the
// integer-only model's and whose backward is the fp32 one.
//
// Every forward quantises the current fp32 weights with the frozen activation scales
// (quantise_gpt) and runs the integer graph (integer_forward) with a trace of its activations.
// In training (gradients on), the fp32 graph of nn::GPT is then built op by op with every
// quantisation point's value replaced by the dequantised integers there (q·s, what the integer
// graph computed), the gradient passing straight through to the fp32 op that stands for it:
//   embedding → ln_1 → c_attn (q|k|v) → attention (Q·Kᵀ, causal softmax, P·V as one unit) →
//   c_proj + residual → ln_2 → c_fc → GELU/ReLU → c_proj + residual → ... → ln_f → tied head.
// So each fp32 op's Jacobian is taken at the fake-quant values its input held in the integer
// graph, the weights' gradients are straight-through (the fp32 W stands for its int8 rounding),
// and the logits and loss are bit for bit those of IntegerOnlyModel on the same weights and
// scales — `lmul eval RUN --integer-only` of a fine-tuned run reproduces its logged losses.
// With gradients off (evaluation, sampling) only the integer graph runs.
//
// The scales are frozen: calibrated once, on the weights fine-tuning starts from, and saved with
// every checkpoint (train/qat.h). I-ViT's QuantAct keeps updating its EMA range while training;
// frozen scales make the integer model that is evaluated the one that was trained, and a resumed
// run's integers the same as an uninterrupted one's.
#pragma once
#include <memory>
#include <string>

#include "core/gemm_site.h"
#include "nn/gpt.h"
#include "quant/activation_scales.h"
#include "quant/integer_gpt.h"

namespace lmul::quant {

class FakeQuantGPT final : public nn::LanguageModel {
 public:
  // source names the scales in quantise_gpt's messages. Throws lmul::Error for a model with
  // dropout (the integer graph has none) or scales for another number of layers.
  FakeQuantGPT(std::unique_ptr<nn::GPT> model, ActivationScales scales, std::string source, int weight_bits = 8);

  void init(Rng&) override;  // throws: fine-tuning starts from trained weights
  // Training forwards take whole sequences (last_position_only with gradients on: lmul::Error).
  Output forward(std::span<const int32_t> idx, int64_t B, int64_t T, std::span<const int32_t> targets, Rng& rng,
                 bool last_position_only = false) override;
  void set_training(bool training) override { model_->set_training(training); }
  Parameters& parameters() override { return model_->parameters(); }
  std::vector<GemmSite*> gemm_sites() override { return model_->gemm_sites(); }
  int64_t block_size() const override { return model_->block_size(); }
  int64_t vocab_size() const override { return model_->vocab_size(); }
  int64_t num_params(bool non_embedding = true) const override { return model_->num_params(non_embedding); }

  const nn::GPT& gpt() const { return *model_; }
  const ActivationScales& scales() const { return scales_; }
  // The integer-only model of the current weights (what `--integer-only` evaluates).
  IntegerGPT quantised() const;

 private:
  Output train_forward(const IntegerGPT& m, std::span<const int32_t> idx, int64_t B, int64_t T,
                       std::span<const int32_t> targets);

  std::unique_ptr<nn::GPT> model_;
  ActivationScales scales_;
  std::string source_;
  int weight_bits_;                                // of the Linear layers (quantise_gpt)
  GemmSite site_ = GemmSite::exact("fake-quant");  // outlives the tape: the backward closures hold it
};

}  // namespace lmul::quant
