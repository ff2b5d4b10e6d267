// lmul_arith_bench: times the L-Mul GEMMs against OpenBLAS sgemm on the same shapes and threads.
// Usage: lmul_arith_bench [reps [M N K ta tb]]   (threads: OMP_NUM_THREADS). Prints the best of
// reps per shape; with a shape, times only that one.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

#include <fmt/format.h>
#include <omp.h>

#include "core/arith/arith.h"
#include "core/arith/lmul_math.h"

using namespace lmul::arith;

namespace {

double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

// Best wall time and best process CPU time of reps runs (ms). On a shared machine the CPU time
// is the steadier of the two: a descheduled run inflates wall time, not CPU time.
struct Timing {
  double wall = 1e30, cpu = 1e30;
};

template <typename F>
Timing best_ms(int reps, F&& f) {
  Timing best;
  for (int r = 0; r < reps; ++r) {
    const double c0 = cpu_ms();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    best.cpu = std::min(best.cpu, cpu_ms() - c0);
    best.wall = std::min(best.wall, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  struct Shape {
    int64_t M, N, K;
    bool ta, tb;
  };
  std::vector<Shape> shapes = {{768, 512, 128, false, false}, {768, 128, 512, false, false},
                               {768, 512, 128, false, true},  {768, 128, 512, true, false},
                               {256, 768, 768, false, true},  {1024, 1024, 1024, false, false}};
  if (argc == 7)
    shapes = {{std::atoll(argv[2]), std::atoll(argv[3]), std::atoll(argv[4]), std::atoi(argv[5]) != 0,
               std::atoi(argv[6]) != 0}};
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  fmt::print("threads {}  (best of {} runs; wall ms, and CPU ms summed over threads)\n", omp_get_max_threads(), reps);
  fmt::print("{:>16} {:>5} | {:>8} {:>8} {:>8} {:>7} {:>7} | {:>8} {:>8} {:>8} {:>7} {:>7}\n", "M×N×K", "ta tb",
             "sgemm", "bits", "formula", "bits/sg", "form/sg", "cpu sg", "cpu bits", "cpu form", "bits/sg", "form/sg");
  for (const Shape& s : shapes) {
    std::vector<float> A(static_cast<size_t>(s.M * s.K)), B(static_cast<size_t>(s.K * s.N)),
        C(static_cast<size_t>(s.M * s.N));
    for (float& x : A) x = lmul_reduce_ref(normal(rng), 4, false);
    for (float& x : B) x = lmul_reduce_ref(normal(rng), 4, false);
    const Gemm g{s.ta,     s.tb, s.M,  s.N, s.K, A.data(), s.ta ? s.M : s.K, B.data(), s.tb ? s.K : s.N,
                 C.data(), s.N,  false};
    const Timing sg = best_ms(reps, [&] { sgemm(g); });
    const Timing bits = best_ms(reps, [&] { lmul_bits_gemm(g, 4); });
    const Timing form = best_ms(reps, [&] { lmul_formula_gemm(g, 4); });
    fmt::print(
        "{:>16} {:>2} {:>2} | {:>8.3f} {:>8.3f} {:>8.3f} {:>7.2f} {:>7.2f} | {:>8.3f} {:>8.3f} "
        "{:>8.3f} {:>7.2f} {:>7.2f}\n",
        fmt::format("{}×{}×{}", s.M, s.N, s.K), int(s.ta), int(s.tb), sg.wall, bits.wall, form.wall,
        bits.wall / sg.wall, form.wall / sg.wall, sg.cpu, bits.cpu, form.cpu, bits.cpu / sg.cpu, form.cpu / sg.cpu);
  }
}
