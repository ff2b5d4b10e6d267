#include <doctest/doctest.h>

#include "core/arith/arith.h"
#include "core/error.h"

using namespace lmul;

TEST_SUITE("arith") {
TEST_CASE("exact gemm equals the naive triple loop") {
  const int M = 3, N = 5, K = 7;
  float A[M * K], B[K * N], C[M * N];
  for (int i = 0; i < M * K; ++i) A[i] = 0.25f * static_cast<float>(i % 11) - 1.0f;
  for (int i = 0; i < K * N; ++i) B[i] = 0.5f * static_cast<float>(i % 5) - 0.75f;
  auto m = arith::make_multiplier("exact");
  arith::Gemm g{false, false, M, N, K, A, K, B, N, C, N, false};
  m->gemm(g);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float ref = 0;
      for (int k = 0; k < K; ++k) ref += A[i * K + k] * B[k * N + j];
      CHECK(C[i * N + j] == doctest::Approx(ref).epsilon(1e-6));
    }
}

TEST_CASE("unknown format and options are one-line errors") {
  CHECK_THROWS_WITH_AS(arith::make_multiplier("lmull:m=4"),
                       doctest::Contains("unknown format 'lmull'"), Error);
  CHECK_THROWS_WITH_AS(arith::make_multiplier("exact:m=4"), doctest::Contains("unknown option 'm'"),
                       Error);
}
}
