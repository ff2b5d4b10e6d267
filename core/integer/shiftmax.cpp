#include "core/integer/shiftmax.h"

#include <algorithm>

#include "core/error.h"
#include "core/integer/int_exp.h"

namespace lmul::integer {

namespace {
constexpr int64_t kDivNum = (int64_t{1} << 31) - 1;  // IntDiv's numerator, 2^31 − 1 (§9.1)
}

void check_shiftmax_range(int64_t x0, int64_t row_len, int n, const char* op) {
  // Each exp ≤ |x0|·2^n (its value at d = 0), so the sum is at most row_len·|x0|·2^n.
  const int64_t per = -x0 << n;
  if (row_len > 0 && per > kDivNum / row_len)
    throw Error(
        "[{}] rows of {} with x0 = {} can sum to {}·{}·2^{} > 2^31-1, where Shiftmax's sum clamps "
        "and its outputs break; use a coarser input scale (need |x0| <= {})",
        op, row_len, x0, row_len, -x0, n, kDivNum / row_len >> n);
}

void shiftmax_row(std::span<const int32_t> x, int64_t kept, int64_t x0, int n, int out_bits, MaskMode mode,
                  std::span<int32_t> y) {
  const auto N = static_cast<int64_t>(x.size());
  LMUL_ASSERT(static_cast<int64_t>(y.size()) == N && kept >= 0 && kept <= N);
  LMUL_ASSERT(out_bits >= 2 && out_bits <= 16);
  const int64_t masked_exp = mode == MaskMode::floor ? -x0 : 0;
  if (N == 0) return;
  if (kept == 0 && mode == MaskMode::exclude) {
    std::fill(y.begin(), y.end(), 0);
    return;
  }
  int64_t m = INT64_MIN;
  for (int64_t j = 0; j < kept; ++j) m = std::max<int64_t>(m, x[j]);
  int64_t S = 0;
  // exp is recomputed in the second pass rather than stored: it is a few integer operations.
  auto exp_at = [&](int64_t j) { return j < kept ? int_exp_shift(int64_t{x[j]} - m, x0, n) : masked_exp; };
  for (int64_t j = 0; j < N; ++j) S += exp_at(j);
  S = std::min(S, kDivNum);
  const int64_t f = kDivNum / S;
  for (int64_t j = 0; j < N; ++j) y[j] = static_cast<int32_t>((exp_at(j) * f) >> (32 - out_bits));
}

}  // namespace lmul::integer
