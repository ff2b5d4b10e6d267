#include "core/arith/lmul_math.h"

#include <bit>
#include <cmath>
#include <limits>

#include "core/arith/minifloat.h"

namespace lmul::arith {

namespace {

constexpr uint32_t kSign = 0x80000000u, kInf = 0x7F800000u, kMinNormal = 0x00800000u;

bool is_zero_like(uint32_t bits) { return (bits & kInf) == 0; }  // zero or subnormal

// Zero / NaN / Inf cases shared by both variants; returns true when r holds the product.
bool lmul_special(float x, float y, float& r) {
  const uint32_t bx = std::bit_cast<uint32_t>(x), by = std::bit_cast<uint32_t>(y);
  const uint32_t sign = (bx ^ by) & kSign;
  if (std::isnan(x) || std::isnan(y)) {
    r = std::numeric_limits<float>::quiet_NaN();
  } else if (std::isinf(x) || std::isinf(y)) {
    r = is_zero_like(bx) || is_zero_like(by) ? std::numeric_limits<float>::quiet_NaN()
                                             : std::bit_cast<float>(sign | kInf);
  } else if (is_zero_like(bx) || is_zero_like(by)) {
    r = std::bit_cast<float>(sign);
  } else {
    return false;
  }
  return true;
}

}  // namespace

float lmul_reduce_ref(float x, int m, bool trunc) {
  const uint32_t b = std::bit_cast<uint32_t>(x);
  if (std::isnan(x) || std::isinf(x)) return x;
  if (is_zero_like(b)) return std::bit_cast<float>(b & kSign);
  if (trunc) return std::bit_cast<float>(b & ~((1u << (23 - m)) - 1u));
  return round_nearest_ref(MiniFloat::ieee(8, m), x);  // saturates at (2 − 2^−m)·2^127
}

void lmul_reduce(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out, int m, bool trunc) {
  if (!trunc) round_minifloat(MiniFloat::ieee(8, m), Rounding::nearest, x, rows, cols, ld, out);
  const uint32_t keep = ~((1u << (23 - m)) - 1u);
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * ld;
    float* oi = out + i * cols;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
      const uint32_t b = std::bit_cast<uint32_t>(xi[j]);
      const uint32_t e = b & kInf;
      // Flush subnormals; keep Inf/NaN; otherwise the rounded (or truncated) value.
      const uint32_t r = e == 0 ? b & kSign : e == kInf ? b : trunc ? b & keep : std::bit_cast<uint32_t>(oi[j]);
      oi[j] = std::bit_cast<float>(r);
    }
  }
}

float lmul_bits_ref(float x, float y, int m) {
  float r;
  if (lmul_special(x, y, r)) return r;
  const uint32_t bx = std::bit_cast<uint32_t>(x), by = std::bit_cast<uint32_t>(y);
  const uint32_t sign = (bx ^ by) & kSign;
  const int64_t t = int64_t{bx & ~kSign} + int64_t{by & ~kSign} - int64_t{lmul_bits_constant(m)};
  if (t < kMinNormal) return std::bit_cast<float>(sign);    // exponent underflow → ±0
  if (t >= kInf) return std::bit_cast<float>(sign | kInf);  // overflow → ±Inf
  return std::bit_cast<float>(sign | static_cast<uint32_t>(t));
}

float lmul_formula_ref(float x, float y, int m) {
  float r;
  if (lmul_special(x, y, r)) return r;
  int ex = 0, ey = 0;
  // frexp: |x| = f·2^ex with f ∈ [½, 1), so 1 + x_m = 2f and the exponent is ex − 1.
  const double fx = 2.0 * std::frexp(std::fabs(static_cast<double>(x)), &ex) - 1.0;
  const double fy = 2.0 * std::frexp(std::fabs(static_cast<double>(y)), &ey) - 1.0;
  const double s = fx + fy + std::ldexp(1.0, -lmul_l(m));  // exact in double
  const double v = std::ldexp(1.0 + s, (ex - 1) + (ey - 1));
  const bool negative = std::signbit(x) != std::signbit(y);
  float a = static_cast<float>(v);                      // RNE; beyond FLT_MAX → Inf
  if (a < std::numeric_limits<float>::min()) a = 0.0f;  // underflow → 0
  return negative ? -a : a;
}

void lmul_gemm_ref(LMulVariant v, const Gemm& g, int m) {
#pragma omp parallel for schedule(static) if (g.M * g.N * g.K > 32768)
  for (int64_t i = 0; i < g.M; ++i)
    for (int64_t j = 0; j < g.N; ++j) {
      float c = g.accumulate ? g.C[i * g.ldc + j] : 0.0f;
      for (int64_t k = 0; k < g.K; ++k) {
        const float a = g.ta ? g.A[k * g.lda + i] : g.A[i * g.lda + k];
        const float b = g.tb ? g.B[j * g.ldb + k] : g.B[k * g.ldb + j];
        c += lmul_ref(v, a, b, m);
      }
      g.C[i * g.ldc + j] = c;
    }
}

}  // namespace lmul::arith
