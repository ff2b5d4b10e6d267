// ternary[:act=int8|fp32] — BitNet b1.58 (Ma et al. 2024, and its training-tips note):
// weights W → clamp(rne(W/γ), −1, 1)·γ with γ = max(mean|W|, 1e-5) per tensor (absmean);
// activations per token (row): scale = 127/max(absmax, 1e-5), x → clamp(rne(x·scale), −128, 127)
// / scale, as BitNet's activation_quant (act=int8, default; act=fp32 leaves them as they are).
// Gradients stay fp32 (BitNet trains with straight-through estimators and full-precision
// gradients). Specials: NaN stays NaN, ±Inf clamps; means and maxes skip non-finite values.
// mean|W| is summed in double, each row in order and then the row sums in order, so the value
// does not depend on the thread count.
// gemm=fp32 (default) multiplies those values with sgemm. gemm=int (act=int8 only) runs a Linear
// layer's forward Y = X·Wᵀ as integer hardware does (int8_linear.h): acc = Σ_k q_x·q_w exact in
// int32 (q_x int8, q_w ∈ {−1, 0, 1}), y = (float(acc) / s(token))·γ, each step one fp32 rounding;
// a row with a NaN gives NaN outputs. Backward GEMMs and other GEMM sites are as with gemm=fp32.
// Export codec ternary: 2-bit codes 0, +1, −1 = 0, 1, 2 with the scale γ, decoding to exactly the
// weights this format multiplies.
#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/arith/arith.h"
#include "core/arith/export_codec.h"
#include "core/error.h"
#include "core/arith/spec.h"
#include "core/arith/ternary_math.h"

namespace lmul::arith {

namespace {

class Ternary final : public Multiplier {
 public:
  Ternary(bool act_int8, bool int_gemm) : act_int8_(act_int8), int_gemm_(int_gemm) {}

  // gemm=fp32, the default, is not spelled: older specs stay canonical.
  std::string spec() const override {
    return fmt::format("ternary:act={}{}", act_int8_ ? "int8" : "fp32", int_gemm_ ? ",gemm=int" : "");
  }

  bool quantize(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) override {
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

  bool int8_forward() const override { return int_gemm_; }
  void int8_codes(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, Int8Codes& out) override {
    int8_codes_and_values(role, x, rows, cols, ld, out, nullptr);
  }
  void int8_codes_and_values(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, Int8Codes& out,
                             float* values) override {
    if (!int_gemm_ || role == Role::gradient) Multiplier::int8_codes(role, x, rows, cols, ld, out);  // throws
    if (role == Role::weight)
      ternary_weight_codes(x, rows, cols, ld, out, values);
    else
      absmax_int8_codes(x, rows, cols, ld, out, values);
  }

 private:
  bool act_int8_, int_gemm_;
};

struct TernaryOptions {
  bool act_int8, int_gemm;
};

TernaryOptions parse_ternary(std::string_view options) {
  SpecOptions o(options.empty() ? "ternary" : fmt::format("ternary:{}", options), options);
  const bool act_int8 = o.choice("act", "int8", "int8|fp32") == "int8";
  const bool int_gemm = o.choice("gemm", "fp32", "fp32|int") == "int";
  if (int_gemm && !act_int8)
    throw Error("arith spec '{}': gemm=int needs int8 activations (act=int8); drop act=fp32 or gemm=int", o.spec());
  o.finish();
  return {act_int8, int_gemm};
}

std::unique_ptr<Multiplier> make_ternary(std::string_view options, uint64_t) {
  const TernaryOptions p = parse_ternary(options);
  return std::make_unique<Ternary>(p.act_int8, p.int_gemm);
}

// Weights: ternary_weight_ref with γ = max(mean|W|, 1e-5) summed in double, row by row; int8
// activations: absmax_int8_ref with each row's finite amax.
bool ternary_reference_quantize(std::string_view options, uint64_t, Role role, const float* x, int64_t rows,
                                int64_t cols, float* out) {
  const bool act_int8 = parse_ternary(options).act_int8;
  if (role == Role::weight) {
    double total = 0.0;
    for (int64_t i = 0; i < rows; ++i) {
      double row = 0.0;
      for (int64_t j = 0; j < cols; ++j)
        if (std::isfinite(x[i * cols + j])) row += std::fabs(x[i * cols + j]);
      total += row;
    }
    const double n = static_cast<double>(rows * cols);
    const float gamma = std::max(n > 0 ? static_cast<float>(total / n) : 0.0f, 1e-5f);
    for (int64_t i = 0; i < rows * cols; ++i) out[i] = ternary_weight_ref(x[i], gamma);
    return true;
  }
  if (role == Role::activation && act_int8) {
    for (int64_t i = 0; i < rows; ++i) {
      float amax = 0.0f;
      for (int64_t j = 0; j < cols; ++j)
        if (std::isfinite(x[i * cols + j])) amax = std::max(amax, std::fabs(x[i * cols + j]));
      for (int64_t j = 0; j < cols; ++j) out[i * cols + j] = absmax_int8_ref(x[i * cols + j], amax);
    }
    return true;
  }
  return false;
}

class TernaryCodec final : public ScaledCodec {
 public:
  std::string spec() const override { return "ternary"; }
  int code_bits() const override { return 2; }
  // γ of the arithmetic's ternary format, so the export decodes to exactly its weights.
  float scale(std::span<const float> w, int64_t rows, int64_t cols) const override {
    return w.empty() ? 1.0f : absmean_gamma(w.data(), rows, cols, cols);
  }
  uint8_t encode(float v) const override {
    const float r = std::clamp(std::nearbyint(v), -1.0f, 1.0f);
    return r > 0 ? 1 : r < 0 ? 2 : 0;
  }
  float decode(uint8_t code) const override { return code == 1 ? 1.0f : code == 2 ? -1.0f : 0.0f; }
  bool decodes_to_arithmetic() const override { return true; }
};

std::unique_ptr<ExportCodec> make_ternary_codec(std::string_view options) {
  SpecOptions o(options.empty() ? "ternary" : fmt::format("ternary:{}", options), options);
  o.finish();
  return std::make_unique<TernaryCodec>();
}

}  // namespace

extern const FormatInfo ternary_format{
    .name = "ternary",
    .help =
        "ternary[:act=int8*|fp32][,gemm=fp32*|int] BitNet b1.58: weights {-1,0,1}*max(mean|W|,1e-5); "
        "activations per-token absmax int8; gradients fp32; NaN kept, Inf clamped; gemm=int (act=int8): "
        "Linear forward on int8 codes, exact int32 sums, y=(acc/s_x)*gamma",
    .example = "ternary",
    .make = &make_ternary,
    .reference_quantize = &ternary_reference_quantize,
    .make_codec = &make_ternary_codec,
    .export_help = "ternary",
};

}  // namespace lmul::arith
