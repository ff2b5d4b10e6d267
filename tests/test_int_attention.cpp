// The integer attention head against its unfused composition written out with scalar loops and
// the scalar operators, bit for bit, and one case by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/integer/dyadic.h"
#include "core/integer/int_attention.h"
#include "core/integer/int_exp.h"
#include "core/integer/shiftmax.h"

using namespace lmul;
using namespace lmul::integer;

namespace {

std::vector<int8_t> reference(const IntAttentionHead& p, int64_t T, int64_t hs, const std::vector<int8_t>& q,
                              const std::vector<int8_t>& k, const std::vector<int8_t>& v, int64_t ld) {
  std::vector<int8_t> y(static_cast<size_t>(T * hs));
  for (int64_t i = 0; i < T; ++i) {
    std::vector<int32_t> s(static_cast<size_t>(T), 0), prob(static_cast<size_t>(T));
    for (int64_t j = 0; j <= i; ++j) {
      int64_t dot = 0;
      for (int64_t c = 0; c < hs; ++c) dot += int64_t{q[i * ld + c]} * k[j * ld + c];
      s[j] = static_cast<int32_t>(clamp_bits(requant(dot, p.score), 8));
    }
    shiftmax_row(s, i + 1, p.x0, kShiftmaxN, 16, MaskMode::exclude, prob);
    for (int64_t c = 0; c < hs; ++c) {
      int64_t acc = 0;
      for (int64_t j = 0; j <= i; ++j) acc += int64_t{prob[j]} * v[j * ld + c];
      y[i * hs + c] = static_cast<int8_t>(clamp_bits(requant(acc, p.out), 8));
    }
  }
  return y;
}

}  // namespace

TEST_SUITE("integer.attention") {
  TEST_CASE("int_attention_head: one position by hand") {
    // score 1·1 = 1 → 1; a lone Shiftmax entry at x0 = −10 is 32765 (of 2^15); y = 32765·100 at
    // scale 2^−15 → requant by 2^−15 → 99.99 → 100.
    const int8_t q = 1, k = 1, v = 100;
    int8_t y = 0;
    int_attention_head({dyadic(1.0), -10, dyadic(0x1p-15)}, 1, 1, &q, &k, &v, 1, &y, 1);
    CHECK(y == 100);
  }

  TEST_CASE("int_attention_head equals its scalar composition on random heads") {
    std::mt19937 g(5);
    std::uniform_int_distribution<int> byte(-128, 127);
    for (int64_t T : {1, 2, 7, 16, 33, 64})
      for (int64_t hs : {1, 8, 17, 32}) {
        const int64_t ld = 3 * hs + 1;  // a head's slice of wider qkv rows
        std::vector<int8_t> q(T * ld), k(T * ld), v(T * ld);
        for (auto* t : {&q, &k, &v})
          for (auto& x : *t) x = static_cast<int8_t>(byte(g));
        // s_q = s_k = 0.05, 1/√hs folded in, s_score = 0.08; s_v = 0.04, s_y = 0.03.
        const IntAttentionHead p{dyadic(0.05 * 0.05 / std::sqrt(static_cast<double>(hs)) / 0.08),
                                 exp_shift_x0(0.08f, "test"), dyadic(0x1p-15 * 0.04 / 0.03)};
        std::vector<int8_t> y(T * hs);
        int_attention_head(p, T, hs, q.data(), k.data(), v.data(), ld, y.data(), hs);
        INFO("T=" << T << " hs=" << hs);
        REQUIRE(y == reference(p, T, hs, q, k, v, ld));
      }
  }

  TEST_CASE("int_attention_head refuses a score scale that breaks Shiftmax's sum") {
    const int8_t q[4] = {}, k[4] = {}, v[4] = {};
    int8_t y[4];
    CHECK_THROWS_WITH_AS(int_attention_head({dyadic(1.0), -20000, dyadic(1.0)}, 4, 1, q, k, v, 1, y, 1),
                         doctest::Contains("[int_attention_head] rows of 4"), Error);
  }
}
