#include "train/model.h"

#include "core/error.h"
#include "nn/gpt.h"
#include "nn/matmulfree.h"

namespace lmul::train {

std::unique_ptr<nn::LanguageModel> make_model(const TrainConfig& c) {
  if (c.vocab_size <= 0) throw Error("{}: vocab_size is not resolved (got {})", c.source, c.vocab_size);
  if (c.model == "matmulfree")
    return std::make_unique<nn::MatMulFree>(matmulfree_config(c, c.vocab_size), c.arith, static_cast<uint64_t>(c.seed));
  return std::make_unique<nn::GPT>(model_config(c, c.vocab_size), c.arith, static_cast<uint64_t>(c.seed));
}

double min_parameter_count(const TrainConfig& c) {
  const double C = static_cast<double>(c.n_embd);
  if (c.model == "matmulfree")  // embeddings, lm_head and each block's four d×d projections
    return 2.0 * static_cast<double>(c.vocab_size) * C + static_cast<double>(c.n_layer) * 4.0 * C * C;
  return (static_cast<double>(c.vocab_size) + static_cast<double>(c.block_size)) * C +
         static_cast<double>(c.n_layer) * 12.0 * C * C;
}

}  // namespace lmul::train
