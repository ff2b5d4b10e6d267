#include "core/arith/int8_linear.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/integer/int_gemm.h"

namespace lmul::arith {

void Multiplier::int8_codes(Role, const float*, int64_t, int64_t, int64_t, Int8Codes&) {
  throw Error("arith spec '{}' has no integer forward GEMM (gemm=int)", spec());
}

void Multiplier::int8_codes_and_values(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld,
                                       Int8Codes& out, float* values) {
  int8_codes(role, x, rows, cols, ld, out);
  if (values) quantize(role, x, rows, cols, ld, values);
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

// One row of the epilogue, the divisions chosen at compile time so that the loop vectorises.
template <bool kDivA, bool kDivW>
void rescale_row(const int32_t* acc, float sa, const float* sw, int64_t N, float* c) {
#pragma omp simd
  for (int64_t j = 0; j < N; ++j) {
    float f = static_cast<float>(acc[j]);
    f = kDivA ? f / sa : f * sa;
    c[j] = kDivW ? f / sw[j] : f * sw[j];
  }
}

// C = the rescaled acc (row stride ldacc), NaN in the rows and columns that held one.
void epilogue(const int32_t* acc, int64_t ldacc, const Int8Codes& a, const Int8Codes& w, int64_t M, int64_t N, float* C,
              int64_t ldc) {
  std::vector<float> sw(static_cast<size_t>(N));
  for (int64_t j = 0; j < N; ++j) sw[static_cast<size_t>(j)] = w.scale_of(j);
  auto row = a.divide ? (w.divide ? &rescale_row<true, true> : &rescale_row<true, false>)
                      : (w.divide ? &rescale_row<false, true> : &rescale_row<false, false>);
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
#pragma omp parallel for schedule(static) if (M * N > 16384)
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (!a.nan_row.empty() && a.nan_row[static_cast<size_t>(i)]) {
      std::fill(c, c + N, kNaN);
      continue;
    }
    row(acc + i * ldacc, a.scale_of(i), sw.data(), N, c);
    if (!w.nan_row.empty())
      for (int64_t j = 0; j < N; ++j)
        if (w.nan_row[static_cast<size_t>(j)]) c[j] = kNaN;
  }
}

}  // namespace

void int8_linear(const Int8Codes& a, const Int8Codes& w, int64_t M, int64_t N, int64_t K, float* C, int64_t ldc) {
  check(a, M, K, "activation");
  check(w, N, K, "weight");
  if (M == 0 || N == 0) return;
  // The int32 sums go to a buffer kept per thread across calls (a Linear layer's M×N, up to 100 MB
  // on the 6-layer config): a fresh one each call cost its zeroing and page faults every step.
  thread_local std::vector<int32_t> acc;
  if (acc.size() < static_cast<size_t>(M * N)) acc.resize(static_cast<size_t>(M * N));
  integer::int8_gemm(M, N, K, a.code.data(), K, w.code.data(), K, acc.data(), N);
  epilogue(acc.data(), N, a, w, M, N, C, ldc);
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
