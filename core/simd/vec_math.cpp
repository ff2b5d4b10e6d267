#include "core/simd/vec_math.h"

#include <cmath>
#include <initializer_list>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace lmul::simd {

namespace {

#if defined(__AVX512F__)
// One register of 16 floats; masks are __mmask16. min, max, roundscale and scalef go through their
// zero-masking forms with every lane on: the plain forms start from _mm512_undefined_ps(), which
// g++ 12 reports under -Wall as maybe-uninitialized.
struct Isa {
  using V = __m512;
  using M = __mmask16;
  static constexpr int kWidth = 16;
  static constexpr const char* kName = "avx512";
  static constexpr __mmask16 kAll = 0xffff;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V set(float a) { return _mm512_set1_ps(a); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }  // a·b + c, one rounding
  static V min(V a, V b) { return _mm512_maskz_min_ps(kAll, a, b); }
  static V max(V a, V b) { return _mm512_maskz_max_ps(kAll, a, b); }
  static V abs(V a) { return _mm512_abs_ps(a); }
  // |mag| with the sign of sign
  static V copysign(V mag, V sign) {
    const __m512i m = _mm512_set1_epi32(0x7fffffff);
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(m, _mm512_castps_si512(mag), _mm512_castps_si512(sign), 0xca));
  }
  static V round(V a) { return _mm512_maskz_roundscale_ps(kAll, a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V floor(V a) { return _mm512_maskz_roundscale_ps(kAll, a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  // p·2^n for integral n, one rounding (also into subnormals and to ±inf)
  static V ldexp(V p, V n) { return _mm512_maskz_scalef_ps(kAll, p, n); }
  static M gt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M is_nan(V a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static V select(M m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }  // m ? a : b
};
#elif defined(__AVX2__) && defined(__FMA__)
// One register of 8 floats; masks are all-ones/all-zeros lanes.
struct Isa {
  using V = __m256;
  using M = __m256;
  static constexpr int kWidth = 8;
  static constexpr const char* kName = "avx2";
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V set(float a) { return _mm256_set1_ps(a); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static V copysign(V mag, V sign) {
    const V s = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sign));
  }
  static V round(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V floor(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  // p·2^n for integral n in [-150, 128]: two exact-range factors 2^⌊n/2⌋·2^(n-⌊n/2⌋), each a normal
  // float, so the product rounds once (the first product stays normal for |p| in [0.5, 2]).
  static V ldexp(V p, V n) {
    const __m256i k = _mm256_cvtps_epi32(n), k1 = _mm256_srai_epi32(k, 1), k2 = _mm256_sub_epi32(k, k1);
    const __m256i bias = _mm256_set1_epi32(127);
    const V s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
    const V s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  }
  static M gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M is_nan(V a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static V select(M m, V a, V b) { return _mm256_blendv_ps(b, a, m); }
};
#endif

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
using V = Isa::V;

// Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2: ln2 split so that n·kLn2Hi is exact for |n| < 2^15.
constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;

// e^r - 1 - r over r², |r| ≤ ln2/2: the Taylor series to r^7 (the first term left out, r^8/8!, is
// below 2^-27).
V expm1_tail(V r) {
  V q = Isa::set(1.0f / 5040);
  q = Isa::fma(q, r, Isa::set(1.0f / 720));
  q = Isa::fma(q, r, Isa::set(1.0f / 120));
  q = Isa::fma(q, r, Isa::set(1.0f / 24));
  q = Isa::fma(q, r, Isa::set(1.0f / 6));
  return Isa::fma(q, r, Isa::set(0.5f));
}

// n = round(x / ln2) and r = x - n·ln2
V reduce(V x, V* n) {
  *n = Isa::round(Isa::mul(x, Isa::set(kLog2e)));
  const V r = Isa::fma(*n, Isa::set(-kLn2Hi), x);
  return Isa::fma(*n, Isa::set(-kLn2Lo), r);
}

V exp_v(V x) {
  // e^-104 rounds to 0 and e^89 to inf; the clamp keeps n within ldexp's range.
  const V xc = Isa::min(Isa::max(x, Isa::set(-104.0f)), Isa::set(89.0f));
  V n;
  const V r = reduce(xc, &n);
  const V p = Isa::add(Isa::fma(expm1_tail(r), Isa::mul(r, r), r), Isa::set(1.0f));
  return Isa::select(Isa::is_nan(x), x, Isa::ldexp(p, n));
}

// tanh|x| = e/(e + 2) with e = expm1(2|x|) = 2^n·(e^r - 1) + (2^n - 1), no cancellation near 0.
// Here n = ⌊2|x|/ln2⌋, so r ∈ [0, ln2) and both terms are ≥ 0 (round-to-nearest n would subtract
// when r < 0 and lose a bit or two); e^r - 1 on that wider interval takes the series to r^11.
// tanh rounds to 1 from |x| = 9 on, where the clamp also keeps 2^n exact.
V tanh_v(V x) {
  const V a = Isa::min(Isa::mul(Isa::abs(x), Isa::set(2.0f)), Isa::set(18.0f));
  const V n = Isa::floor(Isa::mul(a, Isa::set(kLog2e)));
  const V r = Isa::max(Isa::fma(n, Isa::set(-kLn2Lo), Isa::fma(n, Isa::set(-kLn2Hi), a)), Isa::set(0.0f));
  V q = Isa::set(1.0f / 39916800);
  for (float c :
       {1.0f / 3628800, 1.0f / 362880, 1.0f / 40320, 1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f})
    q = Isa::fma(q, r, Isa::set(c));
  const V em1 = Isa::fma(q, Isa::mul(r, r), r);
  const V two_n = Isa::ldexp(Isa::set(1.0f), n);
  const V e = Isa::fma(two_n, em1, Isa::sub(two_n, Isa::set(1.0f)));
  V t = Isa::div(e, Isa::add(e, Isa::set(2.0f)));
  // Below 1/2 the rounding of e + 2 costs up to an ulp of t; t = h·(1 - t) with h = e/2 recomputes
  // it with that error scaled down by h.
  const V h = Isa::mul(e, Isa::set(0.5f));
  t = Isa::select(Isa::gt(Isa::set(0.5f), t), Isa::fma(Isa::sub(Isa::set(0.0f), h), t, h), t);
  return Isa::select(Isa::is_nan(x), x, Isa::copysign(t, x));
}

// Norbert Juffa's branch-free erff (Stack Overflow, "Implementation of the error function erff()",
// 2017; minimax coefficients published there, each branch < 1 ulp): below |x| = 0.927734375 an odd
// polynomial x + x·P(x²); above, 1 - exp(Q(|x|)) with Q ≈ log erfc, so erf → 1 without cancellation.
V erf_v(V x) {
  const V t = Isa::abs(x), s = Isa::mul(x, x);
  V r = Isa::fma(Isa::set(-1.72853470e-5f), t, Isa::set(3.83197126e-4f));
  const V u = Isa::fma(Isa::set(-3.88396438e-3f), t, Isa::set(2.42546219e-2f));
  r = Isa::fma(r, s, u);
  r = Isa::fma(r, t, Isa::set(-1.06777877e-1f));
  r = Isa::fma(r, t, Isa::set(-6.34846687e-1f));
  r = Isa::fma(r, t, Isa::set(-1.28717512e-1f));
  r = Isa::fma(r, t, Isa::sub(Isa::set(0.0f), t));
  const V large = Isa::copysign(Isa::sub(Isa::set(1.0f), exp_v(r)), x);
  V p = Isa::set(-5.96761703e-4f);
  p = Isa::fma(p, s, Isa::set(4.99119423e-3f));
  p = Isa::fma(p, s, Isa::set(-2.67681349e-2f));
  p = Isa::fma(p, s, Isa::set(1.12819925e-1f));
  p = Isa::fma(p, s, Isa::set(-3.76125336e-1f));
  p = Isa::fma(p, s, Isa::set(1.28379166e-1f));
  const V small = Isa::fma(p, x, x);
  return Isa::select(Isa::gt(t, Isa::set(0.927734375f)), large, small);
}

// Whole registers, then the last n % kWidth elements through a zero-padded register.
template <typename F>
void apply(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + Isa::kWidth <= n; i += Isa::kWidth) Isa::store(y + i, f(Isa::load(x + i)));
  if (i < n) {
    alignas(64) float buf[Isa::kWidth] = {};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    Isa::store(buf, f(Isa::load(buf)));
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}
#endif

}  // namespace

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
const char* isa() { return Isa::kName; }
void exp(const float* x, float* y, int64_t n) { apply(x, y, n, exp_v); }
void erf(const float* x, float* y, int64_t n) { apply(x, y, n, erf_v); }
void tanh(const float* x, float* y, int64_t n) { apply(x, y, n, tanh_v); }
#else
const char* isa() { return "scalar"; }
void exp(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
void erf(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::erf(x[i]);
}
void tanh(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
#endif

void exp(float* x, int64_t n) { exp(x, x, n); }
void erf(float* x, int64_t n) { erf(x, x, n); }
void tanh(float* x, int64_t n) { tanh(x, x, n); }

}  // namespace lmul::simd
