#include "core/integer/shiftgelu.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/integer/int_exp.h"

namespace lmul::integer {

namespace {
constexpr int64_t kDivNum = (int64_t{1} << 31) - 1;
}

int64_t shiftgelu_x0(float s) {
  if (!(s > 0.0f) || !std::isfinite(s)) throw Error("[shiftgelu] input scale {} must be finite and positive", s);
  const float s_sig = s * 1.702f;
  return exp_shift_x0(s_sig, "shiftgelu");
}

void check_shiftgelu_range(int64_t x0, int n) {
  if ((-x0 << n) > kDivNum)
    throw Error(
        "[shiftgelu] x0 = {}: the exponential at the row max, {}·2^{}, exceeds 2^31-1 and breaks "
        "ShiftGELU's sigmoid; use a coarser input scale (need |x0| <= {})",
        x0, -x0, n, kDivNum >> n);
}

void shiftgelu_row(std::span<const int32_t> x, int64_t x0, int n, int out_bits, std::span<int64_t> y) {
  LMUL_ASSERT(x.size() == y.size() && out_bits >= 2 && out_bits <= 16);
  if (x.empty()) return;
  const int64_t m = *std::max_element(x.begin(), x.end());
  const int64_t e_m = int_exp_shift(-m, x0, n);
  for (size_t j = 0; j < x.size(); ++j) {
    const int64_t e = int_exp_shift(int64_t{x[j]} - m, x0, n);
    const int64_t S = std::min(e + e_m, kDivNum);  // e + e_m ≤ 2^31 − 1 + |x0|·2^n: no overflow
    const int64_t f = kDivNum / S;
    const int64_t sig = (e * f) >> (32 - out_bits);
    y[j] = int64_t{x[j]} * sig;
  }
}

float shiftgelu_scale_out(float s, int out_bits) { return s / static_cast<float>(int64_t{1} << (out_bits - 1)); }

}  // namespace lmul::integer
