#include <algorithm>
#include <cmath>

#include "core/arith/int8_codes_by_row.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace lmul::arith {

namespace {

// Elements [j0, n) one at a time: the definition.
bool code_tail(const float* x, int64_t j0, int64_t n, float s, bool divide, float lo, float hi, int8_t* q,
               float* values) {
  bool nan = false;
  const bool zero = divide && s == 0.0f;
  for (int64_t j = j0; j < n; ++j) {
    const bool is_nan = std::isnan(x[j]);
    nan = nan || is_nan;
    const float v = is_nan ? 0.0f : x[j];
    const float r = zero ? 0.0f : std::clamp(std::nearbyint(divide ? v / s : v * s), lo, hi);
    q[j] = static_cast<int8_t>(r);
    if (values) values[j] = is_nan ? x[j] : std::copysign(divide ? r * s : r / s, x[j]);
  }
  return nan;
}

}  // namespace

bool int8_code_row_ref(const float* x, int64_t n, float s, bool divide, float lo, float hi, int8_t* q, float* values) {
  return code_tail(x, 0, n, s, divide, lo, hi, q, values);
}

#if defined(__AVX512F__)
bool int8_code_row(const float* x, int64_t n, float s, bool divide, float lo, float hi, int8_t* q, float* values) {
  if (divide && s == 0.0f) return code_tail(x, 0, n, s, divide, lo, hi, q, values);
  constexpr __mmask16 kAll = 0xffff;
  const __m512 S = _mm512_set1_ps(s), LO = _mm512_set1_ps(lo), HI = _mm512_set1_ps(hi);
  const __m512i kAbs = _mm512_set1_epi32(0x7fffffff);
  __mmask16 nan = 0;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512 xv = _mm512_loadu_ps(x + j);
    const __mmask16 m = _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q);
    nan |= m;
    const __m512 v = _mm512_mask_mov_ps(xv, m, _mm512_setzero_ps());
    const __m512 t = divide ? _mm512_div_ps(v, S) : _mm512_mul_ps(v, S);
    __m512 r = _mm512_maskz_roundscale_ps(kAll, t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm512_maskz_min_ps(kAll, _mm512_maskz_max_ps(kAll, r, LO), HI);  // r is never NaN: clamp = min(max)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + j),
                     _mm512_maskz_cvtepi32_epi8(kAll, _mm512_maskz_cvtps_epi32(kAll, r)));  // maskz: see vec_math.cpp
    if (values) {
      const __m512 d = divide ? _mm512_mul_ps(r, S) : _mm512_div_ps(r, S);
      const __m512 c = _mm512_castsi512_ps(
          _mm512_ternarylogic_epi32(kAbs, _mm512_castps_si512(d), _mm512_castps_si512(xv), 0xca));  // copysign
      _mm512_storeu_ps(values + j, _mm512_mask_mov_ps(c, m, xv));
    }
  }
  return code_tail(x, j, n, s, divide, lo, hi, q, values) || nan != 0;
}
#elif defined(__AVX2__)
bool int8_code_row(const float* x, int64_t n, float s, bool divide, float lo, float hi, int8_t* q, float* values) {
  if (divide && s == 0.0f) return code_tail(x, 0, n, s, divide, lo, hi, q, values);
  const __m256 S = _mm256_set1_ps(s), LO = _mm256_set1_ps(lo), HI = _mm256_set1_ps(hi);
  const __m256 kSign = _mm256_set1_ps(-0.0f);
  int nan = 0;
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 xv = _mm256_loadu_ps(x + j);
    const __m256 m = _mm256_cmp_ps(xv, xv, _CMP_UNORD_Q);
    nan |= _mm256_movemask_ps(m);
    const __m256 v = _mm256_andnot_ps(m, xv);
    const __m256 t = divide ? _mm256_div_ps(v, S) : _mm256_mul_ps(v, S);
    __m256 r = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm256_min_ps(_mm256_max_ps(r, LO), HI);  // r is never NaN: clamp = min(max)
    const __m256i i32 = _mm256_cvtps_epi32(r);
    const __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q + j), _mm_packs_epi16(i16, i16));
    if (values) {
      const __m256 d = divide ? _mm256_mul_ps(r, S) : _mm256_div_ps(r, S);
      const __m256 c = _mm256_or_ps(_mm256_andnot_ps(kSign, d), _mm256_and_ps(kSign, xv));  // copysign
      _mm256_storeu_ps(values + j, _mm256_blendv_ps(c, xv, m));
    }
  }
  return code_tail(x, j, n, s, divide, lo, hi, q, values) || nan != 0;
}
#else
bool int8_code_row(const float* x, int64_t n, float s, bool divide, float lo, float hi, int8_t* q, float* values) {
  return code_tail(x, 0, n, s, divide, lo, hi, q, values);
}
#endif

}  // namespace lmul::arith
