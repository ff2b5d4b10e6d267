// ternary[:act=int8|fp32] — BitNet b1.58 (Ma et al. 2024, and its training-tips note):
// weights W → clamp(rne(W/γ), −1, 1)·γ with γ = max(mean|W|, 1e-5) per tensor (absmean);
// activations per token (row): scale = 127/max(absmax, 1e-5), x → clamp(rne(x·scale), −128, 127)
// / scale, as BitNet's activation_quant (act=int8, default; act=fp32 leaves them as they are).
// Gradients stay fp32 (BitNet trains with straight-through estimators and full-precision
// gradients). Specials: NaN stays NaN, ±Inf clamps; means and maxes skip non-finite values.
// mean|W| is summed in double, each row in order and then the row sums in order, so the value
// does not depend on the thread count.
#include <fmt/format.h>

#include "core/arith/formats.h"
#include "core/arith/spec.h"
#include "core/arith/ternary_math.h"

namespace lmul::arith {

namespace {

class Ternary final : public Multiplier {
 public:
  explicit Ternary(bool act_int8) : act_int8_(act_int8) {}

  std::string spec() const override { return fmt::format("ternary:act={}", act_int8_ ? "int8" : "fp32"); }

  bool quantize(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld,
                float* out) override {
    if (role == Role::weight) {
      ternary_weights(x, rows, cols, ld, out);
      return true;
    }
    if (role == Role::activation && act_int8_) {
      absmax_int8_rows(x, rows, cols, ld, out);
      return true;
    }
    return false;
  }

  void gemm(const Gemm& g) override { sgemm(g); }

 private:
  bool act_int8_;
};

}  // namespace

std::unique_ptr<Multiplier> make_ternary(std::string_view options, uint64_t) {
  SpecOptions o(options.empty() ? "ternary" : fmt::format("ternary:{}", options), options);
  const bool act_int8 = o.choice("act", "int8", "int8|fp32") == "int8";
  o.finish();
  return std::make_unique<Ternary>(act_int8);
}

}  // namespace lmul::arith
