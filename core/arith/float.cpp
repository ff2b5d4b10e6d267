// float:e=E,m=M — IEEE-like small floats (bias 2^(E−1) − 1, subnormals, saturating), with the
// aliases bf16 = float:e=8,m=7 and fp16 = float:e=5,m=10. Quantise-then-sgemm: every value is an
// fp32 number and, for m ≤ 11, so is every product of two, so the sgemm forms the emulated products
// exactly (docs/ARCHITECTURE.md §3, fast paths). All three roles — weights, activations and gradients — are
// rounded to the same format, per element (no scale), as bf16/fp16 mixed-precision training does.
#include <fmt/format.h>

#include "core/arith/counter_random.h"
#include "core/arith/formats.h"
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

  bool quantize(Role, const float* x, int64_t rows, int64_t cols, int64_t ld,
                float* out) override {
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

std::unique_ptr<Multiplier> make_float_em(SpecOptions& o, int e_default, int m_default,
                                          uint64_t seed) {
  // e ≤ 8 and m ≤ 23: the format must sit inside fp32, whose values carry it.
  const int e = static_cast<int>(o.integer("e", e_default, 2, 8));
  const int m = static_cast<int>(o.integer("m", m_default, 1, 23));
  const Rounding rounding = rounding_option(o);
  o.finish();
  return std::make_unique<Float>(e, m, rounding, seed);
}

}  // namespace

std::unique_ptr<Multiplier> make_float(std::string_view options, uint64_t seed) {
  SpecOptions o(fmt::format("float:{}", options), options);
  if (!o.has("e") || !o.has("m"))
    throw Error("arith spec '{}': float needs e= (2..8) and m= (1..23), e.g. float:e=8,m=7",
                o.spec());
  return make_float_em(o, 0, 0, seed);
}

std::unique_ptr<Multiplier> make_bf16(std::string_view options, uint64_t seed) {
  SpecOptions o(options.empty() ? "bf16" : fmt::format("bf16:{}", options), options);
  if (o.has("e") || o.has("m"))
    throw Error("arith spec '{}': bf16 fixes e=8,m=7 (write float:e=..,m=.. instead)", o.spec());
  return make_float_em(o, 8, 7, seed);
}

std::unique_ptr<Multiplier> make_fp16(std::string_view options, uint64_t seed) {
  SpecOptions o(options.empty() ? "fp16" : fmt::format("fp16:{}", options), options);
  if (o.has("e") || o.has("m"))
    throw Error("arith spec '{}': fp16 fixes e=5,m=10 (write float:e=..,m=.. instead)", o.spec());
  return make_float_em(o, 5, 10, seed);
}

}  // namespace lmul::arith
