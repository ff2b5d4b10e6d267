// The integer GEMM paths against the portable loop (the definition), bit for bit, on tail-hitting
// shapes (ggml's habit) and at the extremes of the operand ranges.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/integer/int_gemm.h"

using namespace lmul::integer;

namespace {

template <typename TA>
std::vector<TA> random_values(size_t n, int lo, int hi, std::mt19937& g) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<TA> v(n);
  for (auto& x : v) x = static_cast<TA>(d(g));
  return v;
}

// The sum written out once more, in int64: the portable path must equal it where it fits int32.
template <typename TA>
int64_t dot(const TA* a, const int8_t* b, int64_t K) {
  int64_t s = 0;
  for (int64_t k = 0; k < K; ++k) s += int64_t{a[k]} * b[k];
  return s;
}

}  // namespace

TEST_SUITE("integer.gemm") {
  TEST_CASE("the portable path is the exact sum") {
    std::mt19937 g(1);
    const int64_t M = 3, N = 5, K = 7;
    const auto A = random_values<int8_t>(M * K, -128, 127, g);
    const auto B = random_values<int8_t>(N * K, -128, 127, g);
    std::vector<int32_t> C(M * N);
    int8_gemm(IntGemmPath::portable, M, N, K, A.data(), K, B.data(), K, C.data(), N);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) CHECK(C[i * N + j] == dot(&A[i * K], &B[j * K], K));
  }

  TEST_CASE("every compiled int8 path equals the portable one on odd shapes") {
    const auto paths = int_gemm_paths();
    MESSAGE("int_gemm paths in this build: " << paths.size() << ", fastest " << int_gemm_path_name(paths.back()));
    std::mt19937 g(7);
    const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63, 65, 130};
    int checked = 0;
    for (int64_t M : sizes)
      for (int64_t N : {1, 3, 16, 17, 33, 65})
        for (int64_t K : {1, 3, 4, 5, 63, 64, 130}) {
          if ((M * N * K) % 3 != 0 && M > 8) continue;  // a spread, not every combination
          const int64_t lda = K + 3, ldb = K + 1, ldc = N + 2;
          const auto A = random_values<int8_t>(M * lda, -128, 127, g);
          const auto B = random_values<int8_t>(N * ldb, -128, 127, g);
          std::vector<int32_t> want(M * ldc, 7), got(M * ldc, 7);
          int8_gemm(IntGemmPath::portable, M, N, K, A.data(), lda, B.data(), ldb, want.data(), ldc);
          for (auto p : paths) {
            std::fill(got.begin(), got.end(), 7);  // columns beyond N (ldc padding) stay untouched
            int8_gemm(p, M, N, K, A.data(), lda, B.data(), ldb, got.data(), ldc);
            INFO(int_gemm_path_name(p) << " M=" << M << " N=" << N << " K=" << K);
            REQUIRE(got == want);
            ++checked;
          }
        }
    CHECK(checked > 100);
  }

  TEST_CASE("int8 extremes: -128 x -128 over a long K, where the u8 shift trick is tight") {
    const int64_t M = 9, N = 20, K = 4099;
    std::vector<int8_t> A(M * K, -128), B(N * K, -128);
    B[5] = 127;
    std::vector<int32_t> want(M * N), got(M * N);
    int8_gemm(IntGemmPath::portable, M, N, K, A.data(), K, B.data(), K, want.data(), N);
    CHECK(want[0] == 128 * 128 * (K - 1) - 128 * 127);
    CHECK(want[1] == 128 * 128 * K);
    for (auto p : int_gemm_paths()) {
      int8_gemm(p, M, N, K, A.data(), K, B.data(), K, got.data(), N);
      INFO(int_gemm_path_name(p));
      CHECK(got == want);
    }
  }

  TEST_CASE("every int16 x int8 path equals the portable one, overflow wrapping alike") {
    std::mt19937 g(3);
    for (int64_t M : {1, 5, 17, 40})
      for (int64_t N : {1, 7, 32, 33})
        for (int64_t K : {1, 2, 9, 64, 257}) {
          const auto A = random_values<int16_t>(M * K, -32768, 32767, g);
          const auto B = random_values<int8_t>(N * K, -128, 127, g);
          std::vector<int32_t> want(M * N), got(M * N);
          int16x8_gemm(IntGemmPath::portable, M, N, K, A.data(), K, B.data(), K, want.data(), N);
          for (int64_t i = 0; i < M; ++i) CHECK(want[i * N] == dot(&A[i * K], &B[0], K));
          for (auto p : int_gemm_paths()) {
            int16x8_gemm(p, M, N, K, A.data(), K, B.data(), K, got.data(), N);
            INFO(int_gemm_path_name(p) << " M=" << M << " N=" << N << " K=" << K);
            REQUIRE(got == want);
          }
        }
    // 32767·127·1100 > 2^31: the true sum does not fit, every path gives it modulo 2^32.
    const int64_t K = 1100;
    std::vector<int16_t> A(K, 32767);
    std::vector<int8_t> B(K, 127);
    int32_t want = 0, got = 0;
    int16x8_gemm(IntGemmPath::portable, 1, 1, K, A.data(), K, B.data(), K, &want, 1);
    CHECK(want == static_cast<int32_t>(static_cast<uint32_t>(int64_t{32767} * 127 * K)));
    for (auto p : int_gemm_paths()) {
      int16x8_gemm(p, 1, 1, K, A.data(), K, B.data(), K, &got, 1);
      CHECK(got == want);
    }
  }
}
