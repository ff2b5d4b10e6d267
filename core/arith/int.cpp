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
// gemm=fp32 (default) multiplies those q·s values with sgemm. gemm=int (w, a ≤ 8; gran=tensor or
// channel; round=nearest) runs a Linear layer's forward Y = X·Wᵀ as integer hardware does
// (int8_linear.h): acc = Σ_k q_x·q_w exact in int32, y = (float(acc)·s_x(token))·s_w(tensor or
// output channel), each · one fp32 rounding; a row with a NaN gives NaN outputs. The backward GEMMs
// (fp32 gradients × the q·s values) and every other GEMM site are as with gemm=fp32.
// Export codec int:b=2..8: B-bit two's complement codes (I8 for B = 8, else packed U8) with the
// per-tensor scale max|W|/qmax, decoding to exactly the values of int:b=B (gran=tensor) weights.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/arith/arith.h"
#include "core/arith/counter_random.h"
#include "core/arith/export_codec.h"
#include "core/arith/finite_amax.h"
#include "core/arith/int_math.h"
#include "core/arith/spec.h"
#include "core/arith/state_io.h"
#include "core/error.h"

namespace lmul::arith {

namespace {

constexpr uint32_t kIntStateTag = 0x494E5431;  // "INT1"

class Integer final : public Multiplier {
 public:
  Integer(int w, int a, Granularity gran, int64_t group, Rounding rounding, bool int_gemm, uint64_t seed)
      : w_(w), a_(a), gran_(gran), group_(group), rounding_(rounding), int_gemm_(int_gemm), stream_(seed) {}

  std::string spec() const override {
    const char* gran = gran_ == Granularity::tensor ? "tensor" : gran_ == Granularity::row ? "channel" : "group";
    std::string s = fmt::format("int:w={},a={},gran={}", w_, a_, gran);
    if (gran_ == Granularity::group) s += fmt::format(",g={}", group_);
    s += fmt::format(",round={}", rounding_name(rounding_));
    return int_gemm_ ? s + ",gemm=int" : s;  // gemm=fp32, the default, is not spelled: older specs stay canonical
  }

  bool quantize(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) override {
    if (role == Role::gradient) return false;
    const int bits = role == Role::weight ? w_ : a_;
    const uint64_t key = rounding_ == Rounding::stochastic ? stream_.next_key() : 0;
    int_quantize(x, rows, cols, ld, out, (1 << (bits - 1)) - 1, gran_, group_, rounding_, key);
    return true;
  }

  void gemm(const Gemm& g) override { sgemm(g); }

  bool int8_forward() const override { return int_gemm_; }
  void int8_codes(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, Int8Codes& out) override {
    int8_codes_and_values(role, x, rows, cols, ld, out, nullptr);
  }
  void int8_codes_and_values(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, Int8Codes& out,
                             float* values) override {
    if (!int_gemm_ || role == Role::gradient) Multiplier::int8_codes(role, x, rows, cols, ld, out);  // throws
    int_codes(x, rows, cols, ld, (1 << ((role == Role::weight ? w_ : a_) - 1)) - 1, gran_, out, values);
  }

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
  bool int_gemm_;
  CounterStream stream_;
};

struct IntOptions {
  int w, a;
  Granularity gran;
  int64_t group;
  Rounding rounding;
  bool int_gemm;
};

IntOptions parse_int(std::string_view options) {
  SpecOptions o(fmt::format("int:{}", options), options);
  const int b = static_cast<int>(o.integer("b", 8, 2, 16));
  const int w = static_cast<int>(o.integer("w", b, 2, 16));
  const int a = static_cast<int>(o.integer("a", b, 2, 16));
  const std::string g = o.choice("gran", "tensor", "tensor|channel|group");
  const Granularity gran = g == "tensor" ? Granularity::tensor : g == "channel" ? Granularity::row : Granularity::group;
  if (gran != Granularity::group && o.has("g")) throw Error("arith spec '{}': g= applies to gran=group only", o.spec());
  const int64_t group = o.integer("g", 128, 1, 1 << 20);
  const Rounding rounding = rounding_option(o);
  const bool int_gemm = o.choice("gemm", "fp32", "fp32|int") == "int";
  if (int_gemm && (w > 8 || a > 8 || gran == Granularity::group || rounding != Rounding::nearest))
    throw Error(
        "arith spec '{}': gemm=int takes w, a ≤ 8, gran=tensor|channel and round=nearest (int8 codes with one "
        "scale per tensor or row); drop gemm=int or those options",
        o.spec());
  o.finish();
  return {w, a, gran, group, rounding, int_gemm};
}

std::unique_ptr<Multiplier> make_int(std::string_view options, uint64_t seed) {
  const IntOptions p = parse_int(options);
  return std::make_unique<Integer>(p.w, p.a, p.gran, p.group, p.rounding, p.int_gemm, seed);
}

// Weights and activations: int_value_ref with s = finite amax of the element's group / qmax.
bool int_reference_quantize(std::string_view options, uint64_t seed, Role role, const float* x, int64_t rows,
                            int64_t cols, float* out) {
  const IntOptions p = parse_int(options);
  if (role == Role::gradient) return false;
  const int qmax = (1 << ((role == Role::weight ? p.w : p.a) - 1)) - 1;
  auto amax = [&](int64_t first, int64_t n) {
    float m = 0.0f;
    for (int64_t i = first; i < first + n; ++i)
      if (std::isfinite(x[i])) m = std::max(m, std::fabs(x[i]));
    return m;
  };
  const int64_t g = p.gran == Granularity::tensor ? rows * cols : p.gran == Granularity::row ? cols : p.group;
  const uint64_t key = CounterStream(seed).next_key();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      // The group of (i, j): the tensor, row i, or the g-element slice of row i holding j.
      const int64_t first = p.gran == Granularity::tensor ? 0 : i * cols + (j / g) * g;
      const int64_t n = p.gran == Granularity::tensor ? rows * cols : std::min(g, i * cols + cols - first);
      const float s = amax(first, n) / static_cast<float>(qmax);
      out[i * cols + j] =
          int_value_ref(x[i * cols + j], s, qmax, p.rounding, random_bits(key, static_cast<uint64_t>(i * cols + j)));
    }
  return true;
}

class IntCodec final : public ScaledCodec {
 public:
  explicit IntCodec(int b) : b_(b), qmax_((1 << (b - 1)) - 1) {}
  std::string spec() const override { return fmt::format("int:b={}", b_); }
  int code_bits() const override { return b_; }
  std::string dtype() const override { return b_ == 8 ? "I8" : "U8"; }
  float scale(std::span<const float> w, int64_t, int64_t) const override {
    const float m = finite_amax(w.data(), static_cast<int64_t>(w.size()));
    return m > 0 ? m / static_cast<float>(qmax_) : 1.0f;
  }
  uint8_t encode(float v) const override {
    const float lim = static_cast<float>(qmax_);
    const float r = std::isnan(v) ? 0.0f : std::clamp(std::nearbyint(v), -lim, lim);
    return static_cast<uint8_t>(static_cast<int>(r) & ((1 << b_) - 1));
  }
  float decode(uint8_t code) const override {  // B-bit two's complement
    const int shift = 32 - b_;
    return static_cast<float>(static_cast<int32_t>(static_cast<uint32_t>(code) << shift) >> shift);
  }
  bool decodes_to_arithmetic() const override { return true; }

 private:
  int b_, qmax_;
};

std::unique_ptr<ExportCodec> make_int_codec(std::string_view options) {
  SpecOptions o(options.empty() ? "int" : fmt::format("int:{}", options), options);
  const int b = static_cast<int>(o.integer("b", 8, 2, 8));
  o.finish();
  return std::make_unique<IntCodec>(b);
}

}  // namespace

extern const FormatInfo int_format{
    .name = "int",
    .help =
        "int:b=8[,w=B][,a=B][,gran=tensor*|channel|group][,g=128][,round=nearest*|stochastic][,gemm=fp32*|int] "
        "symmetric integer, B 2..16, scale=max|x|/(2^(B-1)-1) per tensor/row/group; "
        "gradients fp32; NaN kept, Inf clamped; gemm=int (w,a<=8, tensor/channel, nearest): Linear forward "
        "on int8 codes, exact int32 sums, y=(acc*s_x)*s_w",
    .example = "int:b=8",
    .make = &make_int,
    .reference_quantize = &int_reference_quantize,
    .make_codec = &make_int_codec,
    .export_help = "int:b=2..8",
};

}  // namespace lmul::arith
