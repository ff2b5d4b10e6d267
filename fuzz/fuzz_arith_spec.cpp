// Arithmetic spec strings ("exact", "lmul:m=4,variant=formula", "fp8:e4m3,scale=delayed", ...) of every
// registered format, and export codec specs (`lmul export --format`).
// Properties: a spec that parses has a canonical form that parses to itself; the multiplier it
// makes quantises and multiplies a small operand (with gemm=int, also through its integer forward
// GEMM) without a sanitizer report; a codec packs and unpacks a small weight.
#include <array>
#include <cmath>

#include "core/arith/arith.h"
#include "core/arith/export_codec.h"
#include "core/arith/int8_linear.h"
#include "fuzz/fuzz_input.h"

using namespace lmul;

namespace {
// A 4×4 operand with the awkward values: zeros of both signs, subnormals, huge and tiny numbers.
constexpr std::array<float, 16> kOperand = {0.0f,   -0.0f, 1.0f,   -1.5f, 1e-40f, -3e-39f, 65504.0f, -1e30f,
                                            0.125f, 3.0f,  -7.25f, 1e-8f, 448.0f, 57344.f, -0.3f,    2.5e-5f};

void exercise(arith::Multiplier& mul) {
  std::array<float, 16> qa{}, qb{}, c{};
  for (auto role : {arith::Role::weight, arith::Role::activation, arith::Role::gradient}) {
    const bool qa_used = mul.quantize(role, kOperand.data(), 4, 4, 4, qa.data());
    const bool qb_used = mul.quantize(role, kOperand.data(), 4, 4, 4, qb.data());
    arith::Gemm g;
    g.M = g.N = g.K = 4;
    g.A = qa_used ? qa.data() : kOperand.data();
    g.B = qb_used ? qb.data() : kOperand.data();
    g.lda = g.ldb = g.ldc = 4;
    g.C = c.data();
    mul.gemm(g);
  }
  if (mul.int8_forward()) {  // gemm=int: the integer forward GEMM of the operand by itself
    arith::Int8Codes a, w;
    mul.int8_codes(arith::Role::activation, kOperand.data(), 4, 4, 4, a);
    mul.int8_codes(arith::Role::weight, kOperand.data(), 4, 4, 4, w);
    arith::int8_linear(a, w, 4, 4, 4, c.data(), 4);
  }
  mul.set_state(mul.state());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  fuzz::expect_clean([&] {
    auto mul = arith::make_multiplier(spec, 7);
    const std::string canonical = mul->spec();
    if (arith::make_multiplier(canonical)->spec() != canonical)
      fuzz::fail("canonical spec '" + canonical + "' of '" + spec + "' does not parse to itself");
    exercise(*mul);
  });
  fuzz::expect_clean([&] {
    auto codec = arith::make_export_codec(spec);
    const auto stored = codec->store(kOperand, 4, 4);
    std::array<float, 16> back{};
    codec->load(
        [&](std::string_view suffix, std::string_view, std::vector<int64_t>) -> std::span<const uint8_t> {
          for (const auto& t : stored)
            if (t.suffix == suffix) return t.bytes;
          fuzz::fail("export codec '" + codec->spec() + "' did not store a tensor it reads");
        },
        4, 4, back.data());
  });
  return 0;
}
