#include <doctest/doctest.h>

#include <cmath>
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
    CHECK_THROWS_WITH_AS(arith::make_multiplier("lmull:m=4"), doctest::Contains("unknown format 'lmull'"), Error);
    CHECK_THROWS_WITH_AS(arith::make_multiplier("exact:m=4"), doctest::Contains("unknown option 'm'"), Error);
  }
}

TEST_SUITE("arith") {
  TEST_CASE("every format's canonical spec parses back to itself") {
    const char* specs[] = {"exact",
                           "float:e=4,m=3",
                           "bf16",
                           "fp16:round=stochastic",
                           "fp8:e4m3",
                           "fp8:hybrid,scale=delayed,history=16,margin=2",
                           "fp8:e5m2,scale=current",
                           "lmul:m=4",
                           "lmul:m=3,variant=formula,round=trunc",
                           "pot:b=5,eps=0.5",
                           "int:b=4,gran=group,g=32",
                           "int:w=4,a=8,gran=channel",
                           "ternary:act=fp32"};
    for (const char* s : specs) {
      CAPTURE(s);
      const std::string canonical = arith::make_multiplier(s)->spec();
      CHECK(arith::make_multiplier(canonical)->spec() == canonical);
    }
  }

  TEST_CASE("every registry row is reachable by make_multiplier through its name, and --list names it") {
    for (const auto& f : arith::formats()) {
      CAPTURE(f.name);
      const std::string example = f.example;
      const size_t colon = example.find(':');
      CHECK(example.substr(0, colon) == f.name);
      const std::string options = colon == std::string::npos ? "" : example.substr(colon + 1);
      CHECK(arith::make_multiplier(example)->spec() == f.make(options, 0)->spec());
      CHECK(std::string(f.help).rfind(f.name, 0) == 0);  // the help opens with the spec's syntax
    }
    try {
      arith::make_multiplier("nosuch:m=1");
      FAIL("an unknown format was accepted");
    } catch (const Error& e) {
      const std::string what = e.what();
      CHECK(what.find("unknown format 'nosuch'") != std::string::npos);
      for (const auto& f : arith::formats()) CHECK(what.find(f.name) != std::string::npos);
    }
  }

  TEST_CASE("a bare fp8 spec is Transformer Engine's default delayed scaling; scale=none only when asked") {
    for (const char* kind : {"e4m3", "e5m2", "hybrid"}) {
      CAPTURE(kind);
      const std::string bare = std::string("fp8:") + kind;
      CHECK(arith::make_multiplier(bare)->spec() == bare + ",scale=delayed,margin=0,history=1024,round=nearest");
      CHECK(arith::make_multiplier(bare + ",scale=none")->spec() == bare + ",scale=none,round=nearest");
    }
    // Delayed scaling: the first tensor is scaled by 1, the second by the power of two its amax gave.
    auto m = arith::make_multiplier("fp8:e4m3");
    const float x[2] = {0.01f, 0.001f};
    float first[2], second[2];
    REQUIRE(m->quantize(arith::Role::weight, x, 1, 2, 2, first));
    REQUIRE(m->quantize(arith::Role::weight, x, 1, 2, 2, second));
    CHECK(first[1] == std::ldexp(1.0f, -9));    // 0.001 = 0.512·2^-9, unscaled: the smallest subnormal
    CHECK(second[1] == std::ldexp(1.0f, -10));  // scale 2^15 (448/0.01 = 44800): 1.024·2^-10 → 2^-10
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
      arith::Gemm gb{false, false, M, N, K, A.data() + b * M * K, K, Bm.data() + b * K * N, N, R.data() + b * M * N,
                     N,     false};
      m->gemm(gb);
    }
    CHECK(C == R);
  }
}
