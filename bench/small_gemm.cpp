// Are the attention's per-head GEMMs small enough to need batching? Times cblas_sgemm, one thread,
// on the per-head products of the baby config (T = 64, head size 32, B·H = 48 heads per call of
// bmm) and on one of its Linear layers, and prints GFLOP/s: if the small calls run near the large
// one's rate, a packed small-GEMM or one call for all heads has nothing to win (BENCHMARKS.md).
// Usage: OPENBLAS_NUM_THREADS=1 lmul_small_gemm_bench
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

int main() {
  struct Shape {
    int M, N, K;
    bool ta, tb;
    int calls;
    const char* what;
  };
  const Shape shapes[] = {{64, 64, 32, false, true, 48, "Q.K^T (64x64x32, x48 heads)"},
                          {64, 32, 64, false, false, 48, "P.V (64x32x64, x48)"},
                          {64, 32, 64, true, false, 48, "dV = P^T.dY (64x32x64, x48)"},
                          {768, 384, 128, false, true, 1, "c_attn forward (768x384x128)"},
                          {768, 512, 128, false, true, 1, "c_fc forward (768x512x128)"}};
  std::printf("%-32s %12s %10s\n", "GEMM", "us per bmm", "GFLOP/s");
  for (const Shape& s : shapes) {
    const size_t a = static_cast<size_t>(s.M) * s.K, b = static_cast<size_t>(s.K) * s.N,
                 c = static_cast<size_t>(s.M) * s.N;
    std::vector<float> A(a * s.calls, 0.5f), B(b * s.calls, 0.25f), C(c * s.calls);
    double best = 1e30;
    for (int r = 0; r < 200; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int g = 0; g < s.calls; ++g)
        cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, s.M, s.N, s.K,
                    1.0f, A.data() + g * a, s.ta ? s.M : s.K, B.data() + g * b, s.tb ? s.K : s.N, 0.0f,
                    C.data() + g * c, s.N);
      best = std::min(best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("%-32s %12.1f %10.1f\n", s.what, best, 2.0 * s.calls * s.M * s.N * s.K / best / 1e3);
  }
}
