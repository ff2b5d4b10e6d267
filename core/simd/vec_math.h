// Elementwise exp, erf and tanh over float arrays, vectorised with the widest instruction set the
// build targets — AVX-512F, else AVX2 + FMA, chosen at compile time (LMUL_NATIVE builds with
// -march=native) — and the C library's functions on other CPUs. The SIMD exp and erf stay within
// 2 ulp of std::exp / std::erf over the whole float range, tails, infinities and NaN included
// (tests/test_vec_math.cpp sweeps it); tanh within 3 ulp of std::tanh. Every element of an array
// goes through the same code whatever its position, so results do not depend on the split of an
// array between threads.
#pragma once
#include <cstdint>

namespace lmul::simd {

// The path this build runs: "avx512", "avx2" or "scalar".
const char* isa();

// y[i] = f(x[i]) for i < n; y may be x.
void exp(const float* x, float* y, int64_t n);
void erf(const float* x, float* y, int64_t n);
void tanh(const float* x, float* y, int64_t n);
// In place: x[i] = f(x[i]) (for scratch arrays that g++ cannot see filled before a const read).
void exp(float* x, int64_t n);
void erf(float* x, int64_t n);
void tanh(float* x, int64_t n);

}  // namespace lmul::simd
