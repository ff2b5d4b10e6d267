#include "quant/fake_quant_gpt.h"

#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "quant/integer_only_model.h"
#include "quant/quantise_gpt.h"

namespace lmul::quant {

namespace {

// A tensor of the fp32 op's shape holding the integers' real values q[i]·scale[i % width], the
// gradient passing straight through to the fp32 op's output.
template <class I>
Tensor straight_through(const Tensor& fp32, const std::vector<I>& q, std::span<const float> scale) {
  LMUL_ASSERT(static_cast<int64_t>(q.size()) == fp32.numel());
  Tensor out(fp32.shape());
  float* o = out.data();
  const size_t width = scale.size();
  for (size_t i = 0; i < q.size(); ++i) o[i] = static_cast<float>(q[i]) * scale[i % width];
  if (needs_grad({&fp32})) record_pass_through(out, fp32);
  return out;
}
template <class I>
Tensor straight_through(const Tensor& fp32, const std::vector<I>& q, float scale) {
  return straight_through(fp32, q, std::span<const float>(&scale, 1));
}

}  // namespace

FakeQuantGPT::FakeQuantGPT(std::unique_ptr<nn::GPT> model, ActivationScales scales, std::string source, int weight_bits)
    : model_(std::move(model)), scales_(std::move(scales)), source_(std::move(source)), weight_bits_(weight_bits) {
  const nn::GPTConfig& c = model_->config();
  if (c.dropout != 0.0f)
    throw Error("{}: quantisation-aware training runs the integer graph, which has no dropout: set dropout = 0",
                source_);
  if (static_cast<int64_t>(scales_.layers.size()) != c.n_layer)
    throw Error("{}: scales for {} layers, the model has {}", source_, scales_.layers.size(), c.n_layer);
}

void FakeQuantGPT::init(Rng&) {
  throw Error("quantisation-aware training fine-tunes trained weights; it cannot initialise a model");
}

IntegerGPT FakeQuantGPT::quantised() const { return quantise_gpt(*model_, scales_, source_, weight_bits_); }

FakeQuantGPT::Output FakeQuantGPT::forward(std::span<const int32_t> idx, int64_t B, int64_t T,
                                           std::span<const int32_t> targets, Rng&, bool last_position_only) {
  const IntegerGPT m = quantised();
  if (!grad_enabled())
    return read_out(m, integer_forward(m, idx, B, T, last_position_only), B, T, targets, last_position_only);
  if (last_position_only)
    throw Error("the fake-quant training forward takes whole sequences (last_position_only needs gradients off)");
  return train_forward(m, idx, B, T, targets);
}

FakeQuantGPT::Output FakeQuantGPT::train_forward(const IntegerGPT& m, std::span<const int32_t> idx, int64_t B,
                                                 int64_t T, std::span<const int32_t> targets) {
  IntegerTrace tr;
  const std::vector<int32_t> acc = integer_forward(m, idx, B, T, false, &tr);

  const nn::GPTConfig& c = model_->config();
  const int64_t C = c.n_embd;
  const auto p = [&](const std::string& name) { return model_->parameter(name).value; };
  const auto maybe = [&](const std::string& name) { return c.bias ? p(name) : Tensor(); };
  const float att_scale = 1.0f / std::sqrt(static_cast<float>(C / c.n_head));
  const Tensor wte = p("transformer.wte.weight");

  Tensor x = straight_through(embedding(wte, p("transformer.wpe.weight"), idx, B, T), tr.embed, scales_.embed);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerScales& S = scales_.layers[static_cast<size_t>(l)];
    const IntegerTrace::Layer& t = tr.layers[static_cast<size_t>(l)];
    const std::string h = "transformer.h." + std::to_string(l) + ".";
    Tensor a = straight_through(layer_norm(x, p(h + "ln_1.weight"), maybe(h + "ln_1.bias")), t.ln_1, S.ln_1);
    std::vector<float> qkv_scale(static_cast<size_t>(3 * C), S.q);
    std::fill_n(qkv_scale.begin() + C, C, S.k);
    std::fill_n(qkv_scale.begin() + 2 * C, C, S.v);
    const Tensor qkv = straight_through(linear(a, p(h + "attn.c_attn.weight"), maybe(h + "attn.c_attn.bias"), site_),
                                        t.qkv, std::span<const float>(qkv_scale));
    const Heads hd = split_qkv_heads(qkv, c.n_head);
    const Tensor att = causal_softmax(bmm(hd.q, hd.k, false, true, site_), att_scale);
    const Tensor y = straight_through(merge_heads(bmm(att, hd.v, false, false, site_)), t.attn, S.attn);
    x = straight_through(add(x, linear(y, p(h + "attn.c_proj.weight"), maybe(h + "attn.c_proj.bias"), site_)),
                         t.res_attn, S.res_attn);
    a = straight_through(layer_norm(x, p(h + "ln_2.weight"), maybe(h + "ln_2.bias")), t.ln_2, S.ln_2);
    Tensor f = straight_through(linear(a, p(h + "mlp.c_fc.weight"), maybe(h + "mlp.c_fc.bias"), site_), t.fc, S.fc);
    // ReLU keeps its input's scale; ShiftGELU's output was requantised to the GELU scale.
    f = c.relu ? straight_through(relu(f), t.act, S.fc) : straight_through(gelu(f, c.gelu_tanh), t.act, S.gelu);
    x = straight_through(add(x, linear(f, p(h + "mlp.c_proj.weight"), maybe(h + "mlp.c_proj.bias"), site_)), t.res_mlp,
                         S.res_mlp);
  }
  const Tensor a = straight_through(layer_norm(x, p("transformer.ln_f.weight"), maybe("transformer.ln_f.bias")),
                                    tr.ln_f, scales_.ln_f);
  const Tensor head = linear(a, wte, Tensor(), site_);
  // The logits and loss exactly as IntegerOnlyModel reads them out, joined to the fp32 head.
  Output out = read_out(m, acc, B, T, {}, false);
  if (needs_grad({&head})) record_pass_through(out.logits, head);
  if (!targets.empty()) out.loss = cross_entropy(out.logits, targets);
  return out;
}

}  // namespace lmul::quant
