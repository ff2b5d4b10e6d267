// lmul:m=M[,variant=bits|formula][,round=rne|trunc] — L-Mul (Luo & Sun 2024); lmul_math.h has the
// definitions. Roles: weights, activations and gradients are all reduced to M mantissa bits, since
// each GEMM of the forward and backward passes multiplies with L-Mul. Accumulation stays fp32.
#include <fmt/format.h>

#include "core/arith/formats.h"
#include "core/arith/lmul_math.h"
#include "core/arith/spec.h"
#include "core/error.h"

namespace lmul::arith {

namespace {

class LMul final : public Multiplier {
 public:
  LMul(int m, LMulVariant variant, bool trunc) : m_(m), variant_(variant), trunc_(trunc) {}

  std::string spec() const override {
    return fmt::format("lmul:m={},variant={},round={}", m_,
                       variant_ == LMulVariant::bits ? "bits" : "formula", trunc_ ? "trunc" : "rne");
  }

  bool quantize(Role, const float* x, int64_t rows, int64_t cols, int64_t ld,
                float* out) override {
    lmul_reduce(x, rows, cols, ld, out, m_, trunc_);
    return true;
  }

  void gemm(const Gemm& g) override {
    if (variant_ == LMulVariant::bits) lmul_bits_gemm(g, m_);
    else lmul_formula_gemm(g, m_);
  }

 private:
  int m_;
  LMulVariant variant_;
  bool trunc_;
};

}  // namespace

std::unique_ptr<Multiplier> make_lmul(std::string_view options, uint64_t) {
  SpecOptions o(fmt::format("lmul:{}", options), options);
  if (!o.has("m")) throw Error("arith spec '{}': lmul needs m= (mantissa bits, 1..23)", o.spec());
  const int m = static_cast<int>(o.integer("m", 0, 1, 23));
  const bool bits = o.choice("variant", "bits", "bits|formula") == "bits";
  const bool trunc = o.choice("round", "rne", "rne|trunc") == "trunc";
  o.finish();
  return std::make_unique<LMul>(m, bits ? LMulVariant::bits : LMulVariant::formula, trunc);
}

}  // namespace lmul::arith
