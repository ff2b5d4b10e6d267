#include "train/model.h"

#include "core/error.h"
#include "nn/gpt.h"

namespace lmul::train {

std::unique_ptr<nn::LanguageModel> make_model(const TrainConfig& c) {
  if (c.vocab_size <= 0) throw Error("{}: vocab_size is not resolved (got {})", c.source, c.vocab_size);
  return std::make_unique<nn::GPT>(model_config(c, c.vocab_size), c.arith, static_cast<uint64_t>(c.seed));
}

double min_parameter_count(const TrainConfig& c) {
  const double C = static_cast<double>(c.n_embd);
  return (static_cast<double>(c.vocab_size) + static_cast<double>(c.block_size)) * C +
         static_cast<double>(c.n_layer) * 12.0 * C * C;
}

}  // namespace lmul::train
