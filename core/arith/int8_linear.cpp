#include "core/arith/int8_linear.h"

#include <limits>
#include <vector>

#include "core/error.h"
#include "core/integer/int_gemm.h"

namespace lmul::arith {

void Multiplier::int8_codes(Role, const float*, int64_t, int64_t, int64_t, Int8Codes&) {
  throw Error("arith spec '{}' has no integer forward GEMM (gemm=int)", spec());
}

namespace {

void check(const Int8Codes& c, int64_t rows, int64_t K, const char* what) {
  const auto n = static_cast<size_t>(rows * K);
  if (c.code.size() != n || (c.scale.size() != 1 && c.scale.size() != static_cast<size_t>(rows)) ||
      (!c.nan_row.empty() && c.nan_row.size() != static_cast<size_t>(rows)))
    throw Error("int8_linear: {} codes do not fit {}×{}", what, rows, K);
  if (K >= (int64_t{1} << 17))
    throw Error("int8_linear: inner dimension {} ≥ 131072 could overflow the int32 sums of int8 products", K);
}

// y = float(acc) ⊙ a.scale(i) ⊙ w.scale(j), NaN where either row held one.
inline float rescale(int32_t acc, const Int8Codes& a, float sa, const Int8Codes& w, float sw, bool nan) {
  if (nan) return std::numeric_limits<float>::quiet_NaN();
  float f = static_cast<float>(acc);
  f = a.divide ? f / sa : f * sa;
  return w.divide ? f / sw : f * sw;
}

void epilogue(const int32_t* acc, const Int8Codes& a, const Int8Codes& w, int64_t M, int64_t N, float* C, int64_t ldc) {
  std::vector<float> sw(static_cast<size_t>(N));
  for (int64_t j = 0; j < N; ++j) sw[static_cast<size_t>(j)] = w.scale_of(j);
#pragma omp parallel for schedule(static) if (M * N > 16384)
  for (int64_t i = 0; i < M; ++i) {
    const float sa = a.scale_of(i);
    const bool nan_a = !a.nan_row.empty() && a.nan_row[static_cast<size_t>(i)];
    for (int64_t j = 0; j < N; ++j) {
      const bool nan = nan_a || (!w.nan_row.empty() && w.nan_row[static_cast<size_t>(j)]);
      C[i * ldc + j] = rescale(acc[i * N + j], a, sa, w, sw[static_cast<size_t>(j)], nan);
    }
  }
}

}  // namespace

void int8_linear(const Int8Codes& a, const Int8Codes& w, int64_t M, int64_t N, int64_t K, float* C, int64_t ldc) {
  check(a, M, K, "activation");
  check(w, N, K, "weight");
  if (M == 0 || N == 0) return;
  std::vector<int32_t> acc(static_cast<size_t>(M * N));
  integer::int8_gemm(M, N, K, a.code.data(), K, w.code.data(), K, acc.data(), N);
  epilogue(acc.data(), a, w, M, N, C, ldc);
}

void int8_linear_ref(const Int8Codes& a, const Int8Codes& w, int64_t M, int64_t N, int64_t K, float* C, int64_t ldc) {
  check(a, M, K, "activation");
  check(w, N, K, "weight");
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += int64_t{a.code[static_cast<size_t>(i * K + k)]} * w.code[static_cast<size_t>(j * K + k)];
      const bool nan = (!a.nan_row.empty() && a.nan_row[static_cast<size_t>(i)]) ||
                       (!w.nan_row.empty() && w.nan_row[static_cast<size_t>(j)]);
      C[i * ldc + j] = rescale(static_cast<int32_t>(s), a, a.scale_of(i), w, w.scale_of(j), nan);
    }
}

}  // namespace lmul::arith
