// Integer GEMM: C[M×N] (int32) = A[M×K] · B[N×K]ᵀ with int8 or int16 A and int8 B, both operands
// K-contiguous (Y = X·Wᵀ, weights as nanoGPT's (out, in)). Integer sums are exact, so every path
// gives the same bits: the portable loop is the definition, the SIMD paths are tested against it.
//   avx512vnni: vpdpbusd on 16 int32 lanes (int8: A + 128 as u8, minus 128·Σ_k B[j,k]) and
//               vpdpwssd for int16 A.
//   avxvnni:    the 256-bit vpdpbusd (AVX-VNNI), int8 only.
//   avx2:       vpmaddwd on operands widened to int16.
// Each path exists only where the compiler targets its instructions (-march=native).
// Overflow: C is the true sum modulo 2^32 on every path (the accumulators wrap), so it is the
// exact sum whenever that fits an int32 — always for int8 × int8 with K < 2^17, and for
// int16 × int8 with K < 2^9 or rows of A summing to ≤ 2^16 in magnitude (Shiftmax output).
#pragma once
#include <cstdint>
#include <vector>

namespace lmul::integer {

enum class IntGemmPath { portable, avx2, avxvnni, avx512vnni };

const char* int_gemm_path_name(IntGemmPath p);

// The paths compiled into this build, portable first; the last is the fastest.
std::vector<IntGemmPath> int_gemm_paths();

// The fastest path. Threads: OpenMP over blocks of rows (the result does not depend on them).
void int8_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B, int64_t ldb, int32_t* C,
               int64_t ldc);
void int16x8_gemm(int64_t M, int64_t N, int64_t K, const int16_t* A, int64_t lda, const int8_t* B, int64_t ldb,
                  int32_t* C, int64_t ldc);

// One given path (tests and the benchmark). int16x8 has no avxvnni path: it falls back to avx2.
void int8_gemm(IntGemmPath path, int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B,
               int64_t ldb, int32_t* C, int64_t ldc);
void int16x8_gemm(IntGemmPath path, int64_t M, int64_t N, int64_t K, const int16_t* A, int64_t lda, const int8_t* B,
                  int64_t ldb, int32_t* C, int64_t ldc);

}  // namespace lmul::integer
