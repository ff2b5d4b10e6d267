#include "core/integer/int_attention.h"

#include <vector>

#include "core/error.h"
#include "core/integer/int_gemm.h"
#include "core/integer/shiftmax.h"

namespace lmul::integer {

void int_attention_head(const IntAttentionHead& p, int64_t T, int64_t hs, const int8_t* q, const int8_t* k,
                        const int8_t* v, int64_t ld, int8_t* y, int64_t ldy) {
  LMUL_ASSERT(T >= 1 && hs >= 1 && ld >= hs && ldy >= hs);
  check_shiftmax_range(p.x0, T, kShiftmaxN, "int_attention_head");
  std::vector<int32_t> acc(static_cast<size_t>(T * T));
  int8_gemm(T, T, hs, q, ld, k, ld, acc.data(), T);  // the masked upper triangle is never read
  std::vector<int32_t> s8(static_cast<size_t>(T)), prob(static_cast<size_t>(T));
  std::vector<int16_t> P(static_cast<size_t>(T * T));
  for (int64_t i = 0; i < T; ++i) {
    for (int64_t j = 0; j <= i; ++j) s8[j] = static_cast<int32_t>(clamp_bits(requant(acc[i * T + j], p.score), 8));
    for (int64_t j = i + 1; j < T; ++j) s8[j] = 0;
    shiftmax_row(s8, i + 1, p.x0, kShiftmaxN, 16, MaskMode::exclude, prob);
    for (int64_t j = 0; j < T; ++j) P[i * T + j] = static_cast<int16_t>(prob[j]);  // ≤ 2^15 − 1
  }
  std::vector<int8_t> vt(static_cast<size_t>(hs * T));  // vᵀ: the GEMM takes B as N×K
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < hs; ++c) vt[c * T + t] = v[t * ld + c];
  // Each row of P sums to < 2^15, so |Y| < 2^15·128: exact in int32.
  std::vector<int32_t> out(static_cast<size_t>(T * hs));
  int16x8_gemm(T, hs, T, P.data(), T, vt.data(), T, out.data(), hs);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < hs; ++c)
      y[t * ldy + c] = static_cast<int8_t>(clamp_bits(requant(out[t * hs + c], p.out), 8));
}

}  // namespace lmul::integer
