// Quantisation-aware fine-tuning (quant/fake_quant_gpt.h, train/qat.h, train/init_from.h): the
// fake-quant forward is the integer-only model's bit for bit, its straight-through gradients reach
// every weight and train it, `lmul eval --integer-only` of a fine-tuned run reproduces the losses
// it logged, and a resumed QAT run continues bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "nn/gpt.h"
#include "optim/adamw.h"
#include "quant/calibrate.h"
#include "quant/fake_quant_gpt.h"
#include "quant/integer_only_model.h"
#include "quant/quantise_gpt.h"
#include "tests/test_helpers.h"
#include "train/config.h"
#include "train/qat.h"
#include "train/trainer.h"

using namespace lmul;
using namespace lmul::quant;
using lmul::test::TempDir;

namespace {

nn::GPTConfig tiny_config(bool relu) {
  nn::GPTConfig c;
  c.block_size = 16, c.vocab_size = 24, c.n_layer = 2, c.n_head = 2, c.n_embd = 32, c.relu = relu, c.bias = true;
  return c;
}

// nanoGPT's init with the 2-D weights ×4: logits with a spread, as a trained model's have.
std::unique_ptr<nn::GPT> tiny_gpt(bool relu) {
  auto m = std::make_unique<nn::GPT>(tiny_config(relu), nn::ArithConfig{}, 7);
  Rng rng(11);
  m->init(rng);
  for (auto& p : m->parameters())
    if (p.value.dim() == 2)
      for (float& v : p.value.values()) v *= 4.0f;
  return m;
}

std::vector<int32_t> random_ids(int64_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int32_t> d(0, 23);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& i : ids) i = d(g);
  return ids;
}

ActivationScales calibrate_on_random(const nn::GPT& m) {
  Calibrator cal(m);
  for (uint32_t k = 0; k < 3; ++k) cal.observe(random_ids(4 * 16, 100 + k), 4, 16);
  return cal.scales();
}

std::vector<float> grads(Parameters& ps) {
  std::vector<float> g;
  for (auto& p : ps) {
    const auto v = p.value.grad_values();
    g.insert(g.end(), v.begin(), v.end());
  }
  return g;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += double{a[i]} * b[i], aa += double{a[i]} * a[i], bb += double{b[i]} * b[i];
  return ab / std::sqrt(aa * bb);
}

// The tiny run of these tests: 2 layers, 16 wide, on Tiny Shakespeare, 1 thread.
train::TrainResult train_run(const std::string& out_dir, std::vector<std::string> sets) {
  std::vector<std::string> base = {"dataset=" + testing::shakespeare_char_dir(),
                                   "out_dir=" + out_dir,
                                   "n_layer=2",
                                   "n_head=2",
                                   "n_embd=16",
                                   "block_size=16",
                                   "batch_size=3",
                                   "eval_interval=4",
                                   "eval_iters=2",
                                   "warmup_iters=2",
                                   "lr_decay_iters=12",
                                   "threads=1"};
  base.insert(base.end(), sets.begin(), sets.end());
  train::TrainConfig c = train::load_config("/dev/null", base);
  return train::train(c, train::TrainOptions(false, true));
}

// The model tensors of a checkpoint (not the optimizer's), by name.
std::map<std::string, std::vector<float>> weights(const std::string& checkpoint) {
  const SafetensorsFile f = SafetensorsFile::load(checkpoint);
  std::map<std::string, std::vector<float>> w;
  for (const auto& [name, e] : f.entries())
    if (name.starts_with("transformer.") || name.starts_with("optim.")) w[name] = f.f32(name);
  return w;
}

}  // namespace

TEST_SUITE("integer.qat") {
  TEST_CASE("fake-quant forward: logits and loss are the integer-only model's bit for bit, with and without grad") {
    for (bool relu : {false, true}) {
      CAPTURE(relu);
      auto gpt = tiny_gpt(relu);
      const ActivationScales s = calibrate_on_random(*gpt);
      IntegerOnlyModel integer(quantise_gpt(*gpt, s, "test"));
      FakeQuantGPT fq(std::move(gpt), s, "test");
      const auto idx = random_ids(3 * 16, 5), targets = random_ids(3 * 16, 6);
      Rng rng(1);
      nn::LanguageModel::Output want;
      {
        NoGrad ng;
        want = integer.forward(idx, 3, 16, targets, rng);
      }
      const nn::LanguageModel::Output got = fq.forward(idx, 3, 16, targets, rng);
      REQUIRE(got.loss.requires_grad());
      CHECK(got.loss.item() == want.loss.item());
      REQUIRE(got.logits.numel() == want.logits.numel());
      CHECK(std::equal(got.logits.values().begin(), got.logits.values().end(), want.logits.values().begin()));
      clear_tape();
      NoGrad ng;
      CHECK(fq.forward(idx, 3, 16, targets, rng).loss.item() == want.loss.item());
      CHECK_THROWS_AS(FakeQuantGPT(tiny_gpt(relu), ActivationScales{}, "x"), Error);
    }
  }

  TEST_CASE("fake-quant backward: straight-through gradients reach every weight and point where fp32's do") {
    auto ref = tiny_gpt(false);
    auto gpt = tiny_gpt(false);
    const ActivationScales s = calibrate_on_random(*gpt);
    FakeQuantGPT fq(std::move(gpt), s, "test");
    const auto idx = random_ids(4 * 16, 7), targets = random_ids(4 * 16, 8);
    Rng rng(1);
    backward(fq.forward(idx, 4, 16, targets, rng).loss);
    backward(ref->forward(idx, 4, 16, targets, rng).loss);
    for (auto& p : fq.parameters()) {
      CAPTURE(p.name);
      REQUIRE(p.value.has_grad());
      double norm = 0;
      for (float g : p.value.grad_values()) {
        REQUIRE(std::isfinite(g));
        norm += double{g} * g;
      }
      CHECK(norm > 0);
    }
    const std::vector<float> a = grads(fq.parameters()), b = grads(ref->parameters());
    CHECK(a != b);  // the Jacobians are taken at the fake-quant values, not the fp32 ones
    CHECK(cosine(a, b) > 0.9);
    CHECK_THROWS_AS(fq.forward(idx, 4, 16, targets, rng, true), Error);  // a training forward takes whole sequences
    clear_tape();
  }

  TEST_CASE("fake-quant training lowers the integer-only loss") {
    auto gpt = tiny_gpt(false);
    const ActivationScales s = calibrate_on_random(*gpt);
    FakeQuantGPT fq(std::move(gpt), s, "test");
    optim::AdamW opt(fq.parameters(), {0.9f, 0.95f, 1e-8f, 0.0f});
    const auto idx = random_ids(4 * 16, 9), targets = random_ids(4 * 16, 10);
    Rng rng(1);
    auto integer_loss = [&] {
      IntegerOnlyModel m(fq.quantised());
      NoGrad ng;
      return m.forward(idx, 4, 16, targets, rng).loss.item();
    };
    const float before = integer_loss();
    for (int step = 0; step < 20; ++step) {
      backward(fq.forward(idx, 4, 16, targets, rng).loss);
      opt.step(3e-3f);
      opt.zero_grad();
    }
    CHECK(integer_loss() < before - 0.5f);
  }
}

TEST_SUITE("integer.qat.run") {
  TEST_CASE("QAT from a run: eval --integer-only reproduces the logged losses; resume continues bit for bit") {
    TempDir d;
    const std::string base = d / "base";
    train_run(base, {"max_iters=8"});
    const std::vector<std::string> qat = {"init_from=" + base, "qat=true", "learning_rate=1e-3", "max_iters=12"};

    train_run(d / "qat", qat);
    const std::string run = d / "qat";
    CHECK(std::filesystem::exists(run + "/ckpt/qat_scales.safetensors"));
    CHECK(std::filesystem::exists(run + "/ckpt/latest.calibration.safetensors"));
    CHECK(std::filesystem::exists(run + "/ckpt/best.calibration.safetensors"));
    // The final logged val loss (step 12) against `lmul eval --integer-only` of the run: equal bits.
    double logged = 0;
    {
      std::istringstream in(testing::read_file(run + "/metrics.jsonl"));
      std::string line;
      while (std::getline(in, line))
        if (auto j = nlohmann::json::parse(line); j.value("step", -1) == 12) logged = j["val_loss"].get<double>();
    }
    const auto r = testing::run_lmul("eval " + run + " --integer-only --json");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.output);
    CHECK(j["loss"].get<double>() == logged);
    CHECK(j["integer_only"]["calibration"] == run + "/ckpt/latest.calibration.safetensors");
    const auto fp32 = nlohmann::json::parse(testing::run_lmul("eval " + run + " --json").output);
    CHECK(fp32["loss"].get<double>() != logged);  // the fp32 read-out of the same weights is another model
    // The QAT weights differ from the start's: fine-tuning happened.
    CHECK(weights(run + "/ckpt/latest.safetensors").at("transformer.h.0.mlp.c_fc.weight") !=
          weights(base + "/ckpt/latest.safetensors").at("transformer.h.0.mlp.c_fc.weight"));

    // Stopped at step 6 (not an eval step) and resumed: the same step lines, weights and moments.
    const std::string resumed = d / "resumed";
    auto first = qat;
    first.back() = "max_iters=6";
    train_run(resumed, first);
    auto second = qat;
    second.front() = "init_from=resume";
    train_run(resumed, second);
    CHECK(testing::step_lines(run + "/metrics.jsonl") == testing::step_lines(resumed + "/metrics.jsonl"));
    CHECK(weights(run + "/ckpt/latest.safetensors") == weights(resumed + "/ckpt/latest.safetensors"));
    const auto again = nlohmann::json::parse(testing::run_lmul("eval " + resumed + " --integer-only --json").output);
    CHECK(again["loss"].get<double>() == logged);
  }
}

TEST_SUITE("integer.qat") {
  TEST_CASE("W4A8: the Linear weights take 4 bits (±7, every row reaching 7), the tables 8; fake-quant equal too") {
    auto gpt = tiny_gpt(false);
    const ActivationScales s = calibrate_on_random(*gpt);
    const IntegerGPT w8 = quantise_gpt(*gpt, s, "test"), w4 = quantise_gpt(*gpt, s, "test", 4);
    for (const IntBlock& k : w4.blocks)
      for (const IntLinear* L : {&k.c_attn, &k.attn_proj, &k.c_fc, &k.mlp_proj})
        for (int64_t o = 0; o < L->out; ++o) {
          int amax = 0;
          for (int64_t i = 0; i < L->in; ++i) amax = std::max(amax, std::abs(int{L->weight[o * L->in + i]}));
          REQUIRE(amax == 7);
        }
    CHECK(w4.wte == w8.wte);
    CHECK(w4.blocks[0].c_fc.weight != w8.blocks[0].c_fc.weight);
    CHECK_THROWS_AS(quantise_gpt(*gpt, s, "test", 9), Error);

    IntegerOnlyModel integer(w4);
    FakeQuantGPT fq(std::move(gpt), s, "test", 4);
    const auto idx = random_ids(2 * 16, 12), targets = random_ids(2 * 16, 13);
    Rng rng(1);
    float want = 0;
    {
      NoGrad ng;
      want = integer.forward(idx, 2, 16, targets, rng).loss.item();
    }
    CHECK(fq.forward(idx, 2, 16, targets, rng).loss.item() == want);
    clear_tape();
  }
}

TEST_CASE("qat: the checks name the architecture and the per-module table it cannot run") {
  lmul::train::TrainConfig c;
  c.source = "q.toml";
  c.qat = true;
  c.init_from = "runs/a";
  c.dropout = 0.0;
  CHECK_NOTHROW(lmul::train::check_qat_config(c));
  c.arith.modules["lm_head"] = "int:w=8,a=8,gran=tensor,round=nearest";
  CHECK_THROWS_WITH_AS(lmul::train::check_qat_config(c), doctest::Contains("[arith.modules]"), lmul::Error);
  c.arith.modules.clear();
  c.model = "matmulfree";
  CHECK_THROWS_WITH_AS(lmul::train::check_qat_config(c), doctest::Contains("model='matmulfree'"), lmul::Error);
}
