#include "nn/gpt.h"

#include <cmath>

#include "core/error.h"
#include "core/ops.h"

namespace lmul::nn {

GPT::GPT(const GPTConfig& c, const ArithConfig& a, uint64_t seed) : config_(c), dropout_(c.dropout), arith_(a) {
  if (c.n_embd % c.n_head != 0) throw Error("n_embd={} is not divisible by n_head={}", c.n_embd, c.n_head);
  wte_ = Tensor::zeros({c.vocab_size, c.n_embd}, true);
  wpe_ = Tensor::zeros({c.block_size, c.n_embd}, true);
  params_.push_back({"transformer.wte.weight", wte_, true});
  params_.push_back({"transformer.wpe.weight", wpe_, true});
  for (int64_t l = 0; l < c.n_layer; ++l)
    blocks_.push_back(std::make_unique<Block>("transformer.h." + std::to_string(l), c, a, seed, params_));
  ln_f_ = std::make_unique<LayerNorm>("transformer.ln_f", c.n_embd, c.bias, params_);
  head_site_ = GemmSite::make("lm_head", {a.module_spec("lm_head", a.head), a.backward}, Rng::mix(seed ^ 0x4ead));
  if (a.embedding != "exact") {
    embedding_quant_ = arith::make_multiplier(a.embedding, Rng::mix(seed ^ 0xe3bedull));
    // A format that takes fp32 as it is (e.g. an L-Mul spec) has nothing to do on a table.
    float probe = 0.3f, out = 0;
    if (!embedding_quant_->quantize(arith::Role::weight, &probe, 1, 1, 1, &out)) embedding_quant_.reset();
  }
}

void GPT::init(Rng& rng) {
  const float proj_std = 0.02f / std::sqrt(2.0f * static_cast<float>(config_.n_layer));
  for (auto& p : params_) {
    if (p.value.dim() == 2) {
      const bool proj = p.name.ends_with("c_proj.weight");
      const float std = proj ? proj_std : 0.02f;
      for (float& v : p.value.values()) v = static_cast<float>(rng.normal()) * std;
    } else if (p.name.ends_with(".bias")) {
      for (float& v : p.value.values()) v = 0.0f;
    } else {
      for (float& v : p.value.values()) v = 1.0f;  // LayerNorm weights
    }
  }
}

GPT::Output GPT::forward(std::span<const int32_t> idx, int64_t B, int64_t T, std::span<const int32_t> targets, Rng& rng,
                         bool last_position_only) {
  if (T > config_.block_size)
    throw Error("cannot forward a sequence of length {}: block_size is only {}", T, config_.block_size);
  Tensor wte = wte_, wpe = wpe_;
  if (embedding_quant_) {
    wte = quantize_ste(wte_, *embedding_quant_, arith::Role::weight);
    wpe = quantize_ste(wpe_, *embedding_quant_, arith::Role::weight);
  }
  Tensor x = dropout(embedding(wte, wpe, idx, B, T), dropout_, rng);
  for (auto& block : blocks_) x = block->forward(x, rng);
  x = ln_f_->forward(x);
  Output out;
  if (last_position_only) {
    std::vector<int32_t> rows(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) rows[static_cast<size_t>(b)] = static_cast<int32_t>(b * T + T - 1);
    x = reshape(gather_rows(reshape(x, {B * T, config_.n_embd}), rows), {B, 1, config_.n_embd});
  }
  out.logits = linear(x, wte_, Tensor(), head_site_);
  if (!targets.empty()) out.loss = cross_entropy(out.logits, targets);
  return out;
}

void GPT::set_training(bool training) {
  dropout_ = training ? config_.dropout : 0.0f;
  for (auto& b : blocks_) b->attn.dropout = b->mlp.dropout = dropout_;
}

const Parameter& GPT::parameter(const std::string& name) const {
  for (const auto& p : params_)
    if (p.name == name) return p;
  throw Error("the model has no parameter '{}'", name);
}

std::vector<GemmSite*> GPT::gemm_sites() {
  std::vector<GemmSite*> s;
  for (auto& b : blocks_) {
    s.push_back(&b->attn.c_attn.site);
    s.push_back(&b->attn.qk_site);
    s.push_back(&b->attn.pv_site);
    s.push_back(&b->attn.c_proj.site);
    s.push_back(&b->mlp.c_fc.site);
    s.push_back(&b->mlp.c_proj.site);
  }
  s.push_back(&head_site_);
  return s;
}

int64_t GPT::num_params(bool non_embedding) const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.value.numel();
  if (non_embedding) n -= wpe_.numel();
  return n;
}

double GPT::flops_per_token() const {
  const double N = static_cast<double>(num_params()), L = static_cast<double>(config_.n_layer),
               H = static_cast<double>(config_.n_head), Q = static_cast<double>(config_.n_embd / config_.n_head),
               T = static_cast<double>(config_.block_size);
  return 6 * N + 12 * L * H * Q * T;
}

}  // namespace lmul::nn
