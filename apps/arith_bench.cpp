// lmul_arith_bench: times the L-Mul GEMMs against OpenBLAS sgemm on the same shapes and threads.
// Usage: lmul_arith_bench [reps]   (threads: OMP_NUM_THREADS). Prints the best of reps per shape.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <vector>

#include <fmt/format.h>
#include <omp.h>

#include "core/arith/arith.h"
#include "core/arith/lmul_math.h"

using namespace lmul::arith;

namespace {

template <typename F>
double best_ms(int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  struct Shape { int64_t M, N, K; bool ta, tb; };
  const Shape shapes[] = {{768, 512, 128, false, false}, {768, 128, 512, false, false},
                          {768, 512, 128, false, true},  {768, 128, 512, true, false},
                          {256, 768, 768, false, true},  {1024, 1024, 1024, false, false}};
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  fmt::print("threads {}  (best of {} runs; G = 1e9 products/s)\n", omp_get_max_threads(), reps);
  fmt::print("{:>18} {:>5} {:>10} {:>10} {:>10} {:>8} {:>8}\n", "M×N×K", "ta tb", "sgemm ms",
             "bits ms", "formula ms", "bits/sg", "form/sg");
  for (const Shape& s : shapes) {
    std::vector<float> A(static_cast<size_t>(s.M * s.K)), B(static_cast<size_t>(s.K * s.N)),
        C(static_cast<size_t>(s.M * s.N));
    for (float& x : A) x = lmul_reduce_ref(normal(rng), 4, false);
    for (float& x : B) x = lmul_reduce_ref(normal(rng), 4, false);
    const Gemm g{s.ta, s.tb, s.M, s.N, s.K, A.data(), s.ta ? s.M : s.K, B.data(),
                 s.tb ? s.K : s.N, C.data(), s.N, false};
    const double t_sg = best_ms(reps, [&] { sgemm(g); });
    const double t_bits = best_ms(reps, [&] { lmul_bits_gemm(g, 4); });
    const double t_form = best_ms(reps, [&] { lmul_formula_gemm(g, 4); });
    const double prods = static_cast<double>(s.M * s.N * s.K);
    fmt::print("{:>18} {:>2} {:>2} {:>10.3f} {:>10.3f} {:>10.3f} {:>8.2f} {:>8.2f}   bits {:.1f} G/s\n",
               fmt::format("{}×{}×{}", s.M, s.N, s.K), int(s.ta), int(s.tb), t_sg, t_bits, t_form,
               t_bits / t_sg, t_form / t_sg, prods / t_bits * 1e-6);
  }
}
