// fp8:e4m3 | e5m2 | hybrid — OCP OFP8 (E4M3FN: bias 7, max 448, no Inf, NaN = S.1111.111; E5M2:
// bias 15, max 57344, IEEE-like), round-to-nearest-even or stochastic, saturating (minifloat.h has
// the special-value policy), with an optional per-tensor power-of-two scale (fp8_scaling.h).
// Roles: e4m3 and e5m2 use their format for weights, activations and gradients alike; hybrid uses
// E4M3 for weights and activations and E5M2 (more range) for gradients, as in Micikevicius et al.
// 2022 "FP8 formats for deep learning" and Transformer Engine's HYBRID recipe. Each role keeps its
// own scale and amax history. Quantise-then-sgemm: products of two scaled fp8 values are exact.
#include <array>

#include <fmt/format.h>

#include "core/arith/counter_random.h"
#include "core/arith/formats.h"
#include "core/arith/fp8_scaling.h"
#include "core/arith/minifloat.h"
#include "core/arith/state_io.h"

namespace lmul::arith {

namespace {

constexpr uint32_t kFp8StateTag = 0x46503831;  // "FP81"

class Fp8 final : public Multiplier {
 public:
  Fp8(std::string kind, Scaling scaling, int history, int margin, Rounding rounding, uint64_t seed)
      : kind_(std::move(kind)),
        scaling_(scaling),
        history_(history),
        margin_(margin),
        rounding_(rounding),
        stream_(seed),
        formats_{kind_ == "e5m2" ? MiniFloat::e5m2() : MiniFloat::e4m3(),
                 kind_ == "e5m2" ? MiniFloat::e5m2() : MiniFloat::e4m3(),
                 kind_ == "e4m3" ? MiniFloat::e4m3() : MiniFloat::e5m2()},
        scalers_{AmaxScaler(scaling, history, margin, formats_[0].max_finite),
                 AmaxScaler(scaling, history, margin, formats_[1].max_finite),
                 AmaxScaler(scaling, history, margin, formats_[2].max_finite)} {}

  std::string spec() const override {
    const char* scale = scaling_ == Scaling::none      ? "none"
                        : scaling_ == Scaling::current ? "current"
                                                       : "delayed";
    std::string s = fmt::format("fp8:{},scale={}", kind_, scale);
    if (scaling_ != Scaling::none) s += fmt::format(",margin={}", margin_);
    if (scaling_ == Scaling::delayed) s += fmt::format(",history={}", history_);
    return s + fmt::format(",round={}", rounding_name(rounding_));
  }

  bool quantize(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld,
                float* out) override {
    const auto r = static_cast<size_t>(role);
    const float scale = scalers_[r].scale_for(x, rows, cols, ld);
    const uint64_t key = rounding_ == Rounding::stochastic ? stream_.next_key() : 0;
    round_minifloat(formats_[r], rounding_, x, rows, cols, ld, out, scale, key);
    return true;
  }

  void gemm(const Gemm& g) override { sgemm(g); }

  std::vector<uint8_t> state() const override {
    StateWriter w;
    w.put(kFp8StateTag);
    w.put(stream_.calls());
    for (const auto& s : scalers_) s.save(w);
    return w.take();
  }
  void set_state(std::span<const uint8_t> bytes) override {
    StateReader r(bytes, spec());
    r.expect(kFp8StateTag);
    stream_.set_calls(r.get<uint64_t>());
    for (auto& s : scalers_) s.load(r);
    r.finish();
  }

 private:
  std::string kind_;
  Scaling scaling_;
  int history_, margin_;
  Rounding rounding_;
  CounterStream stream_;
  std::array<MiniFloat, 3> formats_;    // by Role: weight, activation, gradient
  std::array<AmaxScaler, 3> scalers_;
};

}  // namespace

std::unique_ptr<Multiplier> make_fp8(std::string_view options, uint64_t seed) {
  SpecOptions o(fmt::format("fp8:{}", options), options);
  const std::string kind = o.word();
  if (kind != "e4m3" && kind != "e5m2" && kind != "hybrid")
    throw Error("arith spec '{}': fp8 format '{}' is not allowed (choose e4m3|e5m2|hybrid)",
                o.spec(), kind);
  const std::string s = o.choice("scale", "none", "none|current|delayed");
  const Scaling scaling = s == "none" ? Scaling::none : s == "current" ? Scaling::current
                                                                       : Scaling::delayed;
  if (scaling != Scaling::delayed && o.has("history"))
    throw Error("arith spec '{}': history= applies to scale=delayed only", o.spec());
  if (scaling == Scaling::none && o.has("margin"))
    throw Error("arith spec '{}': margin= applies to scale=current|delayed only", o.spec());
  const int history = static_cast<int>(o.integer("history", 1024, 1, 1 << 20));
  const int margin = static_cast<int>(o.integer("margin", 0, 0, 64));
  const Rounding rounding = rounding_option(o);
  o.finish();
  return std::make_unique<Fp8>(kind, scaling, history, margin, rounding, seed);
}

}  // namespace lmul::arith
