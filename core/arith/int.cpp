// int:b=B — symmetric integer quantisation (HAWQ-V3, DGQ style): s = max|x|/qmax over a group,
// qmax = 2^(B−1) − 1 (−2^(B−1) unused, so the grid is symmetric), q = clamp(round(x/s)),
// value q·s. gran=tensor: one scale; channel: one per row — an output channel of an (out, in)
// weight, a token of an activation; group: one per g consecutive elements of a row (g=128).
// w=B / a=B set weight / activation bits (default b, default 8). Roles: weights and activations
// are quantised; gradients stay fp32 (integer gradients need per-step scaling and stochastic
// rounding studies of their own; use fp8:hybrid for low-precision gradients). The dequantised
// q·s is one fp32 rounding of the integer grid point, so the sgemm differs from an integer GEMM
// with a final rescale by that rounding (≈ 2^−24 relative) besides summation order.
// Specials: NaN stays NaN, ±Inf clamps to ±qmax·s, the max ignores non-finite values.
#include <fmt/format.h>

#include "core/arith/counter_random.h"
#include "core/arith/formats.h"
#include "core/arith/int_math.h"
#include "core/arith/spec.h"
#include "core/arith/state_io.h"
#include "core/error.h"

namespace lmul::arith {

namespace {

constexpr uint32_t kIntStateTag = 0x494E5431;  // "INT1"

class Integer final : public Multiplier {
 public:
  Integer(int w, int a, Granularity gran, int64_t group, Rounding rounding, uint64_t seed)
      : w_(w), a_(a), gran_(gran), group_(group), rounding_(rounding), stream_(seed) {}

  std::string spec() const override {
    const char* gran = gran_ == Granularity::tensor ? "tensor" : gran_ == Granularity::row ? "channel" : "group";
    std::string s = fmt::format("int:w={},a={},gran={}", w_, a_, gran);
    if (gran_ == Granularity::group) s += fmt::format(",g={}", group_);
    return s + fmt::format(",round={}", rounding_name(rounding_));
  }

  bool quantize(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld,
                float* out) override {
    if (role == Role::gradient) return false;
    const int bits = role == Role::weight ? w_ : a_;
    const uint64_t key = rounding_ == Rounding::stochastic ? stream_.next_key() : 0;
    int_quantize(x, rows, cols, ld, out, (1 << (bits - 1)) - 1, gran_, group_, rounding_, key);
    return true;
  }

  void gemm(const Gemm& g) override { sgemm(g); }

  std::vector<uint8_t> state() const override {
    StateWriter w;
    w.put(kIntStateTag);
    w.put(stream_.calls());
    return w.take();
  }
  void set_state(std::span<const uint8_t> bytes) override {
    StateReader r(bytes, spec());
    r.expect(kIntStateTag);
    stream_.set_calls(r.get<uint64_t>());
    r.finish();
  }

 private:
  int w_, a_;
  Granularity gran_;
  int64_t group_;
  Rounding rounding_;
  CounterStream stream_;
};

}  // namespace

std::unique_ptr<Multiplier> make_int(std::string_view options, uint64_t seed) {
  SpecOptions o(fmt::format("int:{}", options), options);
  const int b = static_cast<int>(o.integer("b", 8, 2, 16));
  const int w = static_cast<int>(o.integer("w", b, 2, 16));
  const int a = static_cast<int>(o.integer("a", b, 2, 16));
  const std::string g = o.choice("gran", "tensor", "tensor|channel|group");
  const Granularity gran = g == "tensor" ? Granularity::tensor : g == "channel" ? Granularity::row
                                                                               : Granularity::group;
  if (gran != Granularity::group && o.has("g"))
    throw Error("arith spec '{}': g= applies to gran=group only", o.spec());
  const int64_t group = o.integer("g", 128, 1, 1 << 20);
  const Rounding rounding = rounding_option(o);
  o.finish();
  return std::make_unique<Integer>(w, a, gran, group, rounding, seed);
}

}  // namespace lmul::arith
