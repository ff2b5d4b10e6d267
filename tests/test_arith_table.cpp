// The table of number formats, row by row (core/arith/registry.cpp): every facet of every format —
// the example spec, the canonical form, quantize() against the format's scalar reference, the
// products against its scalar product, the export codec's round trip. A new row is checked here
// without writing a test for it.
#include <doctest/doctest.h>

#include <cmath>
#include <ios>
#include <random>
#include <string>
#include <vector>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/export_codec.h"

using namespace lmul;
using namespace lmul::arith;
using lmul::test::bits;
using lmul::test::same_bits;

namespace {

constexpr int64_t kRows = 12, kCols = 25;  // 300 values per operand
constexpr uint64_t kSeed = 7;

// Finite values over many binades, ~10% zeros of both signs, half of them negative.
std::vector<float> realistic_values(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> binade(-8, 4), pick(0, 19);
  std::vector<float> v(kRows * kCols);
  for (float& x : v) {
    const int p = pick(rng);
    x = p == 0 ? 0.0f : p == 1 ? -0.0f : std::ldexp(normal(rng), binade(rng));
  }
  return v;
}

const FormatInfo& row_of(const std::string& spec) {
  const std::string name = spec.substr(0, spec.find(':'));
  for (const auto& f : formats())
    if (name == f.name) return f;
  FAIL("no row for " << spec);
  return formats()[0];
}

std::string options_of(const std::string& spec) {
  const size_t colon = spec.find(':');
  return colon == std::string::npos ? "" : spec.substr(colon + 1);
}

// Every row's example, and the options the examples leave out (roundings, scalings, granularities,
// variants), each checked against its row's references.
std::vector<std::string> specs_to_check() {
  std::vector<std::string> specs;
  for (const auto& f : formats()) specs.push_back(f.example);
  for (const char* s :
       {"float:e=5,m=2,round=stochastic", "bf16:round=stochastic", "fp16", "fp8:e5m2,scale=current,margin=1",
        "fp8:hybrid,scale=none,round=stochastic", "fp8:e4m3,scale=current", "lmul:m=3,variant=formula,round=trunc",
        "lmul:m=2,round=trunc", "pot:b=5,eps=0.001,round=linear,gran=channel", "pot:b=3,round=ceil",
        "int:b=4,gran=channel", "int:w=4,a=6,gran=group,g=8", "int:b=3,round=stochastic", "ternary:act=fp32"})
    specs.push_back(s);
  return specs;
}

// The operand of a role as the multiplier's first quantize() of it, or as it is.
std::vector<float> quantised(const std::string& spec, Role role, const std::vector<float>& x) {
  std::vector<float> out(x.size());
  if (!make_multiplier(spec, kSeed)->quantize(role, x.data(), kRows, kCols, kCols, out.data())) return x;
  return out;
}

float reference_product(const FormatInfo& f, const std::string& options, float a, float b) {
  return f.reference_product ? f.reference_product(options, a, b) : a * b;
}

}  // namespace

TEST_SUITE("arith.table") {
  TEST_CASE("every row's example parses to that row, and its canonical spec parses back to itself") {
    for (const auto& f : formats()) {
      CAPTURE(f.name);
      const std::string example = f.example;
      CHECK(example.substr(0, example.find(':')) == f.name);
      const std::string canonical = make_multiplier(example)->spec();
      CHECK(f.make(options_of(example), 0)->spec() == canonical);
      CHECK(make_multiplier(canonical)->spec() == canonical);
      CHECK(std::string(f.help).rfind(f.name, 0) == 0);  // the help opens with the spec's syntax
    }
  }

  TEST_CASE("quantize() of every role equals the format's scalar reference bit for bit") {
    const std::vector<std::vector<float>> operands = {realistic_values(1), test::awkward_values(kRows * kCols, 2)};
    for (const std::string& spec : specs_to_check()) {
      const FormatInfo& f = row_of(spec);
      for (Role role : {Role::weight, Role::activation, Role::gradient})
        for (size_t o = 0; o < operands.size(); ++o) {
          CAPTURE(spec);
          CAPTURE(static_cast<int>(role));
          CAPTURE(o);
          const auto& x = operands[o];
          std::vector<float> fast(x.size()), ref(x.size());
          const bool q = make_multiplier(spec, kSeed)->quantize(role, x.data(), kRows, kCols, kCols, fast.data());
          const bool r = f.reference_quantize(options_of(spec), kSeed, role, x.data(), kRows, kCols, ref.data());
          REQUIRE(q == r);
          if (!q) continue;
          int differ = 0;
          for (size_t i = 0; i < x.size(); ++i)
            if (!same_bits(fast[i], ref[i]) && ++differ < 4)
              FAIL_CHECK(std::hexfloat << "x=" << x[i] << " quantize=" << fast[i] << " reference=" << ref[i]);
          CHECK(differ == 0);
        }
    }
  }

  TEST_CASE("a K=1 gemm is the scalar product bit for bit; K=7 within 3·K·2^-24 of the sum of |products|") {
    for (const std::string& spec : specs_to_check()) {
      CAPTURE(spec);
      const FormatInfo& f = row_of(spec);
      const std::string options = options_of(spec);
      // Activations times weights, as a Linear layer forms them.
      const auto a = quantised(spec, Role::activation, realistic_values(3));
      const auto b = quantised(spec, Role::weight, realistic_values(4));
      auto m = make_multiplier(spec, kSeed);
      int differ = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        float c = -1.0f;
        m->gemm(Gemm{false, false, 1, 1, 1, &a[i], 1, &b[i], 1, &c, 1, false});
        const float ref = 0.0f + reference_product(f, options, a[i], b[i]);  // C = 0 + Σ products
        if (bits(c) != bits(ref) && ++differ < 4)
          FAIL_CHECK(std::hexfloat << a[i] << " × " << b[i] << ": gemm " << c << ", reference " << ref);
      }
      CHECK(differ == 0);
      // C (3×4) = A (3×7) · B (7×4): the reference sums the products in order of k; the gemm may
      // sum in another order (and fuse multiply-adds): fp32 rounding of the sums only.
      const int64_t M = 3, N = 4, K = 7;
      std::vector<float> C(M * N);
      m->gemm(Gemm{false, false, M, N, K, a.data(), K, b.data(), N, C.data(), N, false});
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          float ref = 0.0f;
          double mag = 0.0;
          for (int64_t k = 0; k < K; ++k) {
            const float p = reference_product(f, options, a[i * K + k], b[k * N + j]);
            ref += p;
            mag += std::fabs(p);
          }
          CHECK(std::fabs(C[i * N + j] - ref) <= 3.0 * K * std::ldexp(mag, -24));
        }
    }
  }

  TEST_CASE("the export codec of every exportable row round-trips its weights") {
    const auto w = realistic_values(5);
    int exportable = 0;
    for (const auto& f : formats()) {
      CAPTURE(f.name);
      CHECK(!f.make_codec == !f.export_help);
      if (!f.make_codec) continue;
      ++exportable;
      // The format's default export; dgq's default g=128 does not divide kCols = 25, its example's g=5 does.
      const auto codec = f.make_codec(std::string_view(f.name) == "dgq" ? "g=5" : "");
      CHECK(make_export_codec(codec->spec())->spec() == codec->spec());
      const auto stored = codec->store(w, kRows, kCols);
      std::vector<float> back(w.size());
      codec->load(test::stored_lookup(stored), kRows, kCols, back.data());
      if (codec->decodes_to_arithmetic()) {
        // The weights the arithmetic of the same spec multiplies (−0 comes back as +0).
        const auto q = quantised(codec->spec(), Role::weight, w);
        for (size_t i = 0; i < w.size(); ++i) CHECK(back[i] == q[i]);
      } else {
        const auto& scaled = dynamic_cast<const ScaledCodec&>(*codec);
        const PackedWeights p = scaled.pack(w, kRows, kCols);
        CHECK(p.bytes.size() == scaled.packed_size(w.size()));
        for (size_t i = 0; i < w.size(); ++i)
          CHECK(bits(back[i]) == bits(scaled.decode(scaled.encode(w[i] / p.scale)) * p.scale));
      }
    }
    CHECK(exportable == 5);  // fp8, pot, int, ternary, dgq
  }
}
