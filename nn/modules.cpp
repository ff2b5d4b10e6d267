#include "nn/modules.h"

#include <cmath>

#include "core/ops.h"

namespace lmul::nn {

namespace {
Tensor add_param(Parameters& params, const std::string& name, const Shape& shape, bool decay) {
  Tensor t = Tensor::zeros(shape, true);
  params.push_back({name, t, decay});
  return t;
}
uint64_t site_seed(uint64_t seed, const std::string& name) {
  uint64_t h = seed;
  for (char c : name) h = Rng::mix(h ^ static_cast<uint8_t>(c));
  return h;
}
}  // namespace

Linear::Linear(const std::string& name, int64_t in, int64_t out, bool with_bias, const GemmSite::Specs& specs,
               uint64_t seed, Parameters& params)
    : site(GemmSite::make(name, specs, site_seed(seed, name))) {
  weight = add_param(params, name + ".weight", {out, in}, true);
  if (with_bias) bias = add_param(params, name + ".bias", {out}, false);
}

LayerNorm::LayerNorm(const std::string& name, int64_t n, bool with_bias, Parameters& params) {
  weight = add_param(params, name + ".weight", {n}, false);
  for (float& v : weight.values()) v = 1.0f;
  if (with_bias) bias = add_param(params, name + ".bias", {n}, false);
}

CausalSelfAttention::CausalSelfAttention(const std::string& name, const GPTConfig& c, const ArithConfig& a,
                                         uint64_t seed, Parameters& params)
    : c_attn(name + ".c_attn", c.n_embd, 3 * c.n_embd, c.bias, {a.module_spec(name + ".c_attn", a.linear), a.backward},
             seed, params),
      c_proj(name + ".c_proj", c.n_embd, c.n_embd, c.bias, {a.module_spec(name + ".c_proj", a.linear), a.backward},
             seed, params),
      qk_site(GemmSite::make(name + ".qk", {a.attention, a.backward}, site_seed(seed, name + ".qk"))),
      pv_site(GemmSite::make(name + ".pv", {a.attention, a.backward}, site_seed(seed, name + ".pv"))),
      n_head(c.n_head),
      dropout(c.dropout) {}

Tensor CausalSelfAttention::forward(const Tensor& x, Rng& rng) {
  const int64_t hs = x.size(2) / n_head;
  Heads h = split_qkv_heads(c_attn.forward(x), n_head);                            // (B,NH,T,hs) each
  Tensor att = bmm(h.q, h.k, false, true, qk_site);                                // (B,NH,T,T)
  Tensor p = causal_softmax(att, 1.0f / std::sqrt(static_cast<float>(hs)), true);  // att is read by nothing else
  p = lmul::dropout(p, dropout, rng);                                              // attn_dropout
  Tensor y = bmm(p, h.v, false, false, pv_site);                                   // (B,NH,T,hs)
  return lmul::dropout(c_proj.forward(merge_heads(y)), dropout, rng);              // resid_dropout
}

MLP::MLP(const std::string& name, const GPTConfig& c, const ArithConfig& a, uint64_t seed, Parameters& params)
    : c_fc(name + ".c_fc", c.n_embd, 4 * c.n_embd, c.bias, {a.module_spec(name + ".c_fc", a.linear), a.backward}, seed,
           params),
      c_proj(name + ".c_proj", 4 * c.n_embd, c.n_embd, c.bias, {a.module_spec(name + ".c_proj", a.linear), a.backward},
             seed, params),
      dropout(c.dropout),
      gelu_tanh(c.gelu_tanh),
      relu(c.relu) {}

Tensor MLP::forward(const Tensor& x, Rng& rng) {
  Tensor h = c_fc.forward(x);
  h = relu ? lmul::relu(h) : gelu(h, gelu_tanh);
  return lmul::dropout(c_proj.forward(h), dropout, rng);
}

Block::Block(const std::string& name, const GPTConfig& c, const ArithConfig& a, uint64_t seed, Parameters& params)
    : ln_1(name + ".ln_1", c.n_embd, c.bias, params),
      attn(name + ".attn", c, a, seed, params),
      ln_2(name + ".ln_2", c.n_embd, c.bias, params),
      mlp(name + ".mlp", c, a, seed, params) {}

Tensor Block::forward(const Tensor& x, Rng& rng) {
  Tensor h = add(x, attn.forward(ln_1.forward(x), rng));
  return add(h, mlp.forward(ln_2.forward(h), rng));
}

}  // namespace lmul::nn
