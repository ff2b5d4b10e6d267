#include <doctest/doctest.h>

#include <string>
#include <vector>

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

TEST_SUITE("arith") {
TEST_CASE("every format's canonical spec parses back to itself") {
  const char* specs[] = {"exact", "float:e=4,m=3", "bf16", "fp16:round=stochastic", "fp8:e4m3",
                         "fp8:hybrid,scale=delayed,history=16,margin=2", "fp8:e5m2,scale=current",
                         "lmul:m=4", "lmul:m=3,variant=formula,round=trunc", "pot:b=5,eps=0.5",
                         "int:b=4,gran=group,g=32", "int:w=4,a=8,gran=channel", "ternary:act=fp32"};
  for (const char* s : specs) {
    CAPTURE(s);
    const std::string canonical = arith::make_multiplier(s)->spec();
    CHECK(arith::make_multiplier(canonical)->spec() == canonical);
  }
  // Every registry row is reachable by its name.
  for (const auto& f : arith::formats()) CHECK(std::string(f.help).size() > 10);
}

TEST_CASE("gemm_batched equals one gemm per item for L-Mul") {
  const int B = 5, M = 7, N = 9, K = 11;
  std::vector<float> A(B * M * K), Bm(B * K * N), C(B * M * N), R(B * M * N);
  for (size_t i = 0; i < A.size(); ++i) A[i] = 0.125f * static_cast<float>(static_cast<int>(i % 13) - 6);
  for (size_t i = 0; i < Bm.size(); ++i) Bm[i] = 0.25f * static_cast<float>(static_cast<int>(i % 7) - 3);
  auto m = arith::make_multiplier("lmul:m=3");
  arith::Gemm g{false, false, M, N, K, A.data(), K, Bm.data(), N, C.data(), N, false};
  m->gemm_batched(g, B, M * K, K * N, M * N);
  for (int b = 0; b < B; ++b) {
    arith::Gemm gb{false, false, M, N, K, A.data() + b * M * K, K, Bm.data() + b * K * N, N,
                   R.data() + b * M * N, N, false};
    m->gemm(gb);
  }
  CHECK(C == R);
}
}
