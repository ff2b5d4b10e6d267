// The one thread pool is OpenMP's (OpenBLAS is its OpenMP build and shares it, docs/ARCHITECTURE.md §4).
// Helpers for deterministic splits: a fixed thread count gives fixed ranges, so reductions run in
// the same order every time.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace lmul {

// Calls fn(begin, end) on contiguous slices of [0, n), one per thread (static partition).
template <typename Fn>
void parallel_slices(int64_t n, Fn&& fn) {
#pragma omp parallel
  {
    int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t chunk = (n + nt - 1) / nt;
    int64_t b = std::min(n, t * chunk), e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  }
}

// Number of threads a parallel region gets.
inline int pool_threads() { return omp_get_max_threads(); }

}  // namespace lmul
