// A recording test double proves that every GEMM of a GPT training step goes through the
// arithmetic seam of its site, with the configured spec, in both passes.
#include <doctest/doctest.h>

#include <map>

#include "core/autograd.h"
#include "nn/gpt.h"

using namespace lmul;

namespace {
struct Call {
  std::string site, pass, spec;
  int64_t M, N, K, batch;
};

// Delegates to the real multiplier and records every GEMM it forms.
class Recorder final : public arith::Multiplier {
 public:
  Recorder(std::unique_ptr<arith::Multiplier> inner, std::string site, std::string pass, std::vector<Call>& log)
      : inner_(std::move(inner)), site_(std::move(site)), pass_(std::move(pass)), log_(log) {}
  std::string spec() const override { return inner_->spec(); }
  bool quantize(arith::Role r, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) override {
    return inner_->quantize(r, x, rows, cols, ld, out);
  }
  void gemm(const arith::Gemm& g) override {
    log_.push_back({site_, pass_, spec(), g.M, g.N, g.K, 1});
    inner_->gemm(g);
  }
  void gemm_batched(const arith::Gemm& g, int64_t batch, int64_t sa, int64_t sb, int64_t sc) override {
    log_.push_back({site_, pass_, spec(), g.M, g.N, g.K, batch});
    inner_->gemm_batched(g, batch, sa, sb, sc);
  }

 private:
  std::unique_ptr<arith::Multiplier> inner_;
  std::string site_, pass_;
  std::vector<Call>& log_;
};
}  // namespace

TEST_SUITE("seam") {
  TEST_CASE("every GEMM of a GPT step goes through its site's multiplier with the configured spec") {
    nn::GPTConfig c;
    c.n_layer = 2, c.n_head = 2, c.n_embd = 16, c.block_size = 8, c.vocab_size = 11, c.bias = true;
    nn::ArithConfig a;
    a.linear = "lmul:m=4";
    a.attention = "fp8:e4m3";
    a.head = "bf16";
    a.backward = "exact";
    nn::GPT model(c, a, 1);
    Rng init(1);
    model.init(init);
    std::vector<Call> log;
    for (GemmSite* s : model.gemm_sites()) {
      s->forward = std::make_unique<Recorder>(std::move(s->forward), s->name, "forward", log);
      s->backward = std::make_unique<Recorder>(std::move(s->backward), s->name, "backward", log);
    }
    const int64_t B = 2, T = 8;
    std::vector<int32_t> x(B * T), y(B * T);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<int32_t>(i % 11), y[i] = static_cast<int32_t>((i + 3) % 11);
    Rng rng(2);
    backward(model.forward(x, B, T, y, rng).loss);

    std::map<std::string, int> per_pass;
    for (const Call& k : log) {
      per_pass[k.pass]++;
      INFO(k.site << " " << k.pass);
      if (k.pass == "backward") {
        CHECK(k.spec == "exact");
      } else if (k.site == "lm_head") {
        CHECK(k.spec == "float:e=8,m=7,round=nearest");
      } else if (k.site.ends_with(".qk") || k.site.ends_with(".pv")) {
        CHECK(k.spec.rfind("fp8:e4m3", 0) == 0);
        CHECK(k.batch == B * c.n_head);
      } else {
        CHECK(k.spec == "lmul:m=4,variant=bits,round=rne");
      }
    }
    // forward: per layer c_attn, qk, pv, c_proj, c_fc, mlp c_proj; then lm_head.
    CHECK(per_pass["forward"] == 6 * c.n_layer + 1);
    // backward: two GEMMs (one per operand) for each forward GEMM; wte's embedding is a gather.
    CHECK(per_pass["backward"] == 2 * (6 * c.n_layer + 1));
    // every parameter got a gradient: nothing bypassed the tape either
    for (auto& p : model.parameters()) CHECK(p.value.has_grad());
  }
}
