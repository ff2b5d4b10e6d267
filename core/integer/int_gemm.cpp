// The integer GEMM paths (int_gemm.h). Every SIMD path packs its operands, then runs one
// register-tiled micro-kernel: MR rows of A × NR = 2·W columns of B, W int32 lanes per vector,
// G consecutive k per lane (4 int8 for vpdpbusd, 2 int16 for vpmaddwd / vpdpwssd):
//   B panel  Bp[jp][kg][NR][G]  (zero-padded in k and in the last panel's columns)
//   A rows   Ap[i][kg·G]        (zero-padded in k); one 32-bit broadcast = G values of a row.
// vpdpbusd multiplies u8 by s8, so int8 A is stored as A + 128 (A xor 0x80) and 128·Σ_k B[j,k]
// is subtracted at the end; all of it is exact modulo 2^32, like the portable loop.
#include "core/integer/int_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace lmul::integer {

namespace {

// The definition: 64-bit sums, reduced modulo 2^32 (C++20 integer conversion).
template <typename TA>
void gemm_portable(int64_t M, int64_t N, int64_t K, const TA* A, int64_t lda, const int8_t* B, int64_t ldb, int32_t* C,
                   int64_t ldc) {
#pragma omp parallel for schedule(static) if (M * N * K > (1 << 18))
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += int64_t{A[i * lda + k]} * B[j * ldb + k];
      C[i * ldc + j] = static_cast<int32_t>(static_cast<uint32_t>(s));
    }
}

template <typename T>
T* aligned_buffer(std::vector<T>& v, size_t n) {
  v.resize(n + 64 / sizeof(T));
  auto p = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<T*>((p + 63) & ~uintptr_t{63});
}

// R rows of A (packed, row stride Kp) × one B panel → tile[r][0..NR): the panel's columns.
template <typename Kernel, int R>
inline void micro_tile(const typename Kernel::AElem* ap, int64_t Kp, const typename Kernel::BElem* bp, int64_t KG,
                       int32_t (*tile)[2 * Kernel::W]) {
  constexpr int W = Kernel::W, G = Kernel::G, NR = 2 * W;
  typename Kernel::V c[R][2];
  for (int r = 0; r < R; ++r) c[r][0] = c[r][1] = Kernel::zero();
  for (int64_t kg = 0; kg < KG; ++kg) {
    const auto b0 = Kernel::load(bp + kg * NR * G);
    const auto b1 = Kernel::load(bp + kg * NR * G + W * G);
    for (int r = 0; r < R; ++r) {
      const auto a = Kernel::bcast(ap + r * Kp + kg * G);
      c[r][0] = Kernel::madd(c[r][0], a, b0);
      c[r][1] = Kernel::madd(c[r][1], a, b1);
    }
  }
  for (int r = 0; r < R; ++r) {
    Kernel::store(tile[r], c[r][0]);
    Kernel::store(tile[r] + W, c[r][1]);
  }
}

// A tiled kernel for one instruction set. Kernel provides: V, AElem, BElem, W, G, MR, zero(),
// load(p), bcast(p) (32 bits), madd(acc, a, b), store(int32*, V), and kU8Shift (A stored + 128).
template <typename Kernel, typename TA>
void gemm_tiled(int64_t M, int64_t N, int64_t K, const TA* A, int64_t lda, const int8_t* B, int64_t ldb, int32_t* C,
                int64_t ldc) {
  using AE = typename Kernel::AElem;
  using BE = typename Kernel::BElem;
  constexpr int W = Kernel::W, G = Kernel::G, MR = Kernel::MR, NR = 2 * W;
  if (M <= 0 || N <= 0) return;
  const int64_t KG = (K + G - 1) / G, Kp = KG * G, NP = (N + NR - 1) / NR;

  std::vector<BE> bbuf;
  BE* Bp = aligned_buffer(bbuf, static_cast<size_t>(NP * KG * NR * G));
  std::vector<int32_t> colsum(static_cast<size_t>(NP * NR), 0);
#pragma omp parallel for schedule(static) if (N * K > (1 << 16))
  for (int64_t jp = 0; jp < NP; ++jp)
    for (int64_t kg = 0; kg < KG; ++kg)
      for (int64_t jj = 0; jj < NR; ++jj)
        for (int64_t t = 0; t < G; ++t) {
          const int64_t j = jp * NR + jj, k = kg * G + t;
          const int8_t v = j < N && k < K ? B[j * ldb + k] : 0;
          Bp[((jp * KG + kg) * NR + jj) * G + t] = static_cast<BE>(v);
          if (Kernel::kU8Shift) colsum[jp * NR + jj] += v;
        }

  std::vector<AE> abuf;
  AE* Ap = aligned_buffer(abuf, static_cast<size_t>(M * Kp));
#pragma omp parallel for schedule(static) if (M * K > (1 << 16))
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < Kp; ++k) {
      const int32_t v = k < K ? int32_t{A[i * lda + k]} : 0;
      Ap[i * Kp + k] = static_cast<AE>(Kernel::kU8Shift ? v + 128 : v);
    }

  // Row chunks of several tiles share each B panel while it is in cache.
  constexpr int64_t kChunk = 8 * MR;
  const int64_t chunks = (M + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (M * N * K > (1 << 18))
  for (int64_t c = 0; c < chunks; ++c) {
    alignas(64) int32_t tile[MR][NR];
    const int64_t i_end = std::min(M, (c + 1) * kChunk);
    for (int64_t jp = 0; jp < NP; ++jp) {
      const BE* bp = Bp + jp * KG * NR * G;
      const int64_t ncols = std::min<int64_t>(NR, N - jp * NR);
      for (int64_t i0 = c * kChunk; i0 < i_end; i0 += MR) {
        const int64_t rows = std::min<int64_t>(MR, i_end - i0);
        // clang-format off
        switch (rows) {  // a tile height known at compile time keeps acc in registers
#define LMUL_TILE(R)                                                              \
  case R:                                                                         \
    if constexpr (R <= MR) micro_tile<Kernel, R>(Ap + i0 * Kp, Kp, bp, KG, tile); \
    break;
          LMUL_TILE(1) LMUL_TILE(2) LMUL_TILE(3) LMUL_TILE(4) LMUL_TILE(5) LMUL_TILE(6) LMUL_TILE(7) LMUL_TILE(8)
#undef LMUL_TILE
          default: LMUL_ASSERT(false);
        }
        // clang-format on
        for (int r = 0; r < rows; ++r) {
          int32_t* out = C + (i0 + r) * ldc + jp * NR;
          for (int64_t jj = 0; jj < ncols; ++jj) {
            uint32_t v = static_cast<uint32_t>(tile[r][jj]);
            if (Kernel::kU8Shift) v -= 128u * static_cast<uint32_t>(colsum[jp * NR + jj]);
            out[jj] = static_cast<int32_t>(v);
          }
        }
      }
    }
  }
}

inline int32_t load32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

#if defined(__AVX2__)
struct Avx2Madd {  // vpmaddwd: 8 lanes of (int16·int16 + int16·int16)
  using V = __m256i;
  using AElem = int16_t;
  using BElem = int16_t;
  static constexpr int W = 8, G = 2, MR = 6;
  static constexpr bool kU8Shift = false;
  static V zero() { return _mm256_setzero_si256(); }
  static V load(const void* p) { return _mm256_load_si256(static_cast<const V*>(p)); }
  static V bcast(const void* p) { return _mm256_set1_epi32(load32(p)); }
  static V madd(V acc, V a, V b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }
  static void store(int32_t* p, V v) { _mm256_store_si256(reinterpret_cast<V*>(p), v); }
};
#endif

#if defined(__AVXVNNI__)
struct AvxVnniU8 {  // VEX vpdpbusd: 8 lanes of 4 u8·s8 products
  using V = __m256i;
  using AElem = uint8_t;
  using BElem = int8_t;
  static constexpr int W = 8, G = 4, MR = 6;
  static constexpr bool kU8Shift = true;
  static V zero() { return _mm256_setzero_si256(); }
  static V load(const void* p) { return _mm256_load_si256(static_cast<const V*>(p)); }
  static V bcast(const void* p) { return _mm256_set1_epi32(load32(p)); }
  static V madd(V acc, V a, V b) { return _mm256_dpbusd_avx_epi32(acc, a, b); }
  static void store(int32_t* p, V v) { _mm256_store_si256(reinterpret_cast<V*>(p), v); }
};
#endif

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
struct Avx512VnniU8 {  // EVEX vpdpbusd: 16 lanes of 4 u8·s8 products
  using V = __m512i;
  using AElem = uint8_t;
  using BElem = int8_t;
  static constexpr int W = 16, G = 4, MR = 8;
  static constexpr bool kU8Shift = true;
  static V zero() { return _mm512_setzero_si512(); }
  static V load(const void* p) { return _mm512_load_si512(p); }
  static V bcast(const void* p) { return _mm512_set1_epi32(load32(p)); }
  static V madd(V acc, V a, V b) { return _mm512_dpbusd_epi32(acc, a, b); }
  static void store(int32_t* p, V v) { _mm512_store_si512(p, v); }
};
struct Avx512VnniI16 {  // vpdpwssd: 16 lanes of 2 int16·int16 products
  using V = __m512i;
  using AElem = int16_t;
  using BElem = int16_t;
  static constexpr int W = 16, G = 2, MR = 8;
  static constexpr bool kU8Shift = false;
  static V zero() { return _mm512_setzero_si512(); }
  static V load(const void* p) { return _mm512_load_si512(p); }
  static V bcast(const void* p) { return _mm512_set1_epi32(load32(p)); }
  static V madd(V acc, V a, V b) { return _mm512_dpwssd_epi32(acc, a, b); }
  static void store(int32_t* p, V v) { _mm512_store_si512(p, v); }
};
#endif

[[noreturn, maybe_unused]] void missing(IntGemmPath p) {
  throw Error("[int_gemm] the {} path is not compiled into this build (paths: see int_gemm_paths())",
              int_gemm_path_name(p));
}

}  // namespace

const char* int_gemm_path_name(IntGemmPath p) {
  switch (p) {
    case IntGemmPath::portable:
      return "portable";
    case IntGemmPath::avx2:
      return "avx2";
    case IntGemmPath::avxvnni:
      return "avxvnni";
    case IntGemmPath::avx512vnni:
      return "avx512vnni";
  }
  return "?";
}

std::vector<IntGemmPath> int_gemm_paths() {
  std::vector<IntGemmPath> p{IntGemmPath::portable};
#if defined(__AVX2__)
  p.push_back(IntGemmPath::avx2);
#endif
#if defined(__AVXVNNI__)
  p.push_back(IntGemmPath::avxvnni);
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
  p.push_back(IntGemmPath::avx512vnni);
#endif
  return p;
}

void int8_gemm(IntGemmPath path, int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B,
               int64_t ldb, int32_t* C, int64_t ldc) {
  switch (path) {
    case IntGemmPath::portable:
      return gemm_portable(M, N, K, A, lda, B, ldb, C, ldc);
    case IntGemmPath::avx2:
#if defined(__AVX2__)
      return gemm_tiled<Avx2Madd>(M, N, K, A, lda, B, ldb, C, ldc);
#else
      missing(path);
#endif
    case IntGemmPath::avxvnni:
#if defined(__AVXVNNI__)
      return gemm_tiled<AvxVnniU8>(M, N, K, A, lda, B, ldb, C, ldc);
#else
      missing(path);
#endif
    case IntGemmPath::avx512vnni:
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
      return gemm_tiled<Avx512VnniU8>(M, N, K, A, lda, B, ldb, C, ldc);
#else
      missing(path);
#endif
  }
}

void int16x8_gemm(IntGemmPath path, int64_t M, int64_t N, int64_t K, const int16_t* A, int64_t lda, const int8_t* B,
                  int64_t ldb, int32_t* C, int64_t ldc) {
  switch (path) {
    case IntGemmPath::portable:
      return gemm_portable(M, N, K, A, lda, B, ldb, C, ldc);
    case IntGemmPath::avx2:
    case IntGemmPath::avxvnni:  // AVX-VNNI's vpdpwssd would be the same sums; vpmaddwd suffices
#if defined(__AVX2__)
      return gemm_tiled<Avx2Madd>(M, N, K, A, lda, B, ldb, C, ldc);
#else
      missing(path);
#endif
    case IntGemmPath::avx512vnni:
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
      return gemm_tiled<Avx512VnniI16>(M, N, K, A, lda, B, ldb, C, ldc);
#else
      missing(path);
#endif
  }
}

void int8_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B, int64_t ldb, int32_t* C,
               int64_t ldc) {
  int8_gemm(int_gemm_paths().back(), M, N, K, A, lda, B, ldb, C, ldc);
}

void int16x8_gemm(int64_t M, int64_t N, int64_t K, const int16_t* A, int64_t lda, const int8_t* B, int64_t ldb,
                  int32_t* C, int64_t ldc) {
  int16x8_gemm(int_gemm_paths().back(), M, N, K, A, lda, B, ldb, C, ldc);
}

}  // namespace lmul::integer
