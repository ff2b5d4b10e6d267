// float:e=E,m=M — IEEE-like small floats (bias 2^(E−1) − 1, subnormals, saturating), with the
// aliases bf16 = float:e=8,m=7 and fp16 = float:e=5,m=10. Quantise-then-sgemm: every value is an
// fp32 number and, for m ≤ 11, so is every product of two, so the sgemm forms the emulated products
// exactly (docs/ARCHITECTURE.md §3, fast paths). All three roles — weights, activations and gradients — are
// rounded to the same format, per element (no scale), as bf16/fp16 mixed-precision training does.
#include <fmt/format.h>

#include "core/arith/arith.h"
#include "core/arith/counter_random.h"
#include "core/arith/minifloat.h"
#include "core/arith/state_io.h"

namespace lmul::arith {

namespace {

constexpr uint32_t kFloatStateTag = 0x464C5431;  // "FLT1"

class Float final : public Multiplier {
 public:
  Float(int e, int m, Rounding rounding, uint64_t seed)
      : format_(MiniFloat::ieee(e, m)), rounding_(rounding), stream_(seed) {}

  std::string spec() const override {
    return fmt::format("float:e={},m={},round={}", format_.e, format_.m, rounding_name(rounding_));
  }

  bool quantize(Role, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) override {
    const uint64_t key = rounding_ == Rounding::stochastic ? stream_.next_key() : 0;
    round_minifloat(format_, rounding_, x, rows, cols, ld, out, 1.0f, key);
    return true;
  }

  void gemm(const Gemm& g) override { sgemm(g); }

  std::vector<uint8_t> state() const override {
    StateWriter w;
    w.put(kFloatStateTag);
    w.put(stream_.calls());
    return w.take();
  }
  void set_state(std::span<const uint8_t> bytes) override {
    StateReader r(bytes, spec());
    r.expect(kFloatStateTag);
    stream_.set_calls(r.get<uint64_t>());
    r.finish();
  }

 private:
  MiniFloat format_;
  Rounding rounding_;
  CounterStream stream_;
};

// A parsed float spec: the format and its rounding.
struct FloatOptions {
  MiniFloat format;
  Rounding rounding;
};

FloatOptions parse_float_em(SpecOptions& o, int e_default, int m_default) {
  // e ≤ 8 and m ≤ 23: the format must sit inside fp32, whose values carry it.
  const int e = static_cast<int>(o.integer("e", e_default, 2, 8));
  const int m = static_cast<int>(o.integer("m", m_default, 1, 23));
  const Rounding rounding = rounding_option(o);
  o.finish();
  return {MiniFloat::ieee(e, m), rounding};
}

FloatOptions parse_float(std::string_view options) {
  SpecOptions o(fmt::format("float:{}", options), options);
  if (!o.has("e") || !o.has("m"))
    throw Error("arith spec '{}': float needs e= (2..8) and m= (1..23), e.g. float:e=8,m=7", o.spec());
  return parse_float_em(o, 0, 0);
}

// bf16 and fp16: float with e and m fixed.
FloatOptions parse_alias(const char* name, int e, int m, std::string_view options) {
  SpecOptions o(options.empty() ? std::string(name) : fmt::format("{}:{}", name, options), options);
  if (o.has("e") || o.has("m"))
    throw Error("arith spec '{}': {} fixes e={},m={} (write float:e=..,m=.. instead)", o.spec(), name, e, m);
  return parse_float_em(o, e, m);
}
FloatOptions parse_bf16(std::string_view options) { return parse_alias("bf16", 8, 7, options); }
FloatOptions parse_fp16(std::string_view options) { return parse_alias("fp16", 5, 10, options); }

template <FloatOptions (*parse)(std::string_view)>
std::unique_ptr<Multiplier> make(std::string_view options, uint64_t seed) {
  const FloatOptions p = parse(options);
  return std::make_unique<Float>(p.format.e, p.format.m, p.rounding, seed);
}

// Every role, every element: round_*_ref; the first call's stochastic stream key.
template <FloatOptions (*parse)(std::string_view)>
bool reference_quantize(std::string_view options, uint64_t seed, Role, const float* x, int64_t rows, int64_t cols,
                        float* out) {
  const FloatOptions p = parse(options);
  const uint64_t key = CounterStream(seed).next_key();
  for (int64_t i = 0; i < rows * cols; ++i)
    out[i] = p.rounding == Rounding::nearest
                 ? round_nearest_ref(p.format, x[i])
                 : round_stochastic_ref(p.format, x[i], random_bits(key, static_cast<uint64_t>(i)));
  return true;
}

}  // namespace

extern const FormatInfo float_format{
    .name = "float",
    .help =
        "float:e=E,m=M[,round=nearest*|stochastic] IEEE-like float, E 2..8, M 1..23: bias "
        "2^(E-1)-1, subnormals, saturating (Inf -> max, NaN kept); all roles",
    .example = "float:e=4,m=3",
    .make = &make<parse_float>,
    .reference_quantize = &reference_quantize<parse_float>,
};

extern const FormatInfo bf16_format{
    .name = "bf16",
    .help = "bf16[:round=nearest*|stochastic] = float:e=8,m=7",
    .example = "bf16",
    .make = &make<parse_bf16>,
    .reference_quantize = &reference_quantize<parse_bf16>,
};

extern const FormatInfo fp16_format{
    .name = "fp16",
    .help = "fp16[:round=nearest*|stochastic] = float:e=5,m=10",
    .example = "fp16:round=stochastic",
    .make = &make<parse_fp16>,
    .reference_quantize = &reference_quantize<parse_fp16>,
};

}  // namespace lmul::arith
