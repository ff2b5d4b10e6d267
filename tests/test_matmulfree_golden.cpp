// The MatMul-free LM against PyTorch golden values (scripts/make_matmulfree_golden.py, the model
// written out in scripts/matmulfree_reference.py from the spec): logits, loss and every parameter
// gradient of a tiny instance (vocab 65, 2 layers, width 64, I = 256, lower bounds on), with
// quantisation off (every BitLinear exact) and on (the `ternary` arithmetic: int8 activations ×
// ternary weights, STE backward). Reports the max relative error seen (max |ours − torch| /
// max |torch| per tensor).
//
// Tolerances. Off: the reference is float64, so what is left is our fp32 rounding: 2e-5 on logits,
// loss and each gradient (measured ≈1e-6; torch's own fp32 run is 1.7e-6 from float64). On: the
// ternary codes round(W/mean|W|) must be equal element for element; the reference is fp32 (the
// quantiser's boundaries are fp32 decisions), and an fp32 summation-order difference can move an
// activation across a rounding boundary (one int8 level = max|y|/127), so logits and loss get 1e-4
// relative and each gradient 1e-3 relative to its tensor's scale.
#include <doctest/doctest.h>

#include <cmath>

#include "core/arith/arith.h"
#include "core/autograd.h"
#include "core/safetensors.h"
#include "nn/matmulfree.h"

using namespace lmul;

namespace {
double rel_error(std::span<const float> ours, const std::vector<float>& ref) {
  REQUIRE(ours.size() == ref.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::abs(ours[i] - ref[i])));
    scale = std::max(scale, static_cast<double>(std::abs(ref[i])));
  }
  return diff / std::max(scale, 1e-30);
}

void check_golden(const std::string& file, double tol_out, double tol_grad) {
  auto g = SafetensorsFile::load(std::string(LMUL_SOURCE_DIR) + "/tests/golden/" + file);
  const auto& m = g.metadata();
  const bool quant = m.at("quant") == "true";
  nn::MatMulFreeConfig c;
  c.vocab_size = std::stoi(m.at("vocab_size"));
  c.n_layer = std::stoi(m.at("n_layer"));
  c.n_embd = std::stoi(m.at("n_embd"));
  c.block_size = std::stoi(m.at("seq_len"));
  c.use_lower_bound = m.at("use_lower_bound") == "true";
  c.rms_norm_eps = std::stof(m.at("rms_norm_eps"));
  CHECK(nn::matmulfree_intermediate_size(c.n_embd) == std::stoi(m.at("intermediate_size")));
  nn::ArithConfig a;
  a.linear = a.head = quant ? "ternary" : "exact";
  nn::MatMulFree model(c, a, 0);
  CHECK(model.num_params(false) == 141184);  // the spec's count for (V65, L2, d64)
  // The reference's state_dict, names and order, so checkpoints and exports load into it by name.
  std::string names;
  for (const auto& p : model.parameters()) names += (names.empty() ? "" : ",") + p.name;
  CHECK(names == m.at("state_dict"));
  for (auto& p : model.parameters()) {
    INFO(p.name);
    auto v = g.f32("param." + p.name, &p.value.shape());
    std::copy(v.begin(), v.end(), p.value.data());
  }

  if (quant) {  // the ternary codes of every BitLinear weight, exactly
    auto ternary = arith::make_multiplier("ternary");
    int64_t weights = 0, mismatches = 0;
    for (auto& p : model.parameters()) {
      if (!g.has("codes." + p.name)) continue;
      const auto codes = g.i32("codes." + p.name);
      std::vector<float> q(static_cast<size_t>(p.value.numel()));
      REQUIRE(ternary->quantize(arith::Role::weight, p.value.data(), p.value.size(0), p.value.size(1), p.value.size(1),
                                q.data()));
      for (size_t i = 0; i < q.size(); ++i) mismatches += (q[i] > 0 ? 1 : q[i] < 0 ? -1 : 0) != codes[i];
      ++weights;
    }
    CHECK(weights == 6 * c.n_layer + 1);  // six per block and lm_head
    CHECK(mismatches == 0);
    MESSAGE(file << ": " << weights << " ternary weight tensors, code mismatches " << mismatches);
  }

  const auto idx = g.i32("idx"), targets = g.i32("targets");
  const int64_t B = g.entry("idx").shape[0], T = g.entry("idx").shape[1];
  Rng rng(0);
  auto out = model.forward(idx, B, T, targets, rng);
  const double logit_err = rel_error(out.logits.values(), g.f32("logits"));
  const double loss_err = std::abs(out.loss.item() - g.f32("loss")[0]) / g.f32("loss")[0];
  MESSAGE(file << ": logits max rel error " << logit_err << ", loss rel error " << loss_err);
  CHECK(logit_err <= tol_out);
  CHECK(loss_err <= tol_out);
  backward(out.loss);
  double grad_worst = 0;
  for (auto& p : model.parameters()) {
    const double e = rel_error(p.value.grad_values(), g.f32("grad." + p.name));
    INFO(p.name);
    CHECK(e <= tol_grad);
    grad_worst = std::max(grad_worst, e);
  }
  MESSAGE(file << ": gradients max rel error " << grad_worst);
}
}  // namespace

TEST_SUITE("golden") {
  TEST_CASE("tiny MatMul-free LM without quantisation matches PyTorch (float64)") {
    check_golden("matmulfree_tiny_exact.safetensors", 2e-5, 2e-5);
  }
  TEST_CASE("tiny MatMul-free LM with ternary BitLinear matches PyTorch: codes exactly, loss within 1e-4") {
    check_golden("matmulfree_tiny_ternary.safetensors", 1e-4, 1e-3);
  }
}
