#include "quant/integer_only_model.h"

#include <cmath>

#include "core/error.h"
#include "core/ops.h"

namespace lmul::quant {

void IntegerOnlyModel::init(Rng&) {
  throw Error("an integer-only model is built from a trained model; it cannot be initialised or trained");
}

std::vector<float> dequantise_logits(const IntegerGPT& m, std::span<const int32_t> logits) {
  const int64_t V = m.vocab_size;
  std::vector<float> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    const Dyadic d = m.logit_scale[static_cast<size_t>(static_cast<int64_t>(i) % V)];
    out[i] = static_cast<float>(std::ldexp(static_cast<double>(logits[i]) * static_cast<double>(d.m), -d.e));
  }
  return out;
}

nn::LanguageModel::Output read_out(const IntegerGPT& m, std::span<const int32_t> logits, int64_t B, int64_t T,
                                   std::span<const int32_t> targets, bool last_position_only) {
  const std::vector<float> real = dequantise_logits(m, logits);
  nn::LanguageModel::Output out;
  out.logits = Tensor::from({B, last_position_only ? 1 : T, m.vocab_size}, real);
  if (!targets.empty()) {
    std::vector<int32_t> last;
    if (last_position_only) {
      for (int64_t b = 0; b < B; ++b) last.push_back(targets[static_cast<size_t>((b + 1) * T - 1)]);
      targets = last;
    }
    out.loss = cross_entropy(out.logits, targets);
  }
  return out;
}

IntegerOnlyModel::Output IntegerOnlyModel::forward(std::span<const int32_t> idx, int64_t B, int64_t T,
                                                   std::span<const int32_t> targets, Rng&, bool last_position_only) {
  return read_out(model_, integer_forward(model_, idx, B, T, last_position_only), B, T, targets, last_position_only);
}

int64_t IntegerOnlyModel::num_params(bool non_embedding) const {
  int64_t n = static_cast<int64_t>(model_.wte.size());
  if (!non_embedding) n += static_cast<int64_t>(model_.wpe.size());
  for (const IntBlock& k : model_.blocks)
    for (const IntLinear* L : {&k.c_attn, &k.attn_proj, &k.c_fc, &k.mlp_proj})
      n += static_cast<int64_t>(L->weight.size() + L->bias.size());
  return n;
}

}  // namespace lmul::quant
