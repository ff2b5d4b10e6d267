#include "core/integer/ilayernorm.h"

#include <cmath>

#include "core/error.h"
#include "core/integer/dyadic.h"

namespace lmul::integer {

ILayerNormConstants ilayernorm_constants(std::span<const float> weight, std::span<const float> bias) {
  const auto C = static_cast<int64_t>(weight.size());
  if (C < 1 || C > kILayerNormMaxChannels)
    throw Error("[ilayernorm] {} channels; I-LayerNorm needs 1 to {}", C, kILayerNormMaxChannels);
  if (static_cast<int64_t>(bias.size()) != C)
    throw Error("[ilayernorm] {} weights but {} biases; give one per channel", C, bias.size());
  const float scale_mid = std::sqrt(static_cast<float>(C)) / 0x1p30f;
  ILayerNormConstants k;
  for (int64_t c = 0; c < C; ++c) {
    const float w = weight[c], b = bias[c];
    if (w == 0.0f || !std::isfinite(w) || !std::isfinite(b))
      throw Error(
          "[ilayernorm] channel {}: weight {} and bias {} cannot be represented (bias/weight "
          "must be finite, weight nonzero)",
          c, w, b);
    const float bias_int = std::floor((b / w) / scale_mid);
    if (!(std::fabs(bias_int) <= 0x1p61f))  // out = floor(y·f/2) + bias_int, |y·f/2| ≤ 2^31
      throw Error(
          "[ilayernorm] channel {}: bias/weight = {} is too large for the integer output "
          "(|bias_int| = {} > 2^61)",
          c, b / w, bias_int);
    k.bias_int.push_back(static_cast<int64_t>(bias_int));
    k.scale_out.push_back(scale_mid * w);
  }
  return k;
}

int64_t ivit_sqrt(int64_t var) {
  LMUL_ASSERT(var >= 0);
  int64_t k = int64_t{1} << 16;
  for (int i = 0; i < 10; ++i) k = (k + var / k) / 2;
  return k;
}

void ilayernorm_row(std::span<const int32_t> x, std::span<const int64_t> bias_int, std::span<int64_t> out) {
  const auto C = static_cast<int64_t>(x.size());
  LMUL_ASSERT(C >= 1 && C <= kILayerNormMaxChannels);
  LMUL_ASSERT(static_cast<int64_t>(bias_int.size()) == C && static_cast<int64_t>(out.size()) == C);
  int64_t sum = 0;
  for (int32_t v : x) {
    LMUL_ASSERT(v >= -kILayerNormMaxAbsInput && v <= kILayerNormMaxAbsInput);
    sum += v;
  }
  const int64_t mean = round_half_even_div(sum, C);
  int64_t var = 0;
  for (int32_t v : x) var += (v - mean) * (v - mean);
  const int64_t f = ((int64_t{1} << 31) - 1) / ivit_sqrt(var);
  for (int64_t c = 0; c < C; ++c) out[c] = ((x[c] - mean) * f >> 1) + bias_int[c];
}

}  // namespace lmul::integer
