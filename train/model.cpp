#include "train/model.h"

#include "core/error.h"
#include "nn/gpt.h"

namespace lmul::train {

std::unique_ptr<nn::LanguageModel> make_model(const TrainConfig& c) {
  if (c.vocab_size <= 0) throw Error("{}: vocab_size is not resolved (got {})", c.source, c.vocab_size);
  return std::make_unique<nn::GPT>(model_config(c, c.vocab_size), c.arith, static_cast<uint64_t>(c.seed));
}

}  // namespace lmul::train
