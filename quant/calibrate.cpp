#include "quant/calibrate.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/autograd.h"
#include "core/error.h"
#include "core/integer/shiftgelu.h"
#include "core/integer/shiftmax.h"
#include "core/ops.h"

namespace lmul::quant {

namespace {
// The smallest scale s with floor(−1/f32(s·factor)) ≥ x0_min, from 1/(|x0_min|·factor) nudged up
// past float rounding: the floor that keeps Shiftmax's row sum (factor 1) and ShiftGELU's
// exponential (factor 1.702, folded into its scale) in range.
float min_scale_for(int64_t x0_min, float factor) {
  float s = 1.0f / (static_cast<float>(-x0_min) * factor);
  while (std::floor(-(1.0f / (s * factor))) < static_cast<float>(x0_min)) s = std::nextafter(s, INFINITY);
  return s;
}

void observe_all(RangeObserver& o, const Tensor& t) {
  const auto v = t.values();
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  o.observe(*lo, *hi);
}
}  // namespace

Calibrator::Calibrator(const nn::GPT& model) : model_(model) {
  layers_.resize(static_cast<size_t>(model.config().n_layer));
  for (Layer& L : layers_) L.res_attn.bits = L.res_mlp.bits = 16;
}

void Calibrator::observe(std::span<const int32_t> idx, int64_t B, int64_t T) {
  NoGrad ng;
  const nn::GPTConfig& c = model_.config();
  const auto p = [&](const std::string& name) { return model_.parameter(name).value; };
  const auto maybe = [&](const std::string& name) { return c.bias ? p(name) : Tensor(); };
  GemmSite site = GemmSite::exact("calibration");
  const int64_t hs = c.n_embd / c.n_head;
  const float att_scale = 1.0f / std::sqrt(static_cast<float>(hs));

  Tensor x = embedding(p("transformer.wte.weight"), p("transformer.wpe.weight"), idx, B, T);
  observe_all(embed_, x);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    Layer& L = layers_[static_cast<size_t>(l)];
    const std::string h = "transformer.h." + std::to_string(l) + ".";
    Tensor a = layer_norm(x, p(h + "ln_1.weight"), maybe(h + "ln_1.bias"));
    observe_all(L.ln_1, a);
    Heads qkv = split_qkv_heads(linear(a, p(h + "attn.c_attn.weight"), maybe(h + "attn.c_attn.bias"), site), c.n_head);
    observe_all(L.q, qkv.q);
    observe_all(L.k, qkv.k);
    observe_all(L.v, qkv.v);
    Tensor att = bmm(qkv.q, qkv.k, false, true, site);  // (B,NH,T,T)
    float lo = INFINITY, hi = -INFINITY;
    const float* s = att.data();
    for (int64_t g = 0; g < B * c.n_head; ++g)
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j <= i; ++j) {
          const float v = s[(g * T + i) * T + j] * att_scale;
          lo = std::min(lo, v), hi = std::max(hi, v);
        }
    L.score.observe(lo, hi);
    Tensor y = merge_heads(bmm(causal_softmax(att, att_scale), qkv.v, false, false, site));
    observe_all(L.attn, y);
    x = add(x, linear(y, p(h + "attn.c_proj.weight"), maybe(h + "attn.c_proj.bias"), site));
    observe_all(L.res_attn, x);
    a = layer_norm(x, p(h + "ln_2.weight"), maybe(h + "ln_2.bias"));
    observe_all(L.ln_2, a);
    Tensor f = linear(a, p(h + "mlp.c_fc.weight"), maybe(h + "mlp.c_fc.bias"), site);
    observe_all(L.fc, f);
    if (c.relu) {
      f = relu(f);
    } else {
      f = gelu(f, c.gelu_tanh);
      observe_all(L.gelu, f);
    }
    x = add(x, linear(f, p(h + "mlp.c_proj.weight"), maybe(h + "mlp.c_proj.bias"), site));
    observe_all(L.res_mlp, x);
  }
  observe_all(ln_f_, layer_norm(x, p("transformer.ln_f.weight"), maybe("transformer.ln_f.bias")));
  ++batches_;
}

ActivationScales Calibrator::scales() const {
  if (batches_ == 0) throw Error("calibration: no batch observed (give at least one calibration batch)");
  // Shiftmax needs block_size·|x0|·2^15 ≤ 2^31 − 1 and ShiftGELU |x0|·2^23 ≤ 2^31 − 1 (x0 =
  // floor(−1/s)): a model whose scores or MLP inputs are all tiny (a barely trained one) would
  // calibrate finer than that. Those scales are raised to the floor — the integers then use fewer
  // levels for values whose softmax or GELU is nearly flat there anyway.
  const int64_t T = model_.config().block_size;
  const float score_floor = min_scale_for(-(((int64_t{1} << 31) - 1) / (T << integer::kShiftmaxN)), 1.0f);
  const float fc_floor = min_scale_for(-(((int64_t{1} << 31) - 1) >> integer::kShiftGeluN), 1.702f);
  ActivationScales s;
  s.embed = embed_.scale();
  for (const Layer& L : layers_) {
    // A ReLU model has no GELU output to observe; its scale is stored as 1 and never used.
    const float gelu = L.gelu.seen ? L.gelu.scale() : 1.0f;
    s.layers.push_back({L.ln_1.scale(), L.q.scale(), L.k.scale(), L.v.scale(), std::max(L.score.scale(), score_floor),
                        L.attn.scale(), L.res_attn.scale(), L.ln_2.scale(), std::max(L.fc.scale(), fc_floor), gelu,
                        L.res_mlp.scale()});
  }
  s.ln_f = ln_f_.scale();
  return s;
}

}  // namespace lmul::quant
