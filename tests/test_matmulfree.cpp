// The MatMul-free LM (nn/matmulfree.h) as a model of the framework: every forward GEMM of a
// training step is int8 × ternary (a recording multiplier sees the operands), generation that
// carries the recurrent state gives the logits of a full forward, and the CLI trains, evaluates,
// samples and exports it under the reference's state_dict names.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/autograd.h"
#include "core/safetensors.h"
#include "nn/matmulfree.h"
#include "test_helpers.h"

using namespace lmul;
using namespace lmul::testing;
using lmul::test::TempDir;

namespace {
struct Call {
  std::string site, pass, spec;
  int64_t M, N, K;
  bool int8_activations = false, ternary_weights = false;
};

// Every row of a (rows×cols, row stride ld) is k·(max|row|/127) with integer k: int8 absmax codes.
bool int8_rows(const float* a, int64_t rows, int64_t cols, int64_t ld) {
  for (int64_t i = 0; i < rows; ++i) {
    float amax = 0;
    for (int64_t j = 0; j < cols; ++j) amax = std::max(amax, std::abs(a[i * ld + j]));
    if (amax == 0) continue;
    for (int64_t j = 0; j < cols; ++j) {
      const double k = static_cast<double>(a[i * ld + j]) * 127.0 / amax;
      if (std::abs(k - std::nearbyint(k)) > 1e-3 || std::abs(k) > 127.5) return false;
    }
  }
  return true;
}

// At most three values, −γ, 0 and +γ: a ternary weight.
bool ternary(const float* b, int64_t rows, int64_t cols, int64_t ld) {
  std::set<float> levels;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) levels.insert(std::abs(b[i * ld + j]));
  levels.erase(0.0f);
  return levels.size() <= 1;
}

// Delegates to the real multiplier; records each GEMM and what its operands are.
class Recorder final : public arith::Multiplier {
 public:
  Recorder(std::unique_ptr<arith::Multiplier> inner, std::string site, std::string pass, std::vector<Call>& log)
      : inner_(std::move(inner)), site_(std::move(site)), pass_(std::move(pass)), log_(log) {}
  std::string spec() const override { return inner_->spec(); }
  bool quantize(arith::Role r, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) override {
    return inner_->quantize(r, x, rows, cols, ld, out);
  }
  void gemm(const arith::Gemm& g) override {
    Call c{site_, pass_, spec(), g.M, g.N, g.K};
    if (pass_ == "forward" && !g.ta && g.tb) {  // linear(): A = activations (M×K), B = weight (N×K)
      c.int8_activations = int8_rows(g.A, g.M, g.K, g.lda);
      c.ternary_weights = ternary(g.B, g.N, g.K, g.ldb);
    }
    log_.push_back(c);
    inner_->gemm(g);
  }

 private:
  std::unique_ptr<arith::Multiplier> inner_;
  std::string site_, pass_;
  std::vector<Call>& log_;
};

nn::MatMulFreeConfig tiny(int64_t layers = 2) {
  nn::MatMulFreeConfig c;
  c.vocab_size = 13, c.n_layer = layers, c.n_embd = 16, c.intermediate_size = 32, c.block_size = 64;
  return c;
}

// A MatMul-free run on Tiny Shakespeare (char level) in d/run.
std::string mmf_config(const TempDir& d, int max_iters, const std::string& extra = "") {
  write_file(
      d / "c.toml",
      "model = \"matmulfree\"\ndataset = \"" + shakespeare_char_dir() + "\"\nout_dir = \"" + (d / "run") +
          "\"\nn_layer = 2\nn_embd = 16\nintermediate_size = 32\nblock_size = 16\n"
          "batch_size = 2\nmax_iters = " +
          std::to_string(max_iters) +
          "\neval_interval = 2\neval_iters = 1\nwarmup_iters = 1\nlr_decay_iters = " + std::to_string(max_iters) +
          "\nthreads = 1\n[arith]\nlinear = \"ternary\"\n" + "head = \"ternary\"\n" + extra);
  return d / "c.toml";
}
}  // namespace

TEST_SUITE("matmulfree") {
  TEST_CASE("every forward GEMM of a MatMul-free training step is int8 activations x ternary weights") {
    nn::ArithConfig a;
    a.linear = a.head = "ternary";
    nn::MatMulFree model(tiny(), a, 1);
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
      x[i] = static_cast<int32_t>(i % 13), y[i] = static_cast<int32_t>((i * 5 + 3) % 13);
    Rng rng(2);
    backward(model.forward(x, B, T, y, rng).loss);

    std::map<std::string, int> per_pass;
    for (const Call& k : log) {
      per_pass[k.pass]++;
      INFO(k.site << " " << k.pass);
      CHECK(k.spec == "ternary:act=int8");
      CHECK(k.M * k.N * k.K > 0);
      if (k.pass == "forward") {
        CHECK(k.int8_activations);
        CHECK(k.ternary_weights);
        CHECK(k.M == B * T);  // one row per token
      }
    }
    // Six BitLinear projections per block (i, f, g, o, gate, down) and lm_head; each backward
    // forms dx and dW (fp32 gradients times the ternary weights / the int8 activations).
    CHECK(per_pass["forward"] == 6 * 2 + 1);
    CHECK(per_pass["backward"] == 2 * (6 * 2 + 1));
    CHECK(log.size() == static_cast<size_t>(3 * (6 * 2 + 1)));
  }

  TEST_CASE("the parameters carry the reference's state_dict names, in its order") {
    nn::MatMulFree model(tiny(1), {}, 0);
    std::vector<std::string> names;
    for (const auto& p : model.parameters()) names.push_back(p.name);
    const std::vector<std::string> want = {
        "model.lower_bounds",
        "model.embeddings.weight",
        "model.layers.0.attn_norm.weight",
        "model.layers.0.attn.i_proj.weight",
        "model.layers.0.attn.i_proj.norm.weight",
        "model.layers.0.attn.f_proj.weight",
        "model.layers.0.attn.f_proj.norm.weight",
        "model.layers.0.attn.g_proj.weight",
        "model.layers.0.attn.g_proj.norm.weight",
        "model.layers.0.attn.g_norm.weight",
        "model.layers.0.attn.o_proj.weight",
        "model.layers.0.attn.o_proj.norm.weight",
        "model.layers.0.mlp_norm.weight",
        "model.layers.0.mlp.gate_proj.weight",
        "model.layers.0.mlp.gate_proj.norm.weight",
        "model.layers.0.mlp.down_proj.weight",
        "model.layers.0.mlp.down_proj.norm.weight",
        "model.norm.weight",
        "lm_head.weight",
        "lm_head.norm.weight",
    };
    CHECK(names == want);
    CHECK(model.parameters()[3].value.shape() == Shape{16, 16});
    CHECK(model.parameters()[13].value.shape() == Shape{64, 16});  // gate and up fused: 2I × d
    CHECK(nn::matmulfree_intermediate_size(64) == 256);
    CHECK(nn::matmulfree_intermediate_size(1024) == 2816);
    CHECK(nn::matmulfree_intermediate_size(2048) == 5632);
    CHECK(nn::matmulfree_intermediate_size(2560) == 6912);
    nn::MatMulFreeConfig no_lb = tiny(1);
    no_lb.use_lower_bound = false;
    CHECK(nn::MatMulFree(no_lb, {}, 0).parameters().front().name == "model.embeddings.weight");
  }

  TEST_CASE("a frozen BitLinear with gemm=int multiplies the weight's codes, as the unfrozen one does") {
    Parameters params;
    nn::BitLinear bl("l", 37, 19, {"ternary:gemm=int", "same"}, 1, 1e-6f, params);
    Rng rng(4);
    for (float& v : bl.weight.values()) v = static_cast<float>(rng.normal()) * 0.1f;
    Tensor x({2, 5, 37});
    for (float& v : x.values()) v = static_cast<float>(rng.normal());
    NoGrad ng;
    const Tensor a = bl.forward(x);
    bl.freeze();
    const Tensor b = bl.forward(x);
    bl.unfreeze();
    REQUIRE(a.numel() == b.numel());
    for (int64_t i = 0; i < a.numel(); ++i)
      CHECK(std::bit_cast<uint32_t>(a.data()[i]) == std::bit_cast<uint32_t>(b.data()[i]));
  }

  TEST_CASE("generation carrying the recurrent state gives the logits of a full forward at every position") {
    for (const std::string spec : {"exact", "ternary"}) {
      CAPTURE(spec);
      nn::ArithConfig a;
      a.linear = a.head = spec;
      nn::MatMulFree model(tiny(), a, 3);
      Rng init(3);
      model.init(init);
      NoGrad ng;
      const std::vector<int32_t> ids = {1, 5, 2, 12, 0, 7, 7, 3, 9, 4};
      const int64_t T = static_cast<int64_t>(ids.size()), V = 13;
      Rng rng(0);
      Tensor full = model.forward(ids, 1, T, {}, rng).logits;  // (1,T,V)
      auto stream = model.stream();
      REQUIRE(stream);
      double worst = 0, scale = 0;
      for (int64_t t = 0; t < T; ++t) {
        // the first three ids as one prompt, then one id at a time
        if (t < 2) continue;
        Tensor l = t == 2 ? stream->feed(std::span<const int32_t>(ids.data(), 3))
                          : stream->feed(std::span<const int32_t>(&ids[static_cast<size_t>(t)], 1));
        for (int64_t v = 0; v < V; ++v) {
          worst = std::max(worst, static_cast<double>(std::abs(l.data()[v] - full.data()[t * V + v])));
          scale = std::max(scale, static_cast<double>(std::abs(full.data()[t * V + v])));
        }
      }
      MESSAGE(spec << ": stream vs full forward, max |diff| " << worst << " (logit scale " << scale << ")");
      CHECK(worst <= 1e-5 * scale);
    }
  }

  TEST_CASE("lmul trains, resumes, evaluates, samples and exports a MatMul-free run") {
    TempDir d;
    const std::string cfg = mmf_config(d, 4);
    auto r = run_lmul("train " + cfg);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    auto e = run_lmul("eval " + (d / "run") + " --iters 2");
    CHECK_MESSAGE(e.exit_code == 0, e.output);
    auto s = run_lmul("sample " + (d / "run") + " --max-new-tokens 40 --prompt ROMEO");
    CHECK_MESSAGE(s.exit_code == 0, s.output);
    CHECK(s.output.find("ROMEO") != std::string::npos);
    auto x = run_lmul("export " + (d / "run") + " --out " + (d / "w.safetensors"));
    REQUIRE_MESSAGE(x.exit_code == 0, x.output);
    const SafetensorsFile f = SafetensorsFile::load(d / "w.safetensors");
    for (const char* name : {"model.lower_bounds", "model.embeddings.weight", "model.layers.1.attn.i_proj.weight",
                             "model.layers.1.attn.i_proj.norm.weight", "model.layers.0.mlp.gate_proj.weight",
                             "lm_head.weight", "lm_head.norm.weight"}) {
      CAPTURE(name);
      CHECK(f.has(name));
    }
    CHECK(f.metadata().count("tied") == 0);  // untied: lm_head.weight is a tensor of its own
    // The export loads back for sampling, with the same text for the same seed.
    auto s2 = run_lmul("sample " + (d / "w.safetensors") + " --max-new-tokens 40 --prompt ROMEO");
    CHECK_MESSAGE(s2.exit_code == 0, s2.output);
    auto text = [](const std::string& out) { return out.substr(out.find("ROMEO")); };
    CHECK(text(s2.output) == text(s.output));
  }
}
