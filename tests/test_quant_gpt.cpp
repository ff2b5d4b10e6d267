// The integer-only GPT (quant/, train/integer_only.h): its logits track the fp32 model's, it is
// integer-only by type and under floating-point traps, calibration is deterministic and saved,
// and `lmul eval|sample --integer-only` work and refuse what they cannot represent.
#include <doctest/doctest.h>
#include <omp.h>

#include <cfenv>
#include <cmath>
#include <csetjmp>
#include <csignal>
#include <filesystem>
#include <random>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/integer/dyadic.h"
#include "core/integer/ilayernorm.h"
#include "core/integer/shiftgelu.h"
#include "core/integer/shiftmax.h"
#include "nn/gpt.h"
#include "quant/activation_scales.h"
#include "quant/calibrate.h"
#include "quant/integer_gpt.h"
#include "quant/integer_only.h"
#include "quant/integer_only_model.h"
#include "quant/quantise_gpt.h"
#include "tests/temp_dir.h"
#include "tests/test_helpers.h"
#include "train/integer_only.h"

using namespace lmul;
using namespace lmul::quant;

namespace {

// The compile-time check can fail: these are not integer-only.
struct WithFloat {
  static constexpr int kMembers = 2;
  int64_t a = 0;
  float scale = 0;
};
struct Nested {
  static constexpr int kMembers = 2;
  std::vector<integer::Dyadic> d;
  std::vector<WithFloat> w;
};
static_assert(!integer_only<WithFloat>());
static_assert(!integer_only<Nested>());
static_assert(!integer_only<std::vector<double>>());
static_assert(integer_only<std::vector<integer::Dyadic>>() && integer_only<IntLinear>() && integer_only<IntBlock>());

nn::GPTConfig tiny_config(bool relu = false) {
  nn::GPTConfig c;
  c.block_size = 16, c.vocab_size = 24, c.n_layer = 2, c.n_head = 2, c.n_embd = 32, c.relu = relu;
  return c;
}

// nanoGPT's init with the 2-D weights scaled ×4 (std 0.08): logits with a spread, as a trained
// model has, rather than the near-zero ones of a fresh init; LayerNorm weights and biases drawn
// around ±1 and 0 so that the I-LayerNorm constants are exercised.
std::unique_ptr<nn::GPT> tiny_gpt(bool relu = false) {
  auto m = std::make_unique<nn::GPT>(tiny_config(relu), nn::ArithConfig{}, 7);
  Rng rng(11);
  m->init(rng);
  std::mt19937 g(3);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (auto& p : m->parameters()) {
    for (float& v : p.value.values()) {
      if (p.value.dim() == 2)
        v *= 4.0f;
      else if (p.name.find("ln") != std::string::npos && p.name.ends_with(".weight"))
        v = (g() % 5 == 0 ? -1.0f : 1.0f) * (1.0f + 0.2f * n(g));  // some negative: the sign path
      else
        v = 0.05f * n(g);
    }
  }
  return m;
}

std::vector<int32_t> random_ids(int64_t n, uint32_t seed, int64_t V = 24) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(V - 1));
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& i : ids) i = d(g);
  return ids;
}

ActivationScales calibrate_on_random(const nn::GPT& m, int64_t batches) {
  Calibrator cal(m);
  for (int64_t k = 0; k < batches; ++k) cal.observe(random_ids(4 * 16, 100 + static_cast<uint32_t>(k)), 4, 16);
  return cal.scales();
}

// The integer forward of one sequence written out with plain loops over the scalar operators
// (core/integer, golden-tested on their own): the composition integer_forward must equal.
std::vector<int64_t> reference_forward(const IntegerGPT& m, const std::vector<int32_t>& ids) {
  using namespace lmul::integer;
  const int64_t T = static_cast<int64_t>(ids.size()), C = m.n_embd, hs = C / m.n_head, V = m.vocab_size;
  std::vector<std::vector<int64_t>> x(T, std::vector<int64_t>(C));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c)
      x[t][c] = residual_requant(m.wte[ids[t] * C + c], m.wte_requant[ids[t]], m.wpe[t * C + c], m.wpe_requant[t], 16);
  auto ln = [&](const IntLayerNorm& L) {
    std::vector<std::vector<int64_t>> a(T, std::vector<int64_t>(C));
    for (int64_t t = 0; t < T; ++t) {
      std::vector<int32_t> in(x[t].begin(), x[t].end());
      std::vector<int64_t> out(C);
      ilayernorm_row(in, L.bias_int, out);
      for (int64_t c = 0; c < C; ++c) {
        const int64_t q = requant(out[c], L.requant[c]);
        a[t][c] = clamp_bits(L.negate[c] ? -q : q, 8);
      }
    }
    return a;
  };
  auto acc = [](const IntLinear& L, const std::vector<int64_t>& in, int64_t o) {
    int64_t s = L.bias[o];
    for (int64_t k = 0; k < L.in; ++k) s += in[k] * L.weight[o * L.in + k];
    return s;
  };
  auto lin8 = [&](const IntLinear& L, const std::vector<std::vector<int64_t>>& in) {
    std::vector<std::vector<int64_t>> y(T, std::vector<int64_t>(L.out));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t o = 0; o < L.out; ++o) y[t][o] = clamp_bits(requant(acc(L, in[t], o), L.requant[o]), 8);
    return y;
  };
  auto residual = [&](const IntLinear& L, const std::vector<std::vector<int64_t>>& in, Dyadic resid) {
    for (int64_t t = 0; t < T; ++t)
      for (int64_t o = 0; o < C; ++o) x[t][o] = residual_requant(acc(L, in[t], o), L.requant[o], x[t][o], resid, 16);
  };
  for (const IntBlock& k : m.blocks) {
    const auto qkv = lin8(k.c_attn, ln(k.ln_1));
    std::vector<std::vector<int64_t>> y(T, std::vector<int64_t>(C));
    for (int64_t h = 0; h < m.n_head; ++h)
      for (int64_t i = 0; i < T; ++i) {
        std::vector<int32_t> s(T, 0), p(T);
        for (int64_t j = 0; j <= i; ++j) {
          int64_t dot = 0;
          for (int64_t c = 0; c < hs; ++c) dot += qkv[i][h * hs + c] * qkv[j][C + h * hs + c];
          s[j] = static_cast<int32_t>(clamp_bits(requant(dot, k.attn.score), 8));
        }
        shiftmax_row(s, i + 1, k.attn.x0, kShiftmaxN, 16, MaskMode::exclude, p);
        for (int64_t c = 0; c < hs; ++c) {
          int64_t pv = 0;
          for (int64_t j = 0; j <= i; ++j) pv += p[j] * qkv[j][2 * C + h * hs + c];
          y[i][h * hs + c] = clamp_bits(requant(pv, k.attn.out), 8);
        }
      }
    residual(k.attn_proj, y, k.resid_attn);
    auto f = lin8(k.c_fc, ln(k.ln_2));
    for (auto& row : f) {
      if (m.relu) {
        for (auto& v : row) v = std::max<int64_t>(v, 0);
      } else {
        std::vector<int32_t> in(row.begin(), row.end());
        std::vector<int64_t> out(row.size());
        shiftgelu_row(in, k.gelu_x0, kShiftGeluN, 8, out);
        for (size_t j = 0; j < row.size(); ++j) row[j] = clamp_bits(requant(out[j], k.gelu_requant), 8);
      }
    }
    residual(k.mlp_proj, f, k.resid_mlp);
  }
  const auto a = ln(m.ln_f);
  std::vector<int64_t> logits;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t v = 0; v < V; ++v) {
      int64_t s = 0;
      for (int64_t c = 0; c < C; ++c) s += a[t][c] * m.wte[v * C + c];
      logits.push_back(s);
    }
  return logits;
}

sigjmp_buf trap_jump;
void on_sigfpe(int) { siglongjmp(trap_jump, 1); }

// Runs f in this thread (OpenMP at one thread) with every floating-point exception trapping —
// invalid, divide-by-zero, overflow, underflow and inexact — and says whether one trapped.
template <class F>
bool float_exception_trapped(F&& f) {
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  struct sigaction sa {
  }, old{};
  sa.sa_handler = on_sigfpe;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGFPE, &sa, &old);
  std::feclearexcept(FE_ALL_EXCEPT);
  bool trapped = false;
  if (sigsetjmp(trap_jump, 1) == 0) {
    feenableexcept(FE_ALL_EXCEPT);
    f();
  } else {
    trapped = true;
  }
  fedisableexcept(FE_ALL_EXCEPT);
  std::feclearexcept(FE_ALL_EXCEPT);
  sigaction(SIGFPE, &old, nullptr);
  omp_set_num_threads(threads);
  return trapped;
}

}  // namespace

TEST_SUITE("integer.gpt") {
  TEST_CASE("RangeObserver: first batch sets the range, then EMA with momentum 0.95; scale amax/(2^(b-1)-1)") {
    RangeObserver o;
    o.observe(-1.0f, 2.0f);
    CHECK(o.scale() == 2.0f / 127.0f);
    o.observe(-3.0f, 4.0f);
    CHECK(o.lo == 0.95f * -1.0f + 0.05f * -3.0f);
    CHECK(o.hi == 0.95f * 2.0f + 0.05f * 4.0f);
    CHECK(o.scale() == doctest::Approx(2.1 / 127).epsilon(1e-6));
    RangeObserver r16{16};
    r16.observe(-5.0f, 1.0f);
    CHECK(r16.scale() == 5.0f / 32767.0f);
    RangeObserver zero;
    zero.observe(0.0f, 0.0f);
    CHECK(zero.scale() == 0x1p-23f);  // I-ViT's lower clamp
  }

  TEST_CASE("calibration is deterministic, every point observed, scales saved and loaded bit for bit") {
    const auto m = tiny_gpt();
    const ActivationScales a = calibrate_on_random(*m, 3), b = calibrate_on_random(*m, 3);
    ActivationScales ac = a, bc = b;
    const auto pa = scale_points(ac), pb = scale_points(bc);
    REQUIRE(pa.size() == 1 + 2 * 11 + 1);
    for (size_t i = 0; i < pa.size(); ++i) {
      CHECK(*pa[i].scale == *pb[i].scale);
      CHECK(*pa[i].scale > 0x1p-23f);  // every point saw real activations
    }
    // A different batch count gives different (EMA-moved) scales.
    ActivationScales c = calibrate_on_random(*m, 4);
    CHECK(scale_points(c)[1].scale[0] != *pa[1].scale);

    test::TempDir d;
    const std::string path = d / "cal.safetensors";
    save_scales(path, a, {{"checkpoint_checksum", "abc"}});
    LoadedScales l = load_scales(path, 2);
    CHECK(l.metadata.at("checkpoint_checksum") == "abc");
    const auto pl = scale_points(l.scales);
    for (size_t i = 0; i < pa.size(); ++i) {
      CHECK(pl[i].name == pa[i].name);
      CHECK(*pl[i].scale == *pa[i].scale);
    }
    CHECK_THROWS_WITH_AS(load_scales(path, 3), doctest::Contains("calibrated for n_layer=2, the model has 3"), Error);
    ActivationScales bad = a;
    bad.layers[1].v = -1.0f;
    save_scales(path, bad, {});
    CHECK_THROWS_WITH_AS(load_scales(path, 2), doctest::Contains("scale 'h.1.v' = -1 must be finite and positive"),
                         Error);
  }

  TEST_CASE("the integer forward's dequantised logits track the fp32 model's") {
    // Tolerance: int8 weights and activations carry ~0.4 % relative rounding each; with Shiftmax
    // (max|err| ≈ 0.05 per probability, §6), ShiftGELU (up to ~6 % low at the row max, §2) and
    // I-LayerNorm's rounded mean over two layers, the logits' relative RMS error measured here
    // is 2-6 % (ReLU / ShiftGELU); the bounds (10 % RMS, loss within 0.05, argmax agreeing on ≥ 85 % of positions)
    // leave margin for that and still fail on any wrong sign, scale or missing term.
    for (bool relu : {false, true}) {
      INFO("relu=" << relu);
      const auto m = tiny_gpt(relu);
      const IntegerGPT q = quantise_gpt(*m, calibrate_on_random(*m, 4), "test");
      IntegerOnlyModel im{q};
      const int64_t B = 4, T = 16;
      const std::vector<int32_t> x = random_ids(B * T, 999), y = random_ids(B * T, 1000);
      NoGrad ng;
      Rng rng(0);
      const auto ref = m->forward(x, B, T, y, rng);
      const auto got = im.forward(x, B, T, y, rng);
      double se = 0, norm = 0;
      int64_t same_argmax = 0;
      const int64_t V = 24;
      for (int64_t r = 0; r < B * T; ++r) {
        const float* a = ref.logits.data() + r * V;
        const float* b = got.logits.data() + r * V;
        for (int64_t v = 0; v < V; ++v) se += (a[v] - b[v]) * (a[v] - b[v]), norm += a[v] * a[v];
        same_argmax += std::max_element(a, a + V) - a == std::max_element(b, b + V) - b;
      }
      const double rel = std::sqrt(se / norm);
      MESSAGE("relative RMS logit error " << rel << ", loss fp32 " << ref.loss.item() << " integer " << got.loss.item()
                                          << ", argmax agree " << same_argmax << "/" << B * T);
      CHECK(rel < 0.10);
      CHECK(std::fabs(got.loss.item() - ref.loss.item()) < 0.05);
      CHECK(same_argmax >= B * T * 85 / 100);
    }
  }

  TEST_CASE("integer forward equals its composition written out with the scalar operators, bit for bit") {
    for (bool relu : {false, true}) {
      INFO("relu=" << relu);
      const auto m = tiny_gpt(relu);
      const IntegerGPT q = quantise_gpt(*m, calibrate_on_random(*m, 2), "test");
      const std::vector<int32_t> x = random_ids(2 * 13, 77);
      const std::vector<int32_t> got = integer_forward(q, x, 2, 13);
      for (int64_t b = 0; b < 2; ++b) {
        const std::vector<int64_t> want =
            reference_forward(q, std::vector<int32_t>(x.begin() + b * 13, x.begin() + (b + 1) * 13));
        REQUIRE(std::equal(want.begin(), want.end(), got.begin() + b * 13 * 24));
      }
    }
  }

  TEST_CASE("integer forward: the last-position rows equal the full forward's, for any thread count") {
    const auto m = tiny_gpt();
    const IntegerGPT q = quantise_gpt(*m, calibrate_on_random(*m, 2), "test");
    const std::vector<int32_t> x = random_ids(3 * 11, 5);
    const std::vector<int32_t> all = integer_forward(q, x, 3, 11);
    const std::vector<int32_t> last = integer_forward(q, x, 3, 11, true);
    for (int64_t b = 0; b < 3; ++b)
      CHECK(std::equal(last.begin() + b * 24, last.begin() + (b + 1) * 24, all.begin() + ((b + 1) * 11 - 1) * 24));
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const std::vector<int32_t> one = integer_forward(q, x, 3, 11);
    omp_set_num_threads(threads);
    CHECK(one == all);
    CHECK_THROWS_WITH_AS(integer_forward(q, random_ids(17, 1), 1, 17), doctest::Contains("block_size is 16"), Error);
    std::vector<int32_t> bad(4, 0);
    bad[2] = 24;
    CHECK_THROWS_WITH_AS(integer_forward(q, bad, 1, 4), doctest::Contains("token id 24 is outside"), Error);
  }

  TEST_CASE("the integer forward runs with every floating-point exception trapping; the fp32 path does not") {
    const auto m = tiny_gpt();
    const IntegerGPT q = quantise_gpt(*m, calibrate_on_random(*m, 2), "test");
    const std::vector<int32_t> x = random_ids(2 * 16, 8);
    std::vector<int32_t> logits;
    // What this proves: no floating-point operation that rounds, overflows, underflows, divides by
    // zero or is invalid ran in the integer forward (OpenMP at one thread, so all of it runs here).
    // An exact float operation would pass unseen; the type check (integer_only.h) covers those:
    // the model holds no float to compute with.
    CHECK_FALSE(float_exception_trapped([&] { logits = integer_forward(q, x, 2, 16); }));
    CHECK(logits == integer_forward(q, x, 2, 16));  // and it ran to the end
    // The trap is live: the float read-out of those logits traps. Nothing in the trapped
    // calls allocates: the jump out of the handler skips destructors.
    CHECK(float_exception_trapped([&] {  // dequantise_logits' arithmetic, summed
      volatile float sum = 0;
      for (size_t i = 0; i < logits.size(); ++i) {
        const Dyadic d = q.logit_scale[i % 24];
        sum = sum + static_cast<float>(std::ldexp(static_cast<double>(logits[i]) * static_cast<double>(d.m), -d.e));
      }
    }));
    CHECK(float_exception_trapped([] {
      volatile float a = 1.0f, b = 3.0f;
      volatile float c = a / b;
      (void)c;
    }));
  }

  TEST_CASE("calibration floors the score and MLP-input scales where Shiftmax and ShiftGELU need it") {
    // nanoGPT's init scaled down 20×: scores and MLP inputs are tiny, their observed scales too fine.
    nn::GPT m(tiny_config(), nn::ArithConfig{}, 7);
    Rng rng(11);
    m.init(rng);
    for (auto& p : m.parameters())
      if (p.value.dim() == 2)
        for (float& v : p.value.values()) v *= 0.05f;
    Calibrator cal(m);
    cal.observe(random_ids(64, 1), 4, 16);
    const ActivationScales s = cal.scales();
    const IntegerGPT q = quantise_gpt(m, s, "test");  // would throw below the floors
    for (const IntBlock& k : q.blocks) {
      CHECK(16 * -k.attn.x0 * (int64_t{1} << 15) <= (int64_t{1} << 31) - 1);
      CHECK(16 * -(k.attn.x0 - 1) * (int64_t{1} << 15) > (int64_t{1} << 31) - 1);  // at the floor: one finer breaks
      CHECK((-k.gelu_x0 << 23) <= (int64_t{1} << 31) - 1);
      CHECK((-(k.gelu_x0 - 1) << 23) > (int64_t{1} << 31) - 1);
    }
  }

  TEST_CASE("quantise_gpt refuses what the integer graph cannot represent") {
    auto m = tiny_gpt();
    const ActivationScales s = calibrate_on_random(*m, 2);
    ActivationScales fine_score = s;
    fine_score.layers[1].score = 1e-6f;  // x0 = −10^6: 16·10^6·2^15 > 2^31 − 1
    CHECK_THROWS_WITH_AS(quantise_gpt(*m, fine_score, "cal"),
                         doctest::Contains("cal: h.1.score = 1e-06: [shiftmax] rows of 16 with x0 = -1000000"), Error);
    ActivationScales fine_fc = s;
    fine_fc.layers[0].fc = 1e-4f;
    CHECK_THROWS_WITH_AS(quantise_gpt(*m, fine_fc, "cal"), doctest::Contains("cal: h.0.fc = 0.0001: [shiftgelu]"),
                         Error);
    m->parameter("transformer.h.1.ln_2.weight").value.data()[3] = 0.0f;
    CHECK_THROWS_WITH_AS(quantise_gpt(*m, s, "cal"),
                         doctest::Contains("cal: transformer.h.1.ln_2: [ilayernorm] channel 3: weight 0"), Error);
    m->parameter("transformer.h.1.ln_2.weight").value.data()[3] = 1e-9f;
    CHECK_THROWS_WITH_AS(quantise_gpt(*m, s, "cal"), doctest::Contains("too large for I-LayerNorm's int32 output"),
                         Error);
    m->parameter("transformer.h.1.ln_2.weight").value.data()[3] = 1.0f;
    m->parameter("transformer.h.0.mlp.c_fc.weight").value.data()[0] = NAN;
    CHECK_THROWS_WITH_AS(quantise_gpt(*m, s, "cal"),
                         doctest::Contains("transformer.h.0.mlp.c_fc.weight holds a non-finite value"), Error);
  }
}

TEST_SUITE("integer.cli") {
  using testing::run_lmul;
  auto one_error_line = [](const testing::RunResult& r) {
    return r.exit_code == 2 && r.output.starts_with("lmul: error: ") && r.output.find('\n') == r.output.size() - 1;
  };

  TEST_CASE("lmul eval|sample --integer-only: calibrate, save, reuse; bad input is one line, exit 2") {
    test::TempDir d;
    REQUIRE(run_lmul("train " + testing::tiny_cli_config(d) + " -q").exit_code == 0);
    const std::string run = d / "run";
    const std::string cal = run + "/ckpt/latest.calibration.safetensors";

    auto r = run_lmul("sample " + run + " --integer-only --max-new-tokens 5");
    CHECK(one_error_line(r));
    CHECK(r.output.find(cal + ": missing") != std::string::npos);
    CHECK(r.output.find("lmul eval " + run + " --integer-only") != std::string::npos);

    r = run_lmul("eval " + run + " --integer-only --calib-batches 2");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("val loss ") == 0);
    CHECK(r.output.find("integer-only, scales " + cal + " from 2 training batches, calibrated now") !=
          std::string::npos);
    CHECK(std::filesystem::exists(cal));
    const auto again = run_lmul("eval " + run + " --integer-only");  // the saved scales: the same loss
    REQUIRE(again.exit_code == 0);
    CHECK(again.output.substr(0, 15) == r.output.substr(0, 15));
    CHECK(again.output.find("calibrated now") == std::string::npos);
    const auto fp32 = run_lmul("eval " + run + " --json");
    const auto in = run_lmul("eval " + run + " --json --integer-only");
    CHECK(in.output.find("\"integer_only\":{\"calibration\":\"" + cal + "\",\"calib_batches\":2}") !=
          std::string::npos);
    CHECK(fp32.output != in.output);

    r = run_lmul("sample " + run + " --integer-only --max-new-tokens 8 --seed 3");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("integer-only, scales " + cal) != std::string::npos);
    CHECK(r.output == run_lmul("sample " + run + " --integer-only --max-new-tokens 8 --seed 3").output);

    CHECK(one_error_line(run_lmul("eval " + run + " --integer-only --set arith.linear=int:b=8")));
    CHECK(
        run_lmul("eval " + run + " --integer-only --set arith.linear=int:b=8").output.find("drop --set arith.linear") !=
        std::string::npos);
    CHECK(one_error_line(run_lmul("eval " + run + " --calib-batches 3")));

    // Scales that break Shiftmax's sum at block_size: named, with the fix.
    LoadedScales saved = load_scales(cal, 1);
    ActivationScales broken = saved.scales;
    broken.layers[0].score = 1e-6f;
    save_scales(cal, broken, saved.metadata);
    r = run_lmul("sample " + run + " --integer-only --max-new-tokens 5");
    CHECK(one_error_line(r));
    CHECK(r.output.find("h.0.score = 1e-06: [shiftmax] rows of 16") != std::string::npos);
    CHECK(r.output.find("recalibrate") != std::string::npos);

    // A calibration of another checkpoint: sample refuses it, eval recalibrates.
    auto meta = saved.metadata;
    meta["checkpoint_checksum"] = "0000000000000000";
    save_scales(cal, saved.scales, meta);
    r = run_lmul("sample " + run + " --integer-only --max-new-tokens 5");
    CHECK(one_error_line(r));
    CHECK(r.output.find("calibrated for another checkpoint") != std::string::npos);
    r = run_lmul("eval " + run + " --integer-only --calib-batches 2");
    CHECK(r.exit_code == 0);
    CHECK(r.output.substr(0, 15) == again.output.substr(0, 15));
    CHECK(r.output.find("calibrated now") != std::string::npos);
  }
}
