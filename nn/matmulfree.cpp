#include "nn/matmulfree.h"

#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace lmul::nn {

namespace {
Tensor add_param(Parameters& params, const std::string& name, const Shape& shape, bool decay, float fill) {
  Tensor t = Tensor::full(shape, fill, true);
  params.push_back({name, t, decay});
  return t;
}
// A projection's site: its [arith.modules] spec when the table names it, else the linear site's.
GemmSite::Specs specs(const ArithConfig& a, const std::string& module) {
  return {a.module_spec(module, a.linear), a.backward};
}
uint64_t site_seed(uint64_t seed, const std::string& name) {
  uint64_t h = seed;
  for (char c : name) h = Rng::mix(h ^ static_cast<uint8_t>(c));
  return h;
}
}  // namespace

int64_t matmulfree_intermediate_size(int64_t n_embd) {
  const int64_t raw = static_cast<int64_t>(static_cast<double>(n_embd) * 4.0 * 2.0 / 3.0);  // int(d·4·2/3)
  return 256 * ((raw + 255) / 256);
}

BitLinear::BitLinear(const std::string& name, int64_t in, int64_t out, const GemmSite::Specs& specs, uint64_t seed,
                     float eps_, Parameters& params)
    : site(GemmSite::make(name, specs, site_seed(seed, name))), eps(eps_) {
  weight = add_param(params, name + ".weight", {out, in}, true, 0.0f);
  norm_weight = add_param(params, name + ".norm.weight", {in}, false, 1.0f);
}

// RMSNorm with the inner weight, then y = Q_a(x̂)·Q_w(W)ᵀ through the site (linear()'s STE:
// dW from the quantised activations, dx from the quantised weights, fusedbitnet.py:470-510).
Tensor BitLinear::forward(const Tensor& x) {
  Tensor y = rms_norm(x, norm_weight, eps);
  // An integer forward (gemm=int) takes the weight's codes, not the frozen values: linear() forms them.
  if (!frozen_weight.defined() || grad_enabled() || site.forward->int8_forward())
    return linear(y, weight, Tensor(), site);
  // linear()'s forward with the weight quantised once: the same quantise and gemm calls.
  const int64_t in = weight.size(1), out = weight.size(0), N = y.numel() / in;
  Tensor yq(y.shape());
  const float* a =
      site.forward->quantize(arith::Role::activation, y.data(), N, in, in, yq.data()) ? yq.data() : y.data();
  Shape s = y.shape();
  s.back() = out;
  Tensor o(s);
  site.forward->gemm({false, true, N, out, in, a, in, frozen_weight.data(), in, o.data(), out, false});
  return o;
}

void BitLinear::freeze() {
  frozen_weight = Tensor(weight.shape());
  if (!site.forward->quantize(arith::Role::weight, weight.data(), weight.size(0), weight.size(1), weight.size(1),
                              frozen_weight.data()))
    frozen_weight = weight;
}

void BitLinear::unfreeze() { frozen_weight = Tensor(); }

// One HGRNBitBlock: attn_norm → HGRNBitAttention (MLGRU) → residual, mlp_norm → HGRNBitMLP → residual.
struct MatMulFree::Layer {
  Tensor attn_norm;
  BitLinear i_proj, f_proj, g_proj;
  Tensor g_norm;
  BitLinear o_proj;
  Tensor mlp_norm;
  BitLinear gate_proj, down_proj;
  int64_t index;
  float eps;

  Layer(const std::string& p, int64_t l, const MatMulFreeConfig& c, const ArithConfig& a, uint64_t seed,
        Parameters& params, int64_t I)
      : attn_norm(add_param(params, p + ".attn_norm.weight", {c.n_embd}, false, 1.0f)),
        i_proj(p + ".attn.i_proj", c.n_embd, c.n_embd, specs(a, p + ".attn.i_proj"), seed, c.rms_norm_eps, params),
        f_proj(p + ".attn.f_proj", c.n_embd, c.n_embd, specs(a, p + ".attn.f_proj"), seed, c.rms_norm_eps, params),
        g_proj(p + ".attn.g_proj", c.n_embd, c.n_embd, specs(a, p + ".attn.g_proj"), seed, c.rms_norm_eps, params),
        g_norm(add_param(params, p + ".attn.g_norm.weight", {c.n_embd}, false, 1.0f)),
        o_proj(p + ".attn.o_proj", c.n_embd, c.n_embd, specs(a, p + ".attn.o_proj"), seed, c.rms_norm_eps, params),
        mlp_norm(add_param(params, p + ".mlp_norm.weight", {c.n_embd}, false, 1.0f)),
        gate_proj(p + ".mlp.gate_proj", c.n_embd, 2 * I, specs(a, p + ".mlp.gate_proj"), seed, c.rms_norm_eps, params),
        down_proj(p + ".mlp.down_proj", I, c.n_embd, specs(a, p + ".mlp.down_proj"), seed, c.rms_norm_eps, params),
        index(l),
        eps(c.rms_norm_eps) {}

  // x (B,T,d) → x'. lb: the lower bounds (L,d) or undefined; h0/h_last: recurrent state in and out.
  Tensor forward(const Tensor& x, const Tensor& lb, const Tensor& h0, Tensor* h_last) {
    Tensor a = rms_norm(x, attn_norm, eps);
    Tensor f = sigmoid(f_proj.forward(a));
    if (lb.defined() && index > 0) f = forget_gate(f, lb, index);  // layer 0 is not floored
    Tensor c = mul(silu(i_proj.forward(a)), one_minus(f));         // swiglu(i, 1 − f)
    Tensor h = linear_recurrence(f, c, h0, h_last);
    // FusedRMSNormSwishGate(g, h): the gate projection is normalised, the state goes through SiLU.
    Tensor o = mul(rms_norm(g_proj.forward(a), g_norm, eps), silu(h));
    Tensor r = add(x, o_proj.forward(o));
    Tensor m = rms_norm(r, mlp_norm, eps);
    return add(r, down_proj.forward(swiglu(gate_proj.forward(m))));
  }
};

MatMulFree::MatMulFree(const MatMulFreeConfig& c, const ArithConfig& a, uint64_t seed) : config_(c) {
  const int64_t I = c.intermediate_size > 0 ? c.intermediate_size : matmulfree_intermediate_size(c.n_embd);
  config_.intermediate_size = I;
  if (c.use_lower_bound) lower_bounds_ = add_param(params_, "model.lower_bounds", {c.n_layer, c.n_embd}, false, 0.0f);
  embeddings_ = add_param(params_, "model.embeddings.weight", {c.vocab_size, c.n_embd}, true, 0.0f);
  for (int64_t l = 0; l < c.n_layer; ++l)
    layers_.push_back(std::make_unique<Layer>("model.layers." + std::to_string(l), l, c, a, seed, params_, I));
  norm_ = add_param(params_, "model.norm.weight", {c.n_embd}, false, 1.0f);
  lm_head_ = std::make_unique<BitLinear>("lm_head", c.n_embd, c.vocab_size,
                                         GemmSite::Specs{a.module_spec("lm_head", a.head), a.backward}, seed,
                                         c.rms_norm_eps, params_);
}

MatMulFree::~MatMulFree() = default;

void MatMulFree::init(Rng& rng) {
  auto normal = [&](const Tensor& t, float std) {
    for (float& v : t.values()) v = static_cast<float>(rng.normal()) * std;
  };
  auto xavier = [&](const Tensor& t) {  // nn.init.xavier_uniform_(w, gain=2 ** -2.5)
    const double fan_out = static_cast<double>(t.size(0)), fan_in = static_cast<double>(t.size(1));
    const float bound = static_cast<float>(std::pow(2.0, -2.5) * std::sqrt(6.0 / (fan_in + fan_out)));
    for (float& v : t.values()) v = (2.0f * rng.uniform() - 1.0f) * bound;
  };
  auto ones = [](const Tensor& t) {
    for (float& v : t.values()) v = 1.0f;
  };
  if (lower_bounds_.defined())
    for (float& v : lower_bounds_.values()) v = 0.0f;
  normal(embeddings_, 0.02f);
  const float down_std = 0.02f / std::sqrt(2.0f * static_cast<float>(config_.n_layer));
  for (auto& l : layers_) {
    for (BitLinear* p : {&l->i_proj, &l->f_proj, &l->g_proj, &l->o_proj}) xavier(p->weight);
    normal(l->gate_proj.weight, 0.02f);
    normal(l->down_proj.weight, down_std);
    for (BitLinear* p : {&l->i_proj, &l->f_proj, &l->g_proj, &l->o_proj, &l->gate_proj, &l->down_proj})
      ones(p->norm_weight);
    ones(l->attn_norm);
    ones(l->g_norm);
    ones(l->mlp_norm);
  }
  ones(norm_);
  normal(lm_head_->weight, 0.02f);
  ones(lm_head_->norm_weight);
}

MatMulFree::Output MatMulFree::run(std::span<const int32_t> idx, int64_t B, int64_t T, std::span<const int32_t> targets,
                                   bool last_position_only, std::vector<Tensor>* state) {
  const int64_t d = config_.n_embd;
  for (int32_t id : idx)
    if (id < 0 || id >= config_.vocab_size)
      throw Error("token id {} is outside the vocabulary [0, {})", id, config_.vocab_size);
  Tensor x = reshape(gather_rows(embeddings_, idx), {B, T, d});
  const Tensor lb = lower_bounds_.defined() ? lower_bounds(lower_bounds_) : Tensor();
  for (size_t l = 0; l < layers_.size(); ++l) {
    Tensor h0 = state ? (*state)[l] : Tensor();
    Tensor h_last;
    x = layers_[l]->forward(x, lb, h0, state ? &h_last : nullptr);
    if (state) (*state)[l] = h_last;
  }
  x = rms_norm(x, norm_, config_.rms_norm_eps);
  if (last_position_only) {
    std::vector<int32_t> rows(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) rows[static_cast<size_t>(b)] = static_cast<int32_t>(b * T + T - 1);
    x = reshape(gather_rows(reshape(x, {B * T, d}), rows), {B, 1, d});
  }
  Output out;
  out.logits = lm_head_->forward(x);
  if (!targets.empty()) out.loss = cross_entropy(out.logits, targets);
  return out;
}

MatMulFree::Output MatMulFree::forward(std::span<const int32_t> idx, int64_t B, int64_t T,
                                       std::span<const int32_t> targets, Rng&, bool last_position_only) {
  if (T > config_.block_size)
    throw Error("cannot forward a sequence of length {}: block_size is only {}", T, config_.block_size);
  return run(idx, B, T, targets, last_position_only, nullptr);
}

// Generation with the recurrent state carried from token to token: each step costs the same,
// whatever the length of the text so far (the model has no window).
class MatMulFreeStream final : public TokenStream {
 public:
  explicit MatMulFreeStream(MatMulFree& m) : m_(m), state_(m.layers_.size()) {
    for (Tensor& h : state_) h = Tensor::zeros({1, m.config_.n_embd});
    for (BitLinear* b : m_.bit_linears()) b->freeze();
  }
  ~MatMulFreeStream() override {
    for (BitLinear* b : m_.bit_linears()) b->unfreeze();
  }
  MatMulFreeStream(const MatMulFreeStream&) = delete;
  MatMulFreeStream& operator=(const MatMulFreeStream&) = delete;
  Tensor feed(std::span<const int32_t> ids) override {
    return m_.run(ids, 1, static_cast<int64_t>(ids.size()), {}, true, &state_).logits;
  }

 private:
  MatMulFree& m_;
  std::vector<Tensor> state_;
};

std::unique_ptr<TokenStream> MatMulFree::stream() { return std::make_unique<MatMulFreeStream>(*this); }

std::vector<BitLinear*> MatMulFree::bit_linears() {
  std::vector<BitLinear*> s;
  for (auto& l : layers_)
    for (BitLinear* p : {&l->i_proj, &l->f_proj, &l->g_proj, &l->o_proj, &l->gate_proj, &l->down_proj}) s.push_back(p);
  s.push_back(lm_head_.get());
  return s;
}

std::vector<GemmSite*> MatMulFree::gemm_sites() {
  std::vector<GemmSite*> s;
  for (BitLinear* b : bit_linears()) s.push_back(&b->site);
  return s;
}

int64_t MatMulFree::num_params(bool non_embedding) const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.value.numel();
  if (non_embedding) n -= embeddings_.numel();
  return n;
}

}  // namespace lmul::nn
