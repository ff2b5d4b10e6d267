// L-Mul variant=bits GEMM: per product one integer add of the operands' bit patterns (the
// constant already subtracted from packed B), zero operands masked, fp32 accumulation in order of
// k — so the result equals lmul_gemm_ref bit for bit. The construction: "subtract the constant from B
// once per packed panel; then per 16 products one integer add and one masked fp32 add".
//
// The sign needs no work: adding the full patterns mod 2^32 adds the sign bits, i.e. XORs them,
// as long as the magnitude sum stays inside the normal range. That holds for every product when
// the exponent ranges of A and B allow it (checked once per GEMM, O(MK + KN)); GEMMs with NaN/Inf
// operands or exponent sums that could under/overflow take the reference path instead.
//
// AVX-512 (compile-time __AVX512F__): B packed in panels of kNR = 32 columns (k-major), A in
// micro-panels of kMR = 6 rows (k-major), K in chunks of kKC; a 6×32 register tile (12 zmm
// accumulators). Panels without zeros run an unmasked kernel; others AND the zero masks of A and B.
// OpenMP over blocks of rows. Transposes are absorbed by the packing.
#include <algorithm>
#include <bit>
#include <vector>

#include <omp.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/arith/lmul_math.h"

namespace lmul::arith {

namespace {

constexpr uint32_t kExpMask = 0x7F800000u;

float op_a(const Gemm& g, int64_t i, int64_t k) { return g.ta ? g.A[k * g.lda + i] : g.A[i * g.lda + k]; }
float op_b(const Gemm& g, int64_t k, int64_t j) { return g.tb ? g.B[j * g.ldb + k] : g.B[k * g.ldb + j]; }

// Exponent fields of the nonzero (normal) entries, and whether any entry is NaN/Inf.
struct ExpRange {
  int lo = 255, hi = -1;
  bool special = false;
};

ExpRange exp_range(const float* x, int64_t rows, int64_t cols, int64_t ld) {
  uint32_t lo = 255, hi = 0;  // zero/subnormal fields (0) count as 255 for lo and 0 for hi
#pragma omp parallel for schedule(static) reduction(min : lo) reduction(max : hi) if (rows * cols > 65536)
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * ld;
#pragma omp simd reduction(min : lo) reduction(max : hi)
    for (int64_t j = 0; j < cols; ++j) {
      const uint32_t e = (std::bit_cast<uint32_t>(xi[j]) & kExpMask) >> 23;
      lo = std::min(lo, e == 0 ? 255u : e);
      hi = std::max(hi, e);
    }
  }
  return {static_cast<int>(lo), hi == 0 ? -1 : static_cast<int>(hi), hi == 255};
}

// True when bits(a) + bits(b) − K lands in [2^−126, Inf) for every nonzero pair.
bool fast_path_safe(const Gemm& g, int m) {
  const ExpRange a = exp_range(g.A, g.ta ? g.K : g.M, g.ta ? g.M : g.K, g.lda);
  const ExpRange b = exp_range(g.B, g.tb ? g.N : g.K, g.tb ? g.K : g.N, g.ldb);
  if (a.special || b.special) return false;
  if (a.hi < 0 || b.hi < 0) return true;  // every product is zero
  const int64_t K = lmul_bits_constant(m);
  const int64_t max_sum = (int64_t{a.hi + 1 + b.hi + 1} << 23) - K;  // exclusive bound
  const int64_t min_sum = (int64_t{a.lo + b.lo} << 23) - K;
  return max_sum <= int64_t{kExpMask} && min_sum >= 0x00800000;
}

void zero_or_keep(const Gemm& g) {
  if (g.accumulate) return;
  for (int64_t i = 0; i < g.M; ++i) std::fill(g.C + i * g.ldc, g.C + i * g.ldc + g.N, 0.0f);
}

}  // namespace

// Row i of C gets its products added in order of k, zero products skipped; auto-vectorises.
void lmul_bits_gemm_portable(const Gemm& g, int m) {
  if (g.M == 0 || g.N == 0) return;
  if (g.K == 0) return zero_or_keep(g);
  if (!fast_path_safe(g, m)) return lmul_gemm_ref(LMulVariant::bits, g, m);
  const int64_t M = g.M, N = g.N, K = g.K;
  const uint32_t kc = lmul_bits_constant(m);
  std::vector<uint32_t> bp(static_cast<size_t>(K * N)), bnz(static_cast<size_t>(K * N));
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < N; ++j) {
      const uint32_t b = std::bit_cast<uint32_t>(op_b(g, k, j));
      bp[k * N + j] = b - kc;
      bnz[k * N + j] = (b & kExpMask) ? ~0u : 0u;
    }
#pragma omp parallel for schedule(static) if (M * N * K > 65536)
  for (int64_t i = 0; i < M; ++i) {
    float* ci = g.C + i * g.ldc;
    if (!g.accumulate) std::fill(ci, ci + N, 0.0f);
    for (int64_t k = 0; k < K; ++k) {
      const uint32_t a = std::bit_cast<uint32_t>(op_a(g, i, k));
      if ((a & kExpMask) == 0) continue;
      const uint32_t* b = bp.data() + k * N;
      const uint32_t* nz = bnz.data() + k * N;
      for (int64_t j = 0; j < N; ++j) {
        const float t = std::bit_cast<float>(a + b[j]);
        ci[j] = nz[j] ? ci[j] + t : ci[j];
      }
    }
  }
}

#if defined(__AVX512F__)

namespace {

constexpr int kMR = 6, kNR = 32;
constexpr int64_t kKC = 256;

// One 6×32 tile of C over kc values of k. a: kc×6 patterns; b: kc×32 patterns minus the constant,
// bm: their nonzero masks (bit j of bm[k]). mr×nr: the valid part. kAZ / kBZ: the A / B panel has
// zeros, so products are masked (A's mask is tested on the broadcast pattern itself).
template <bool kAZ, bool kBZ>
void tile(int64_t kc, const uint32_t* a, const uint32_t* b, const uint32_t* bm, float* c, int64_t ldc, int mr, int nr,
          bool load_c) {
  const __m512i exp_mask = _mm512_set1_epi32(static_cast<int>(kExpMask));
  const __mmask16 n0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1);
  const __mmask16 n1 = nr >= 32 ? 0xFFFF : nr > 16 ? static_cast<__mmask16>((1u << (nr - 16)) - 1) : 0;
  __m512 acc[kMR][2];
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) {
    const bool live = load_c && r < mr;
    acc[r][0] = live ? _mm512_maskz_loadu_ps(n0, c + r * ldc) : _mm512_setzero_ps();
    acc[r][1] = live && n1 ? _mm512_maskz_loadu_ps(n1, c + r * ldc + 16) : _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512i b0 = _mm512_loadu_si512(b + k * kNR);
    const __m512i b1 = _mm512_loadu_si512(b + k * kNR + 16);
    __mmask16 bm0 = 0xFFFF, bm1 = 0xFFFF;
    if constexpr (kBZ) {
      bm0 = static_cast<__mmask16>(bm[k]);
      bm1 = static_cast<__mmask16>(bm[k] >> 16);
    }
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
      const __m512i av = _mm512_set1_epi32(static_cast<int>(a[k * kMR + r]));
      const __m512 t0 = _mm512_castsi512_ps(_mm512_add_epi32(av, b0));
      const __m512 t1 = _mm512_castsi512_ps(_mm512_add_epi32(av, b1));
      if constexpr (!kAZ && !kBZ) {
        acc[r][0] = _mm512_add_ps(acc[r][0], t0);
        acc[r][1] = _mm512_add_ps(acc[r][1], t1);
      } else {
        __mmask16 m0 = bm0, m1 = bm1;
        if constexpr (kAZ) {
          const __mmask16 nz = _mm512_test_epi32_mask(av, exp_mask);
          m0 &= nz;
          m1 &= nz;
        }
        acc[r][0] = _mm512_mask_add_ps(acc[r][0], m0, acc[r][0], t0);
        acc[r][1] = _mm512_mask_add_ps(acc[r][1], m1, acc[r][1], t1);
      }
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) {
    if (r >= mr) break;
    _mm512_mask_storeu_ps(c + r * ldc, n0, acc[r][0]);
    if (n1) _mm512_mask_storeu_ps(c + r * ldc + 16, n1, acc[r][1]);
  }
}

using TileFn = void (*)(int64_t, const uint32_t*, const uint32_t*, const uint32_t*, float*, int64_t, int, int, bool);
constexpr TileFn kTiles[2][2] = {{&tile<false, false>, &tile<false, true>}, {&tile<true, false>, &tile<true, true>}};

}  // namespace

void lmul_bits_gemm(const Gemm& g, int m) {
  if (g.M == 0 || g.N == 0) return;
  if (g.K == 0) return zero_or_keep(g);
  if (!fast_path_safe(g, m)) return lmul_gemm_ref(LMulVariant::bits, g, m);
  const int64_t M = g.M, N = g.N, K = g.K;
  const uint32_t kconst = lmul_bits_constant(m);
  const int64_t np = (N + kNR - 1) / kNR, nkc = (K + kKC - 1) / kKC;

  // B: np panels of K×32 patterns minus the constant; padding columns hold garbage that is never
  // stored, so they count as nonzero (their mask bit set) and do not force the masked kernel.
  thread_local std::vector<uint32_t> bp, bm;
  thread_local std::vector<uint8_t> bz;  // panel × K chunk: has a zero
  bp.resize(static_cast<size_t>(np * K * kNR));
  bm.resize(static_cast<size_t>(np * K));
  bz.assign(static_cast<size_t>(np * nkc), 0);
  uint32_t* Bp = bp.data();
  uint32_t* Bm = bm.data();
  uint8_t* Bz = bz.data();
  const bool big = M * N * K > 65536;  // smaller GEMMs stay on the calling thread
#pragma omp parallel for schedule(static) if (big)
  for (int64_t p = 0; p < np; ++p) {
    uint32_t* dst = Bp + p * K * kNR;
    const int64_t valid = std::min<int64_t>(kNR, N - p * kNR), j = p * kNR;
    if (g.tb) {  // B stored N×K: read each row (a column of op(B)) in order
      for (int64_t jj = 0; jj < kNR; ++jj)
        for (int64_t k = 0; k < K; ++k)
          dst[k * kNR + jj] = (jj < valid ? std::bit_cast<uint32_t>(g.B[(j + jj) * g.ldb + k]) : 0x3F800000u) - kconst;
    } else {
      for (int64_t k = 0; k < K; ++k)
        for (int64_t jj = 0; jj < kNR; ++jj)
          dst[k * kNR + jj] = (jj < valid ? std::bit_cast<uint32_t>(g.B[k * g.ldb + j + jj]) : 0x3F800000u) - kconst;
    }
    for (int64_t k = 0; k < K; ++k) {
      uint32_t mask = 0;
      for (int64_t jj = 0; jj < kNR; ++jj) mask |= ((dst[k * kNR + jj] + kconst) & kExpMask) ? (1u << jj) : 0u;
      Bm[p * K + k] = mask;
      if (mask != ~0u) Bz[p * nkc + k / kKC] = 1;
    }
  }

  // Row blocks of at most 96 rows (a multiple of 6), their count a multiple of the thread count
  // so that every thread gets the same share (M = 256 on 2 threads: 4 × 64, not 96 + 96 + 64).
  const int64_t threads = omp_in_parallel() || !big ? 1 : omp_get_max_threads();
  int64_t nblocks = (M + 95) / 96;
  nblocks = (nblocks + threads - 1) / threads * threads;
  const int64_t mc = std::max<int64_t>(kMR, ((M + nblocks - 1) / nblocks + kMR - 1) / kMR * kMR);
  nblocks = (M + mc - 1) / mc;
#pragma omp parallel for schedule(static) if (big)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    const int64_t i0 = blk * mc, rows = std::min(mc, M - i0);
    const int64_t nmp = (rows + kMR - 1) / kMR;
    thread_local std::vector<uint32_t> ap;
    thread_local std::vector<uint8_t> az;
    ap.resize(static_cast<size_t>(nmp * K * kMR));
    az.assign(static_cast<size_t>(nmp * nkc), 0);
    for (int64_t q = 0; q < nmp; ++q) {
      // Panel q: rows i0 + 6q .. +5, k-major; padding rows hold 1.0 (nonzero, never stored).
      uint32_t* dst = ap.data() + q * K * kMR;
      const int64_t valid = std::min<int64_t>(kMR, rows - q * kMR), i = i0 + q * kMR;
      if (g.ta) {  // A stored K×M: the 6 values of one k are contiguous
        for (int64_t k = 0; k < K; ++k)
          for (int64_t r = 0; r < kMR; ++r)
            dst[k * kMR + r] = r < valid ? std::bit_cast<uint32_t>(g.A[k * g.lda + i + r]) : 0x3F800000u;
      } else {  // A stored M×K: read each row in order
        for (int64_t r = 0; r < kMR; ++r)
          for (int64_t k = 0; k < K; ++k)
            dst[k * kMR + r] = r < valid ? std::bit_cast<uint32_t>(g.A[(i + r) * g.lda + k]) : 0x3F800000u;
      }
      for (int64_t pc = 0; pc < nkc; ++pc) {
        uint32_t all = kExpMask;
        for (int64_t e = pc * kKC * kMR; e < std::min(K, (pc + 1) * kKC) * kMR; ++e)
          all &= (dst[e] & kExpMask) ? kExpMask : 0u;
        az[q * nkc + pc] = all == 0;
      }
    }
    for (int64_t pc = 0; pc < nkc; ++pc) {
      const int64_t k0 = pc * kKC, kc = std::min(kKC, K - k0);
      for (int64_t p = 0; p < np; ++p) {
        const int nr = static_cast<int>(std::min<int64_t>(kNR, N - p * kNR));
        for (int64_t q = 0; q < nmp; ++q) {
          const int mr = static_cast<int>(std::min<int64_t>(kMR, rows - q * kMR));
          const TileFn fn = kTiles[az[q * nkc + pc]][Bz[p * nkc + pc]];
          fn(kc, ap.data() + (q * K + k0) * kMR, Bp + (p * K + k0) * kNR, Bm + p * K + k0,
             g.C + (i0 + q * kMR) * g.ldc + p * kNR, g.ldc, mr, nr, g.accumulate || pc > 0);
        }
      }
    }
  }
}

#else

void lmul_bits_gemm(const Gemm& g, int m) { lmul_bits_gemm_portable(g, m); }

#endif

}  // namespace lmul::arith
