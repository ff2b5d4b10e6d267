// What the training loop, checkpoints, evaluation and sampling need of a model: a next-token
// predictor over ids with named parameters and GEMM sites. nn::GPT implements it; a second
// architecture (another token mixer, another block) implements it too and trains unchanged.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/gemm_site.h"
#include "core/parameter.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace lmul::nn {

// Generation that carries the model's state from call to call instead of re-running the prefix
// (a recurrent model's O(1) cost per token). No gradient is recorded.
class TokenStream {
 public:
  virtual ~TokenStream() = default;
  // Feeds the next ids (the prompt, then one sampled id at a time); returns the logits (1,1,V) of
  // the position after the last id fed.
  virtual Tensor feed(std::span<const int32_t> ids) = 0;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  // The model's own initialisation (fills every parameter from rng).
  virtual void init(Rng& rng) = 0;

  struct Output {
    Tensor logits;  // (B,T,V), or (B,1,V) for the last position only
    Tensor loss;    // one element (mean over the positions whose target is not -1), when targets were given
  };
  // idx: B·T ids; targets: B·T ids or empty. A target of -1 is the per-position loss mask: that
  // position adds nothing to the loss (nor to the mean's count). rng drives dropout.
  virtual Output forward(std::span<const int32_t> idx, int64_t B, int64_t T, std::span<const int32_t> targets, Rng& rng,
                         bool last_position_only = false) = 0;

  // Training mode applies dropout; evaluation mode does not.
  virtual void set_training(bool training) = 0;

  // In checkpoint (state_dict) order; shared (tied) tensors appear once.
  virtual Parameters& parameters() = 0;
  // Every GEMM site, for checkpointing their arithmetic state and for reports.
  virtual std::vector<GemmSite*> gemm_sites() = 0;

  virtual int64_t block_size() const = 0;  // longest sequence forward() takes
  virtual int64_t vocab_size() const = 0;  // logits per position
  // Number of parameters; non_embedding subtracts what the model's convention leaves out (nanoGPT: wpe).
  virtual int64_t num_params(bool non_embedding = true) const = 0;

  // A stream for generation when the model can carry its state; nullptr: the caller re-runs the
  // last block_size() tokens for every new token (the GPT here keeps no KV cache).
  virtual std::unique_ptr<TokenStream> stream() { return nullptr; }
};

}  // namespace lmul::nn
