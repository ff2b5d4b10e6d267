// fp8:e4m3 | e5m2 | hybrid — OCP OFP8 (E4M3FN: bias 7, max 448, no Inf, NaN = S.1111.111; E5M2:
// bias 15, max 57344, IEEE-like), round-to-nearest-even or stochastic, saturating (minifloat.h has
// the special-value policy), with a per-tensor power-of-two scale (fp8_scaling.h): by default
// delayed scaling with Transformer Engine's default recipe (history 1024, margin 0), as a TE user
// expects of a bare "fp8:e4m3"; scale=none (scale 1) only when asked.
// Roles: e4m3 and e5m2 use their format for weights, activations and gradients alike; hybrid uses
// E4M3 for weights and activations and E5M2 (more range) for gradients, as in Micikevicius et al.
// 2022 "FP8 formats for deep learning" and Transformer Engine's HYBRID recipe. Each role keeps its
// own scale and amax history. Quantise-then-sgemm: products of two scaled fp8 values are exact.
// Export codec: fp8:e4m3|e5m2, one OCP byte per weight with the scale amax/max-finite (not a power
// of two: the export's own convention, so it does not decode to the arithmetic's values).
#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "core/arith/arith.h"
#include "core/arith/counter_random.h"
#include "core/arith/export_codec.h"
#include "core/arith/finite_amax.h"
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
    const char* scale = scaling_ == Scaling::none ? "none" : scaling_ == Scaling::current ? "current" : "delayed";
    std::string s = fmt::format("fp8:{},scale={}", kind_, scale);
    if (scaling_ != Scaling::none) s += fmt::format(",margin={}", margin_);
    if (scaling_ == Scaling::delayed) s += fmt::format(",history={}", history_);
    return s + fmt::format(",round={}", rounding_name(rounding_));
  }

  bool quantize(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) override {
    const auto r = static_cast<size_t>(role);
    AmaxScaler& scaler = scalers_[r];
    const uint64_t key = rounding_ == Rounding::stochastic ? stream_.next_key() : 0;
    if (scaler.mode() == Scaling::delayed) {  // the previous scale; this amax taken while rounding
      float a = 0.0f;
      round_minifloat(formats_[r], rounding_, x, rows, cols, ld, out, scaler.scale(), key, &a);
      scaler.record(a);
    } else {
      const float scale = scaler.scale_for(x, rows, cols, ld);
      round_minifloat(formats_[r], rounding_, x, rows, cols, ld, out, scale, key);
    }
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
  std::array<MiniFloat, 3> formats_;  // by Role: weight, activation, gradient
  std::array<AmaxScaler, 3> scalers_;
};

struct Fp8Options {
  std::string kind;
  Scaling scaling;
  int history, margin;
  Rounding rounding;
};

Fp8Options parse_fp8(std::string_view options) {
  SpecOptions o(fmt::format("fp8:{}", options), options);
  const std::string kind = o.word();
  if (kind != "e4m3" && kind != "e5m2" && kind != "hybrid")
    throw Error("arith spec '{}': fp8 format '{}' is not allowed (choose e4m3|e5m2|hybrid)", o.spec(), kind);
  const std::string s = o.choice("scale", "delayed", "none|current|delayed");
  const Scaling scaling = s == "none" ? Scaling::none : s == "current" ? Scaling::current : Scaling::delayed;
  if (scaling != Scaling::delayed && o.has("history"))
    throw Error("arith spec '{}': history= applies to scale=delayed only", o.spec());
  if (scaling == Scaling::none && o.has("margin"))
    throw Error("arith spec '{}': margin= applies to scale=current|delayed only", o.spec());
  const int history = static_cast<int>(o.integer("history", 1024, 1, 1 << 20));
  const int margin = static_cast<int>(o.integer("margin", 0, 0, 64));
  const Rounding rounding = rounding_option(o);
  o.finish();
  return {kind, scaling, history, margin, rounding};
}

std::unique_ptr<Multiplier> make_fp8(std::string_view options, uint64_t seed) {
  const Fp8Options p = parse_fp8(options);
  return std::make_unique<Fp8>(p.kind, p.scaling, p.history, p.margin, p.rounding, seed);
}

// The first quantize() of a fresh Fp8: scale 1 (none; delayed, whose history is still empty) or
// 2^(floor(log2(max/amax)) − margin) of this tensor (current; 1 when the amax is 0 or not
// finite), then round_*_ref of each x·scale, divided by the scale.
bool fp8_reference_quantize(std::string_view options, uint64_t seed, Role role, const float* x, int64_t rows,
                            int64_t cols, float* out) {
  const Fp8Options p = parse_fp8(options);
  const bool e5m2 = role == Role::gradient ? p.kind != "e4m3" : p.kind == "e5m2";
  const MiniFloat f = e5m2 ? MiniFloat::e5m2() : MiniFloat::e4m3();
  const int64_t n = rows * cols;
  float scale = 1.0f;
  if (p.scaling == Scaling::current) {
    float amax = 0.0f;
    bool finite = true;
    for (int64_t i = 0; i < n; ++i) {
      finite = finite && std::isfinite(x[i]);
      amax = std::max(amax, std::fabs(x[i]));
    }
    if (finite && amax > 0.0f) {
      const int e = std::ilogb(static_cast<double>(f.max_finite) / amax) - p.margin;
      scale = std::ldexp(1.0f, std::clamp(e, -126, 126));
    }
  }
  const uint64_t key = CounterStream(seed).next_key();
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] * scale;
    out[i] =
        (p.rounding == Rounding::nearest ? round_nearest_ref(f, v)
                                         : round_stochastic_ref(f, v, random_bits(key, static_cast<uint64_t>(i)))) /
        scale;
  }
  return true;
}

// fp8:e4m3|e5m2 export: scale = finite amax / max finite (1 for an all-zero tensor), codes by
// ofp8_encode (round_nearest_ref of w/scale), stored as F8_E4M3 / F8_E5M2.
class Fp8Codec final : public ScaledCodec {
 public:
  explicit Fp8Codec(bool e5m2) : e5m2_(e5m2), f_(e5m2 ? MiniFloat::e5m2() : MiniFloat::e4m3()) {}
  std::string spec() const override { return e5m2_ ? "fp8:e5m2" : "fp8:e4m3"; }
  int code_bits() const override { return 8; }
  std::string dtype() const override { return e5m2_ ? "F8_E5M2" : "F8_E4M3"; }
  float scale(std::span<const float> w, int64_t, int64_t) const override {
    const float m = finite_amax(w.data(), static_cast<int64_t>(w.size()));
    return m > 0 ? m / f_.max_finite : 1.0f;
  }
  uint8_t encode(float v) const override { return ofp8_encode(f_, v); }
  float decode(uint8_t code) const override { return ofp8_decode(f_, code); }

 private:
  bool e5m2_;
  MiniFloat f_;
};

std::unique_ptr<ExportCodec> make_fp8_codec(std::string_view options) {
  SpecOptions o(options.empty() ? "fp8" : fmt::format("fp8:{}", options), options);
  const std::string w = o.word();
  if (w != "" && w != "e4m3" && w != "e5m2")
    throw Error("export spec '{}': fp8 exports e4m3 or e5m2, not '{}'", o.spec(), w);
  o.finish();
  return std::make_unique<Fp8Codec>(w == "e5m2");
}

}  // namespace

extern const FormatInfo fp8_format{
    .name = "fp8",
    .help =
        "fp8:e4m3|e5m2|hybrid[,scale=none|current|delayed*][,history=1024][,margin=0]"
        "[,round=nearest*|stochastic] OCP OFP8 E4M3FN (max 448) / E5M2 (max 57344), "
        "saturating, NaN kept; hybrid: E5M2 gradients; power-of-two per-tensor scales, by "
        "default delayed (Transformer Engine's default recipe: amax history 1024, margin 0), "
        "scale=none (scale 1) only when asked",
    .example = "fp8:e4m3",
    .make = &make_fp8,
    .reference_quantize = &fp8_reference_quantize,
    .make_codec = &make_fp8_codec,
    .export_help = "fp8:e4m3|e5m2",
};

}  // namespace lmul::arith
