// pot:b=B — power-of-two weights (PoT paper, arXiv 2506.00315): R = 2^(B−1) − 1, scale
// s = max(max|W|/2^R, eps) per tensor (gran=tensor) or per output channel = row (gran=channel),
// q = clamp(rne(W/s), −2^R, 2^R), w = s·sign(q)·2^round(log2|q|) (q = 0 stays 0, signed like W).
// round= picks how log2|q| becomes an integer exponent: log (nearest in the log domain, the
// paper's; its ties are irrational and never occur), ceil, or linear (the nearer power in value,
// 1.5·2^k going up). Roles: only weights are quantised; activations and gradients stay fp32, as
// in the paper (and the `embedding` site hands the tables in as weights). Specials: NaN stays NaN,
// ±Inf clamps to ±s·2^R; the max ignores non-finite values. An all-zero group (s = 0) stays zero.
// The key `round` here is the exponent rounding; W/s is always rounded to nearest (no stochastic).
#include <bit>
#include <cmath>

#include <fmt/format.h>

#include "core/arith/finite_amax.h"
#include "core/arith/formats.h"
#include "core/arith/pot_math.h"
#include "core/arith/spec.h"
#include "core/error.h"

namespace lmul::arith {

namespace {

class PowerOfTwo final : public Multiplier {
 public:
  PowerOfTwo(int b, double eps, PotRound round, bool channel)
      : b_(b), eps_(eps), round_(round), channel_(channel) {}

  std::string spec() const override {
    return fmt::format("pot:b={},eps={},round={},gran={}", b_, eps_, pot_round_name(round_),
                       channel_ ? "channel" : "tensor");
  }

  bool quantize(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld,
                float* out) override {
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

}  // namespace

std::unique_ptr<Multiplier> make_pot(std::string_view options, uint64_t) {
  SpecOptions o(fmt::format("pot:{}", options), options);
  if (!o.has("b")) throw Error("arith spec '{}': pot needs b= (bits, 2..8)", o.spec());
  const int b = static_cast<int>(o.integer("b", 0, 2, 8));
  const double eps = o.real("eps", 0.0, 0.0, 1.0);
  const std::string r = o.choice("round", "log", "log|ceil|linear");
  const bool channel = o.choice("gran", "tensor", "tensor|channel") == "channel";
  o.finish();
  const PotRound round = r == "log" ? PotRound::log : r == "ceil" ? PotRound::ceil : PotRound::linear;
  return std::make_unique<PowerOfTwo>(b, eps, round, channel);
}

}  // namespace lmul::arith
