// The checkpoint format with stateful arithmetics: a recording test double (exact products, its
// state = how many GEMMs it ran) stands in for formats like fp8 delayed scaling.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>

#include "nn/gpt.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "core/error.h"
#include "train/token_batches.h"
#include "test_helpers.h"

using namespace lmul;
using namespace lmul::testing;
using lmul::test::TempDir;

namespace {
std::atomic<uint64_t> total_gemms{0};  // every GEMM of every double: not part of any state

class CountingMultiplier : public arith::Multiplier {
 public:
  explicit CountingMultiplier(uint64_t start) : calls_(start) {}
  std::string spec() const override { return "counting"; }
  bool quantize(arith::Role, const float*, int64_t, int64_t, int64_t, float*) override { return false; }
  void gemm(const arith::Gemm& g) override {
    ++calls_;
    ++total_gemms;
    arith::sgemm(g);
  }
  std::vector<uint8_t> state() const override {
    std::vector<uint8_t> s(8);
    const uint64_t c = calls_;
    std::memcpy(s.data(), &c, 8);
    return s;
  }
  void set_state(std::span<const uint8_t> s) override {
    uint64_t c = 0;
    std::memcpy(&c, s.data(), std::min<size_t>(8, s.size()));
    calls_ = c;
  }
  uint64_t calls() const { return calls_; }

 private:
  std::atomic<uint64_t> calls_;
};

nn::GPTConfig tiny() {
  nn::GPTConfig c;
  c.block_size = 8;
  c.vocab_size = 65;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  return c;
}

void install_counters(nn::GPT& m, uint64_t start) {
  uint64_t k = start;
  for (GemmSite* s : m.gemm_sites()) {
    s->forward = std::make_unique<CountingMultiplier>(k++);
    s->backward = std::make_unique<CountingMultiplier>(1000 + k++);
  }
}

uint64_t calls(const std::unique_ptr<arith::Multiplier>& m) {
  return static_cast<const CountingMultiplier&>(*m).calls();
}
}  // namespace

TEST_SUITE("ckpt") {
  TEST_CASE("every GEMM site's forward and backward state is saved and restored") {
    TempDir d;
    nn::GPT a(tiny(), {}, 1), b(tiny(), {}, 1);
    Rng r(3);
    a.init(r);
    install_counters(a, 7);
    install_counters(b, 500);
    train::save_checkpoint(d / "c.safetensors", a, nullptr, {}, {{"arith", {{"linear", "counting"}}}});
    auto f = SafetensorsFile::load(d / "c.safetensors");
    CHECK(f.entry("arith_state.transformer.h.1.attn.c_attn.forward").dtype == "U8");
    CHECK(f.has("arith_state.lm_head.backward"));
    train::load_checkpoint(d / "c.safetensors", b, {nullptr, true});
    auto sa = a.gemm_sites(), sb = b.gemm_sites();
    REQUIRE(sa.size() == sb.size());
    for (size_t i = 0; i < sa.size(); ++i) {
      CAPTURE(sa[i]->name);
      CHECK(calls(sb[i]->forward) == calls(sa[i]->forward));
      CHECK(calls(sb[i]->backward) == calls(sa[i]->backward));
    }
  }

  TEST_CASE("stateless arithmetics write no state tensors; a stateful model refuses a checkpoint without them") {
    TempDir d;
    nn::GPT a(tiny(), {}, 1), b(tiny(), {}, 1);
    train::save_checkpoint(d / "c.safetensors", a, nullptr, {}, {{"arith", {{"linear", "exact"}}}});
    const SafetensorsFile f = SafetensorsFile::load(d / "c.safetensors");
    for (const auto& [name, e] : f.entries()) CHECK(name.rfind("arith_state.", 0) == std::string::npos);
    install_counters(b, 1);
    CHECK_THROWS_WITH_AS(train::load_checkpoint(d / "c.safetensors", b, {nullptr, true}),
                         doctest::Contains("written with another arithmetic than counting"), Error);
    CHECK_NOTHROW(train::load_checkpoint(d / "c.safetensors", b, {nullptr, false}));  // weights only
  }

  TEST_CASE("an evaluation leaves the arithmetic state as it found it") {
    nn::GPT m(tiny(), {}, 1);
    Rng r(3);
    m.init(r);
    install_counters(m, 5);
    train::TokenBatches data(shakespeare_char_dir(), 1);
    std::vector<uint64_t> before;
    for (GemmSite* s : m.gemm_sites()) before.push_back(calls(s->forward)), before.push_back(calls(s->backward));
    const uint64_t gemms = total_gemms;
    const double loss = train::estimate_split_loss(m, data, data::Split::val,
                                                   {.iters = 2, .batch_size = 2, .block_size = 8, .seed = 1});
    CHECK(std::isfinite(loss));
    CHECK(total_gemms > gemms);  // the evaluation did run the sites' GEMMs
    std::vector<uint64_t> after;
    for (GemmSite* s : m.gemm_sites()) after.push_back(calls(s->forward)), after.push_back(calls(s->backward));
    CHECK(after == before);
  }
}
