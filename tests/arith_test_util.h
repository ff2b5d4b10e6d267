// Helpers shared by the arith tests: bit views and a deterministic mix of awkward inputs.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/arith/export_codec.h"
#include "core/error.h"

namespace lmul::test {

inline uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }
inline float from_bits(uint32_t b) { return std::bit_cast<float>(b); }

// Normal values over many binades, exact ties, fp32 subnormals, zeros, Inf and NaN.
inline std::vector<float> awkward_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v;
  const float specials[] = {0.0f,
                            -0.0f,
                            1.0f,
                            -1.0f,
                            0.5f,
                            448.0f,
                            464.0f,
                            480.0f,
                            57344.0f,
                            61440.0f,
                            65504.0f,
                            65520.0f,
                            std::numeric_limits<float>::max(),
                            -std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::min(),
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            1e-40f,
                            -3e-39f};
  v.assign(std::begin(specials), std::end(specials));
  std::uniform_int_distribution<uint32_t> any;
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> scale(-30, 20);
  while (v.size() < n) {
    switch (v.size() % 4) {
      case 0:
        v.push_back(from_bits(any(rng)));
        break;  // every pattern
      case 1:
        v.push_back(std::ldexp(normal(rng), scale(rng)));
        break;  // realistic
      case 2:
        v.push_back(from_bits(any(rng) & 0xFFFF0000u));
        break;  // many exact ties
      default:
        v.push_back(std::ldexp(normal(rng), -140 + scale(rng) / 4));  // fp32 subnormal
    }
  }
  return v;
}

inline bool same_bits(float a, float b) { return bits(a) == bits(b) || (std::isnan(a) && std::isnan(b)); }

// The tensors an export codec stored, as a reader hands them back (by suffix, dtype and shape
// checked); `t` must outlive the lookup.
inline arith::StoredTensors stored_lookup(const std::vector<arith::StoredTensor>& t) {
  return [&t](std::string_view suffix, std::string_view dtype, std::vector<int64_t> shape) {
    for (const auto& s : t)
      if (s.suffix == suffix) {
        if (s.dtype != dtype || s.shape != shape) throw Error("stored tensor '{}' has another dtype or shape", suffix);
        return std::span<const uint8_t>(s.bytes);
      }
    throw Error("no stored tensor '{}'", suffix);
  };
}

// A one-scale codec (fp8, ternary, pot, int), for its scalar facets.
inline std::unique_ptr<arith::ScaledCodec> scaled_codec(std::string_view spec) {
  std::unique_ptr<arith::ExportCodec> c = arith::make_export_codec(spec);
  auto* s = dynamic_cast<arith::ScaledCodec*>(c.get());
  if (!s) throw Error("export spec '{}' is not a one-scale codec", spec);
  c.release();
  return std::unique_ptr<arith::ScaledCodec>(s);
}

}  // namespace lmul::test
