#include "train/model.h"

#include "core/error.h"
#include "nn/gpt.h"

namespace lmul::train {

std::unique_ptr<nn::LanguageModel> make_model(const TrainConfig& c) {
  if (c.vocab_size <= 0) throw Error("{}: vocab_size is not resolved (got {})", c.source, c.vocab_size);
  return std::make_unique<nn::GPT>(model_config(c, c.vocab_size), c.arith, static_cast<uint64_t>(c.seed));
}

std::vector<std::string> gemm_module_names(const TrainConfig& c) {
  std::vector<std::string> names;
  for (int64_t l = 0; l < c.n_layer; ++l)
    for (const char* m : {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"})
      names.push_back("transformer.h." + std::to_string(l) + "." + m);
  names.push_back("lm_head");
  return names;
}

double min_parameter_count(const TrainConfig& c) {
  const double C = static_cast<double>(c.n_embd);
  return (static_cast<double>(c.vocab_size) + static_cast<double>(c.block_size)) * C +
         static_cast<double>(c.n_layer) * 12.0 * C * C;
}

}  // namespace lmul::train
