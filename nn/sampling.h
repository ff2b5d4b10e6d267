// Choosing the next token from a model's logits (nanoGPT's sample.py): temperature, then top-k,
// then a draw from the softmax.
#pragma once
#include <cstdint>
#include <span>

#include "core/rng.h"

namespace lmul::nn {

struct SamplingOptions {
  float temperature = 0.8f;  // > 0; as it goes to 0 the draw becomes greedy
  int64_t top_k = 200;       // sample among the k largest logits (≤ 0: all)
};

// One id from logits/temperature restricted to the top k; ties at the k-th value are kept.
// Draws one uniform from rng. Never returns an id outside the k largest logits.
int32_t sample_next(std::span<const float> logits, const SamplingOptions& options, Rng& rng);

// The id of the largest logit (the first one on ties): what top_k = 1 always samples.
int32_t greedy_next(std::span<const float> logits);

}  // namespace lmul::nn
