// The GPT against PyTorch golden values (scripts/make_golden.py, nanoGPT's model.py in
// torch 1.13): logits, loss, every parameter gradient, and the parameters after 3 AdamW steps with
// clipping. Reports the max relative error seen (max |ours − torch| / max |torch| per tensor).
// Also the GPT with lmul:m=4 Linear layers against PyTorch with lmul.torch.Linear
// (scripts/make_lmul_golden.py): the GEMMs bit for bit, the training to a tolerance.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/safetensors.h"
#include "nn/gpt.h"
#include "optim/adamw.h"

using namespace lmul;

namespace {

// The model shape a golden file's metadata records (scripts/make_golden.py), dropout off.
template <class Metadata>
nn::GPTConfig golden_config(const Metadata& m) {
  nn::GPTConfig c;
  c.n_layer = std::stoi(m.at("n_layer"));
  c.n_head = std::stoi(m.at("n_head"));
  c.n_embd = std::stoi(m.at("n_embd"));
  c.block_size = std::stoi(m.at("block_size"));
  c.vocab_size = std::stoi(m.at("vocab_size"));
  c.bias = m.at("bias") == "true";
  c.dropout = 0;
  return c;
}
double rel_error(std::span<const float> ours, const std::vector<float>& ref) {
  REQUIRE(ours.size() == ref.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::abs(ours[i] - ref[i])));
    scale = std::max(scale, static_cast<double>(std::abs(ref[i])));
  }
  return diff / std::max(scale, 1e-30);
}

void check_golden(const std::string& file) {
  auto g = SafetensorsFile::load(std::string(LMUL_SOURCE_DIR) + "/tests/golden/" + file);
  const auto& m = g.metadata();
  const nn::GPTConfig c = golden_config(m);
  nn::GPT model(c, {}, 0);
  for (auto& p : model.parameters()) {
    auto v = g.f32("param." + p.name, &p.value.shape());
    std::copy(v.begin(), v.end(), p.value.data());
  }
  const auto idx = g.i32("idx"), targets = g.i32("targets");
  const int64_t B = g.entry("idx").shape[0], T = g.entry("idx").shape[1];
  Rng rng(0);

  auto out = model.forward(idx, B, T, targets, rng);
  double worst = rel_error(out.logits.values(), g.f32("logits"));
  MESSAGE(file << ": logits max rel error " << worst);
  CHECK(worst <= 1e-4);
  const double loss_err = std::abs(out.loss.item() - g.f32("loss")[0]) / g.f32("loss")[0];
  MESSAGE(file << ": loss rel error " << loss_err);
  CHECK(loss_err <= 1e-4);
  backward(out.loss);
  double grad_worst = 0;
  for (auto& p : model.parameters()) {
    const double e = rel_error(p.value.grad_values(), g.f32("grad." + p.name));
    INFO(p.name);
    CHECK(e <= 1e-4);
    grad_worst = std::max(grad_worst, e);
  }
  MESSAGE(file << ": gradients max rel error " << grad_worst);

  // 3 AdamW steps on the same batch with clipping, as make_golden.py.
  for (auto& p : model.parameters()) p.value.zero_grad();
  optim::AdamW opt(model.parameters(), {std::stof(m.at("beta1")), std::stof(m.at("beta2")), std::stof(m.at("eps")),
                                        std::stof(m.at("weight_decay"))});
  const auto norms = g.f32("grad_norm"), losses = g.f32("loss_steps");
  for (int s = 0; s < 3; ++s) {
    auto o = model.forward(idx, B, T, targets, rng);
    CHECK(o.loss.item() == doctest::Approx(losses[static_cast<size_t>(s)]).epsilon(1e-4));
    backward(o.loss);
    const float norm = optim::clip_grad_norm(model.parameters(), std::stof(m.at("grad_clip")));
    CHECK(norm == doctest::Approx(norms[static_cast<size_t>(s)]).epsilon(1e-4));
    opt.step(std::stof(m.at("lr")));
    opt.zero_grad();
  }
  // Parameters after 3 steps, relative to each tensor's scale, except where the true gradient is
  // (nearly) zero: Adam divides m by √v, so fp32 rounding noise in a gradient of |g| < 1e-6 becomes
  // noise of order lr in the update (the key third of c_attn.bias has an exactly-zero gradient,
  // see make_golden.py). Those elements get an absolute tolerance of 5e-5 (lr = 1e-2).
  double step_worst = 0;
  int ill_conditioned = 0;
  for (auto& p : model.parameters()) {
    auto ref = g.f32("step3." + p.name);
    auto grad0 = g.f32("grad." + p.name);
    auto ours = p.value.values();
    double scale = 0, diff = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      if (std::abs(grad0[i]) < 1e-6f) {
        CHECK(std::abs(ours[i] - ref[i]) <= 5e-5);
        ++ill_conditioned;
        continue;
      }
      scale = std::max(scale, static_cast<double>(std::abs(ref[i])));
      diff = std::max(diff, static_cast<double>(std::abs(ours[i] - ref[i])));
    }
    INFO(p.name);
    CHECK(diff / scale <= 1e-4);
    step_worst = std::max(step_worst, diff / scale);
  }
  MESSAGE(file << ": parameters after 3 AdamW steps max rel error " << step_worst << " (" << ill_conditioned
               << " elements with |grad| < 1e-6 checked to 5e-5 absolute)");
}
// True when a and b hold the same float32 bit patterns.
bool same_bits(std::span<const float> a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), b.size() * sizeof(float)) == 0;
}

// lmul's C++ GPT with lmul:m=4 Block Linears against the same training in PyTorch with
// lmul.torch.Linear (scripts/make_lmul_golden.py): every Linear's GEMMs bit for bit, then losses
// and weights over the training steps.
void check_lmul_torch_golden() {
  const std::string dir = std::string(LMUL_SOURCE_DIR) + "/tests/golden/";
  auto g = SafetensorsFile::load(dir + "gpt_tiny_lmul4.safetensors");
  auto init = SafetensorsFile::load(dir + g.metadata().at("source"));
  const auto& m = init.metadata();
  const std::string arith = g.metadata().at("arith");
  const int steps = std::stoi(g.metadata().at("steps"));
  const nn::GPTConfig c = golden_config(m);
  nn::ArithConfig a;
  a.linear = arith;
  nn::GPT model(c, a, 0);
  for (auto& p : model.parameters()) {
    auto v = init.f32("param." + p.name, &p.value.shape());
    std::copy(v.begin(), v.end(), p.value.data());
  }

  // The GEMMs: linear() on the inputs and gradients PyTorch's lmul.torch.Linear saw.
  int sites = 0;
  for (int64_t l = 0; l < c.n_layer; ++l)
    for (const char* module : {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"}) {
      const std::string name = fmt::format("transformer.h.{}.{}", l, module), key = "site." + name;
      INFO(name);
      GemmSite site = GemmSite::make(name, {arith, "same"}, 0);
      const auto& xs = g.entry(key + ".x").shape;
      Tensor x = Tensor::from(xs, g.f32(key + ".x"), true);
      const auto& ws = init.entry("param." + name + ".weight").shape;
      Tensor w = Tensor::from(ws, init.f32("param." + name + ".weight"), true);
      Tensor b = Tensor::from({ws[0]}, init.f32("param." + name + ".bias"), true);
      Tensor y = linear(x, w, b, site);
      CHECK(same_bits(y.values(), g.f32(key + ".y")));
      Tensor dy = Tensor::from(y.shape(), g.f32(key + ".dy"));
      backward(sum(mul(y, dy)));
      CHECK(same_bits(x.grad_values(), g.f32(key + ".dx")));
      CHECK(same_bits(w.grad_values(), g.f32(key + ".dw")));
      CHECK(same_bits(b.grad_values(), g.f32(key + ".db")));
      ++sites;
    }
  CHECK(sites == 4 * c.n_layer);

  // The training of make_golden.py: same batch each step, clipping, AdamW.
  const auto idx = init.i32("idx"), targets = init.i32("targets");
  const int64_t B = init.entry("idx").shape[0], T = init.entry("idx").shape[1];
  Rng rng(0);
  optim::AdamW opt(model.parameters(), {std::stof(m.at("beta1")), std::stof(m.at("beta2")), std::stof(m.at("eps")),
                                        std::stof(m.at("weight_decay"))});
  const auto losses = g.f32("loss_steps"), norms = g.f32("grad_norm");
  REQUIRE(static_cast<int>(losses.size()) == steps);
  const auto exact_losses = init.f32("loss_steps");
  double loss_worst = 0;
  for (int s = 0; s < steps; ++s) {
    auto o = model.forward(idx, B, T, targets, rng);
    const double rel = std::abs(o.loss.item() - losses[static_cast<size_t>(s)]) / losses[static_cast<size_t>(s)];
    CHECK(rel <= 1e-5);
    loss_worst = std::max(loss_worst, rel);
    if (s == 2)  // the arithmetic matters: two updates later lmul:m=4 is off the exact run by far more
      CHECK(std::abs(losses[2] - exact_losses[2]) > 1e-3);
    backward(o.loss);
    const float norm = optim::clip_grad_norm(model.parameters(), std::stof(m.at("grad_clip")));
    CHECK(norm == doctest::Approx(norms[static_cast<size_t>(s)]).epsilon(1e-4));
    opt.step(std::stof(m.at("lr")));
    opt.zero_grad();
  }
  MESSAGE("lmul:m=4 GPT vs lmul.torch: losses over " << steps << " steps max rel error " << loss_worst);
  // The weights: the same GEMM inputs round alike, but an input that differs in its last fp32 bit
  // (torch's LayerNorm, softmax and GELU against lmul's) can round to the neighbouring 4-bit
  // mantissa, and Adam turns that gradient element's change into an update of up to lr. So: the
  // mean difference small, the largest one below half a step (lr/2).
  const double lr = std::stod(m.at("lr"));
  double mean_worst = 0, max_worst = 0;
  for (auto& p : model.parameters()) {
    auto ref = g.f32(fmt::format("step{}.{}", steps, p.name));
    auto ours = p.value.values();
    double sum = 0, diff = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      const double d = std::abs(static_cast<double>(ours[i]) - ref[i]);
      sum += d;
      diff = std::max(diff, d);
    }
    INFO(p.name);
    CHECK(sum / static_cast<double>(ref.size()) <= 1e-4);
    CHECK(diff <= lr / 2);
    mean_worst = std::max(mean_worst, sum / static_cast<double>(ref.size()));
    max_worst = std::max(max_worst, diff);
  }
  MESSAGE("lmul:m=4 GPT vs lmul.torch: parameters after "
          << steps << " steps: mean |difference| per tensor <= " << mean_worst << ", max " << max_worst << " (lr " << lr
          << ")");
}
}  // namespace

TEST_SUITE("golden") {
  TEST_CASE("tiny GPT with lmul:m=4 Linear layers matches lmul.torch in PyTorch") { check_lmul_torch_golden(); }
  TEST_CASE("tiny GPT with biases matches PyTorch") { check_golden("gpt_tiny_bias.safetensors"); }
  TEST_CASE("tiny GPT without biases matches PyTorch") { check_golden("gpt_tiny_nobias.safetensors"); }
}
