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

std::vector<std::string> gemm_module_names(const TrainConfig& c) {
  std::vector<std::string> names;
  if (c.model == "matmulfree") {  // every BitLinear (nn/matmulfree.h)
    for (int64_t l = 0; l < c.n_layer; ++l)
      for (const char* m :
           {"attn.i_proj", "attn.f_proj", "attn.g_proj", "attn.o_proj", "mlp.gate_proj", "mlp.down_proj"})
        names.push_back("model.layers." + std::to_string(l) + "." + m);
    names.push_back("lm_head");
    return names;
  }
  for (int64_t l = 0; l < c.n_layer; ++l)
    for (const char* m : {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"})
      names.push_back("transformer.h." + std::to_string(l) + "." + m);
  names.push_back("lm_head");
  return names;
}

double min_parameter_count(const TrainConfig& c) {
  const double C = static_cast<double>(c.n_embd);
  if (c.model == "matmulfree")  // embeddings, lm_head and each block's four d×d projections
    return 2.0 * static_cast<double>(c.vocab_size) * C + static_cast<double>(c.n_layer) * 4.0 * C * C;
  return (static_cast<double>(c.vocab_size) + static_cast<double>(c.block_size)) * C +
         static_cast<double>(c.n_layer) * 12.0 * C * C;
}

}  // namespace lmul::train
