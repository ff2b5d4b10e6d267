#include "quant/quantise_gpt.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/integer/ilayernorm.h"
#include "core/integer/int_exp.h"
#include "core/integer/shiftgelu.h"
#include "core/integer/shiftmax.h"

namespace lmul::quant {

namespace {

constexpr float kMinScale = 0x1p-23f;  // I-ViT's lower clamp of every scale

struct Builder {
  const nn::GPT& model;
  const std::string& source;
  int weight_bits;  // of the Linear layers' weights

  std::span<const float> values(const std::string& name) const {
    const Tensor& t = model.parameter(name).value;
    for (float v : t.values())
      if (!std::isfinite(v))
        throw Error("{}: {} holds a non-finite value ({}); the integer-only model needs finite weights", source, name,
                    v);
    return t.values();
  }

  Dyadic dyadic(double multiplier, const std::string& what) const {
    if (!(multiplier > 0.0) || !(multiplier < 0x1p31))
      throw Error(
          "{}: the rescale {} = {} is outside a dyadic's range (0, 2^31); recalibrate, or the model cannot "
          "run integer-only",
          source, what, multiplier);
    return integer::dyadic(multiplier);
  }

  // Per-row symmetric `bits`-bit integers (held as int8) of a rows × cols table; returns the row scales.
  std::vector<float> int8_rows(std::span<const float> w, int64_t rows, int64_t cols, std::vector<int8_t>& q,
                               int bits = 8) const {
    const float qmax = static_cast<float>((1 << (bits - 1)) - 1);
    std::vector<float> s(static_cast<size_t>(rows));
    q.resize(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
      float amax = 0;
      for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(w[r * cols + c]));
      s[r] = std::max(amax / qmax, kMinScale);
      for (int64_t c = 0; c < cols; ++c)
        q[r * cols + c] = static_cast<int8_t>(integer::quantize(w[r * cols + c], s[r], bits));
    }
    return s;
  }

  // A Linear layer reading int8 at s_in; its accumulator requantised to s_out[o] (one per output).
  IntLinear linear(const std::string& name, float s_in, const std::vector<float>& s_out) const {
    const Tensor& w = model.parameter(name + ".weight").value;
    IntLinear L;
    L.out = w.size(0), L.in = w.size(1);
    const std::vector<float> s_w = int8_rows(values(name + ".weight"), L.out, L.in, L.weight, weight_bits);
    std::span<const float> b;
    if (model.config().bias) b = values(name + ".bias");
    for (int64_t o = 0; o < L.out; ++o) {
      const float s_acc = s_in * s_w[o];
      L.bias.push_back(b.empty() ? 0 : static_cast<int32_t>(integer::quantize(b[o], s_acc, 32)));
      L.requant.push_back(dyadic(static_cast<double>(s_acc) / static_cast<double>(s_out[o]),
                                 fmt::format("{} output channel {}", name, o)));
    }
    return L;
  }
  IntLinear linear(const std::string& name, float s_in, float s_out, int64_t out) const {
    return linear(name, s_in, std::vector<float>(static_cast<size_t>(out), s_out));
  }

  IntLayerNorm layer_norm(const std::string& name, float s_out) const {
    const int64_t C = model.config().n_embd;
    const std::vector<float> zeros(static_cast<size_t>(C), 0.0f);
    std::span<const float> w = values(name + ".weight"), b = zeros;
    if (model.config().bias) b = values(name + ".bias");
    integer::ILayerNormConstants k;
    try {
      k = integer::ilayernorm_constants(w, b);
    } catch (const Error& e) {
      throw Error("{}: {}: {}", source, name, e.what());
    }
    IntLayerNorm L;
    for (int64_t c = 0; c < C; ++c) {
      // The output floor(y·f/2) lies within ±2^30(1 + 1/std); with |bias_int| ≤ 2^30 the sum
      // stays an int32 accumulator (±2^31), what the requantisation takes.
      if (std::abs(k.bias_int[c]) > (int64_t{1} << 30))
        throw Error(
            "{}: {} channel {}: bias/weight = {} is too large for I-LayerNorm's int32 output (|b/w| must be "
            "below sqrt(n_embd) = {}); the model cannot run integer-only",
            source, name, c, b[c] / w[c], std::sqrt(static_cast<float>(C)));
      L.bias_int.push_back(k.bias_int[c]);
      L.requant.push_back(dyadic(std::fabs(static_cast<double>(k.scale_out[c])) / static_cast<double>(s_out),
                                 fmt::format("{} channel {}", name, c)));
      L.negate.push_back(k.scale_out[c] < 0 ? 1 : 0);
    }
    return L;
  }
};

}  // namespace

IntegerGPT quantise_gpt(const nn::GPT& model, const ActivationScales& s, const std::string& source, int weight_bits) {
  if (weight_bits < 2 || weight_bits > 8)
    throw Error("{}: int_weight_bits={}: the integer-only model's weights take 2 to 8 bits", source, weight_bits);
  const nn::GPTConfig& c = model.config();
  const int64_t C = c.n_embd, hs = c.n_embd / c.n_head;
  if (C > integer::kILayerNormMaxChannels)
    throw Error("{}: n_embd={} exceeds I-LayerNorm's {} channels; the model cannot run integer-only", source, C,
                integer::kILayerNormMaxChannels);
  if (static_cast<int64_t>(s.layers.size()) != c.n_layer)
    throw Error("{}: scales for {} layers, the model has {}; recalibrate", source, s.layers.size(), c.n_layer);
  const Builder b{model, source, weight_bits};
  IntegerGPT m;
  m.vocab_size = c.vocab_size, m.block_size = c.block_size, m.n_embd = C, m.n_head = c.n_head;
  m.relu = c.relu ? 1 : 0;
  const std::vector<float> s_e = b.int8_rows(b.values("transformer.wte.weight"), c.vocab_size, C, m.wte);
  const std::vector<float> s_p = b.int8_rows(b.values("transformer.wpe.weight"), c.block_size, C, m.wpe);
  for (int64_t v = 0; v < c.vocab_size; ++v)
    m.wte_requant.push_back(b.dyadic(static_cast<double>(s_e[v]) / s.embed, "wte row / embed"));
  for (int64_t t = 0; t < c.block_size; ++t)
    m.wpe_requant.push_back(b.dyadic(static_cast<double>(s_p[t]) / s.embed, "wpe row / embed"));

  float s_res = s.embed;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerScales& L = s.layers[static_cast<size_t>(l)];
    const std::string h = "transformer.h." + std::to_string(l) + ".", at = fmt::format("h.{}.", l);
    IntBlock k;
    k.ln_1 = b.layer_norm(h + "ln_1", L.ln_1);
    std::vector<float> qkv_out(static_cast<size_t>(3 * C));
    std::fill_n(qkv_out.begin(), C, L.q);
    std::fill_n(qkv_out.begin() + C, C, L.k);
    std::fill_n(qkv_out.begin() + 2 * C, C, L.v);
    k.c_attn = b.linear(h + "attn.c_attn", L.ln_1, qkv_out);
    // The 1/√hs of attention is folded into the score rescale, not the integers (I-ViT VIT:72-73).
    const double s_qk = static_cast<double>(L.q * L.k) / std::sqrt(static_cast<double>(hs));
    k.attn.score = b.dyadic(s_qk / L.score, at + "q·k/√hs → score");
    k.attn.x0 = integer::exp_shift_x0(L.score, "shiftmax");
    try {
      integer::check_shiftmax_range(k.attn.x0, c.block_size, integer::kShiftmaxN, "shiftmax");
    } catch (const Error& e) {
      throw Error(
          "{}: {}score = {}: {}; recalibrate (delete the file, lmul eval RUN --integer-only), or shorten "
          "block_size",
          source, at, L.score, e.what());
    }
    k.attn.out = b.dyadic(0x1p-15 * L.v / L.attn, at + "P·v → attn");
    k.attn_proj = b.linear(h + "attn.c_proj", L.attn, L.res_attn, C);
    k.resid_attn = b.dyadic(static_cast<double>(s_res) / L.res_attn, at + "residual → res_attn");
    k.ln_2 = b.layer_norm(h + "ln_2", L.ln_2);
    k.c_fc = b.linear(h + "mlp.c_fc", L.ln_2, L.fc, 4 * C);
    float s_act = L.fc;  // a ReLU keeps its input's scale
    if (!c.relu) {
      k.gelu_x0 = integer::shiftgelu_x0(L.fc);
      try {
        integer::check_shiftgelu_range(k.gelu_x0, integer::kShiftGeluN);
      } catch (const Error& e) {
        throw Error("{}: {}fc = {}: {}; recalibrate (delete the file, lmul eval RUN --integer-only)", source, at, L.fc,
                    e.what());
      }
      k.gelu_requant = b.dyadic(static_cast<double>(integer::shiftgelu_scale_out(L.fc, 8)) / L.gelu, at + "gelu");
      s_act = L.gelu;
    }
    k.mlp_proj = b.linear(h + "mlp.c_proj", s_act, L.res_mlp, C);
    k.resid_mlp = b.dyadic(static_cast<double>(L.res_attn) / L.res_mlp, at + "res_attn → res_mlp");
    s_res = L.res_mlp;
    m.blocks.push_back(std::move(k));
  }
  m.ln_f = b.layer_norm("transformer.ln_f", s.ln_f);
  for (int64_t v = 0; v < c.vocab_size; ++v)
    m.logit_scale.push_back(b.dyadic(static_cast<double>(s.ln_f) * s_e[v], "logit scale"));
  return m;
}

}  // namespace lmul::quant
