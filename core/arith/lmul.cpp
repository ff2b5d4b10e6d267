// lmul:m=M[,variant=bits|formula][,round=rne|trunc] — L-Mul (Luo & Sun 2024); lmul_math.h has the
// definitions. Roles: weights, activations and gradients are all reduced to M mantissa bits, since
// each GEMM of the forward and backward passes multiplies with L-Mul. Accumulation stays fp32.
#include <fmt/format.h>

#include "core/arith/arith.h"
#include "core/arith/lmul_math.h"
#include "core/arith/spec.h"
#include "core/error.h"

namespace lmul::arith {

namespace {

class LMul final : public Multiplier {
 public:
  LMul(int m, LMulVariant variant, bool trunc) : m_(m), variant_(variant), trunc_(trunc) {}

  std::string spec() const override {
    return fmt::format("lmul:m={},variant={},round={}", m_, variant_ == LMulVariant::bits ? "bits" : "formula",
                       trunc_ ? "trunc" : "rne");
  }

  bool quantize(Role, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) override {
    lmul_reduce(x, rows, cols, ld, out, m_, trunc_);
    return true;
  }

  void gemm(const Gemm& g) override {
    if (variant_ == LMulVariant::bits)
      lmul_bits_gemm(g, m_);
    else
      lmul_formula_gemm(g, m_);
  }

 private:
  int m_;
  LMulVariant variant_;
  bool trunc_;
};

struct LMulOptions {
  int m;
  LMulVariant variant;
  bool trunc;
};

LMulOptions parse_lmul(std::string_view options) {
  SpecOptions o(fmt::format("lmul:{}", options), options);
  if (!o.has("m")) throw Error("arith spec '{}': lmul needs m= (mantissa bits, 1..23)", o.spec());
  const int m = static_cast<int>(o.integer("m", 0, 1, 23));
  const bool bits = o.choice("variant", "bits", "bits|formula") == "bits";
  const bool trunc = o.choice("round", "rne", "rne|trunc") == "trunc";
  o.finish();
  return {m, bits ? LMulVariant::bits : LMulVariant::formula, trunc};
}

std::unique_ptr<Multiplier> make_lmul(std::string_view options, uint64_t) {
  const LMulOptions p = parse_lmul(options);
  return std::make_unique<LMul>(p.m, p.variant, p.trunc);
}

bool lmul_reference_quantize(std::string_view options, uint64_t, Role, const float* x, int64_t rows, int64_t cols,
                             float* out) {
  const LMulOptions p = parse_lmul(options);
  for (int64_t i = 0; i < rows * cols; ++i) out[i] = lmul_reduce_ref(x[i], p.m, p.trunc);
  return true;
}

float lmul_reference_product(std::string_view options, float a, float b) {
  const LMulOptions p = parse_lmul(options);
  return lmul_ref(p.variant, a, b, p.m);
}

}  // namespace

extern const FormatInfo lmul_format{
    .name = "lmul",
    .help =
        "lmul:m=M[,variant=bits*|formula][,round=rne*|trunc] L-Mul (Luo & Sun 2024), M 1..23: "
        "operands reduced to M mantissa bits; bits = integer add of the patterns (paper's "
        "simulation), formula = (1+xm+ym+2^-l)2^(ex+ey); zero->0, NaN/Inf propagate, "
        "underflow->0, overflow->Inf",
    .example = "lmul:m=4",
    .make = &make_lmul,
    .reference_quantize = &lmul_reference_quantize,
    .reference_product = &lmul_reference_product,
};

}  // namespace lmul::arith
