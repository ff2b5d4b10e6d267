// pot:b=B — power-of-two weights (PoT paper, arXiv 2506.00315): R = 2^(B−1) − 1, scale
// s = max(max|W|/2^R, eps) per tensor (gran=tensor) or per output channel = row (gran=channel),
// q = clamp(rne(W/s), −2^R, 2^R), w = s·sign(q)·2^round(log2|q|) (q = 0 stays 0, signed like W).
// round= picks how log2|q| becomes an integer exponent: log (nearest in the log domain, the
// paper's; its ties are irrational and never occur), ceil, or linear (the nearer power in value,
// 1.5·2^k going up). Roles: only weights are quantised; activations and gradients stay fp32, as
// in the paper (and the `embedding` site hands the tables in as weights). Specials: NaN stays NaN,
// ±Inf clamps to ±s·2^R; the max ignores non-finite values. An all-zero group (s = 0) stays zero.
// The key `round` here is the exponent rounding; W/s is always rounded to nearest (no stochastic).
// Export codec pot:b=2..4: a sign+exponent nibble per weight, scale = max|W| (its own convention,
// not the arithmetic's grid): exponent code 0 = zero, k = ±2^−(k−1) for k = 1..2^(B−1)−1.
#include <algorithm>
#include <bit>
#include <cmath>

#include <fmt/format.h>

#include "core/arith/arith.h"
#include "core/arith/export_codec.h"
#include "core/arith/finite_amax.h"
#include "core/arith/pot_math.h"
#include "core/arith/spec.h"
#include "core/error.h"

namespace lmul::arith {

namespace {

class PowerOfTwo final : public Multiplier {
 public:
  PowerOfTwo(int b, double eps, PotRound round, bool channel) : b_(b), eps_(eps), round_(round), channel_(channel) {}

  std::string spec() const override {
    return fmt::format("pot:b={},eps={},round={},gran={}", b_, eps_, pot_round_name(round_),
                       channel_ ? "channel" : "tensor");
  }

  bool quantize(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) override {
    if (role != Role::weight) return false;
    pot_quantize(x, rows, cols, ld, out, b_, static_cast<float>(eps_), round_, channel_);
    return true;
  }

  void gemm(const Gemm& g) override { sgemm(g); }

 private:
  int b_;
  double eps_;
  PotRound round_;
  bool channel_;
};

struct PotOptions {
  int b;
  double eps;
  PotRound round;
  bool channel;
};

PotOptions parse_pot(std::string_view options) {
  SpecOptions o(fmt::format("pot:{}", options), options);
  if (!o.has("b")) throw Error("arith spec '{}': pot needs b= (bits, 2..8)", o.spec());
  const int b = static_cast<int>(o.integer("b", 0, 2, 8));
  const double eps = o.real("eps", 0.0, 0.0, 1.0);
  const std::string r = o.choice("round", "log", "log|ceil|linear");
  const bool channel = o.choice("gran", "tensor", "tensor|channel") == "channel";
  o.finish();
  const PotRound round = r == "log" ? PotRound::log : r == "ceil" ? PotRound::ceil : PotRound::linear;
  return {b, eps, round, channel};
}

std::unique_ptr<Multiplier> make_pot(std::string_view options, uint64_t) {
  const PotOptions p = parse_pot(options);
  return std::make_unique<PowerOfTwo>(p.b, p.eps, p.round, p.channel);
}

// Weights only: pot_value_ref with the scale of the tensor's (or row's) finite amax.
bool pot_reference_quantize(std::string_view options, uint64_t, Role role, const float* x, int64_t rows, int64_t cols,
                            float* out) {
  const PotOptions p = parse_pot(options);
  if (role != Role::weight) return false;
  auto group_amax = [&](int64_t first, int64_t n) {
    float m = 0.0f;
    for (int64_t i = first; i < first + n; ++i)
      if (std::isfinite(x[i])) m = std::max(m, std::fabs(x[i]));
    return m;
  };
  const float tensor_amax = group_amax(0, rows * cols);
  for (int64_t i = 0; i < rows; ++i) {
    const float amax = p.channel ? group_amax(i * cols, cols) : tensor_amax;
    const float s = pot_scale(amax, p.b, static_cast<float>(p.eps));
    for (int64_t j = 0; j < cols; ++j) out[i * cols + j] = pot_value_ref(x[i * cols + j], s, p.b, p.round);
  }
  return true;
}

class PotCodec final : public ScaledCodec {
 public:
  explicit PotCodec(int b) : b_(b) {}
  std::string spec() const override { return fmt::format("pot:b={}", b_); }
  int code_bits() const override { return 4; }
  float scale(std::span<const float> w, int64_t, int64_t) const override {
    const float m = finite_amax(w.data(), static_cast<int64_t>(w.size()));
    return m > 0 ? m : 1.0f;
  }
  uint8_t encode(float v) const override {
    const int kmax = (1 << (b_ - 1)) - 2;  // magnitudes 2^0 .. 2^−kmax
    const float r = std::fabs(v);
    if (!(r >= std::ldexp(1.0f, -kmax - 1))) return 0;  // nearer zero than the smallest level's half (or NaN)
    const int k = std::clamp(static_cast<int>(std::nearbyint(-std::log2(r))), 0, kmax);
    return static_cast<uint8_t>((std::signbit(v) ? 8 : 0) | (k + 1));
  }
  float decode(uint8_t code) const override {  // nibble s·eee: eee = 0 is zero, else ±2^−(eee−1)
    const int e = code & 7;
    return e == 0 ? 0.0f : ((code & 8) ? -1.0f : 1.0f) * std::ldexp(1.0f, -(e - 1));
  }

 private:
  int b_;
};

std::unique_ptr<ExportCodec> make_pot_codec(std::string_view options) {
  SpecOptions o(options.empty() ? "pot" : fmt::format("pot:{}", options), options);
  const int b = static_cast<int>(o.integer("b", 4, 2, 4));
  o.finish();
  return std::make_unique<PotCodec>(b);
}

}  // namespace

extern const FormatInfo pot_format{
    .name = "pot",
    .help =
        "pot:b=B[,eps=0][,round=log*|ceil|linear][,gran=tensor*|channel] power-of-two "
        "weights (arXiv 2506.00315), B 2..8: s=max(max|W|/2^R,eps), w=s*sign(q)*2^round(log2|q|);"
        " activations and gradients fp32; NaN kept, Inf clamped",
    .example = "pot:b=4",
    .make = &make_pot,
    .reference_quantize = &pot_reference_quantize,
    .make_codec = &make_pot_codec,
    .export_help = "pot:b=2..4",
};

}  // namespace lmul::arith
