// GPT as nanoGPT's model.py: learned positional embeddings, pre-LN blocks, final LayerNorm,
// lm_head tied to the token embedding, every GEMM through its site's arithmetic.
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "nn/config.h"
#include "nn/language_model.h"
#include "nn/modules.h"
#include "core/parameter.h"

namespace lmul::nn {

class GPT final : public LanguageModel {
 public:
  // Parameters are allocated (zeros, LayerNorm weights ones); call init() for nanoGPT's init.
  GPT(const GPTConfig& config, const ArithConfig& arith, uint64_t seed);

  // N(0, 0.02) for Linear/Embedding weights, zero biases, c_proj weights N(0, 0.02/√(2·n_layer)).
  void init(Rng& rng) override;

  // idx: B·T ids; targets: B·T ids (-1 ignored) or empty. rng drives dropout.
  Output forward(std::span<const int32_t> idx, int64_t B, int64_t T, std::span<const int32_t> targets, Rng& rng,
                 bool last_position_only = false) override;

  // Training mode applies dropout; evaluation mode (nanoGPT's model.eval()) does not.
  void set_training(bool training) override;

  const GPTConfig& config() const { return config_; }
  const ArithConfig& arith() const { return arith_; }
  // In state_dict order, without lm_head.weight (it is transformer.wte.weight).
  Parameters& parameters() override { return params_; }
  const Parameter& parameter(const std::string& name) const;
  // All GEMM sites of the model, for checkpointing their arithmetic state and for reports.
  std::vector<GemmSite*> gemm_sites() override;
  // Number of parameters; nanoGPT's get_num_params(non_embedding=True) subtracts wpe.
  int64_t num_params(bool non_embedding = true) const override;
  int64_t block_size() const override { return config_.block_size; }
  int64_t vocab_size() const override { return config_.vocab_size; }
  // nanoGPT's estimate_mfu: flops per token = 6N + 12·L·H·Q·T (forward + backward).
  double flops_per_token() const;

 private:
  GPTConfig config_;
  float dropout_;  // config_.dropout in training mode, 0 in evaluation mode
  ArithConfig arith_;
  Parameters params_;
  Tensor wte_, wpe_;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::unique_ptr<LayerNorm> ln_f_;
  GemmSite head_site_;
  std::unique_ptr<arith::Multiplier> embedding_quant_;  // null when the embedding site is exact
};

}  // namespace lmul::nn
