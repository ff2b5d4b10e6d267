#include "apps/export_pack.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/arith/spec.h"
#include "core/arith/ternary_math.h"
#include "core/error.h"

namespace lmul::apps::pack {

namespace {
float e4m3_value(uint8_t c) {
  const int e = (c >> 3) & 0xf, m = c & 7;
  const float s = (c & 0x80) ? -1.0f : 1.0f;
  if (e == 0xf && m == 7) return NAN;
  if (e == 0) return s * std::ldexp(static_cast<float>(m), -9);  // subnormal: m/8 · 2^(1−7)
  return s * std::ldexp(1.0f + static_cast<float>(m) / 8.0f, e - 7);
}

float e5m2_value(uint8_t c) {
  const int e = (c >> 2) & 0x1f, m = c & 3;
  const float s = (c & 0x80) ? -1.0f : 1.0f;
  if (e == 0x1f) return m == 0 ? s * INFINITY : NAN;
  if (e == 0) return s * std::ldexp(static_cast<float>(m), -16);  // subnormal: m/4 · 2^(1−15)
  return s * std::ldexp(1.0f + static_cast<float>(m) / 4.0f, e - 15);
}

// Nearest of the positive finite codes 0..last (ascending values), ties to the even code; values
// beyond the largest saturate to it.
uint8_t encode_by_table(float v, float (*value)(uint8_t), uint8_t last) {
  if (std::isnan(v)) return 0x7f;
  const uint8_t sign = std::signbit(v) ? 0x80 : 0;
  const float a = std::fabs(v);
  if (a >= value(last)) return sign | last;
  uint8_t lo = 0, hi = last;  // value(lo) ≤ a < value(hi)
  while (hi - lo > 1) {
    const uint8_t mid = static_cast<uint8_t>((lo + hi) / 2);
    (value(mid) <= a ? lo : hi) = mid;
  }
  const float dlo = a - value(lo), dhi = value(hi) - a;
  const uint8_t c = dlo < dhi ? lo : dhi < dlo ? hi : (lo % 2 == 0 ? lo : hi);
  return sign | c;
}

float amax(std::span<const float> w) {
  float m = 0;
  for (float x : w)
    if (std::isfinite(x)) m = std::max(m, std::fabs(x));
  return m;
}
}  // namespace

uint8_t e4m3_encode(float v) { return encode_by_table(v, &e4m3_value, 0x7e); }
float e4m3_decode(uint8_t c) { return e4m3_value(c); }
uint8_t e5m2_encode(float v) { return encode_by_table(v, &e5m2_value, 0x7b); }
float e5m2_decode(uint8_t c) { return e5m2_value(c); }

std::vector<uint8_t> pack_bits(std::span<const uint8_t> codes, int bits) {
  LMUL_ASSERT(bits >= 1 && bits <= 8);
  std::vector<uint8_t> out((codes.size() * static_cast<size_t>(bits) + 7) / 8, 0);
  const unsigned mask = (1u << bits) - 1;
  for (size_t i = 0; i < codes.size(); ++i) {
    const size_t bit = i * static_cast<size_t>(bits);
    const unsigned v = (codes[i] & mask) << (bit % 8);
    out[bit / 8] |= static_cast<uint8_t>(v & 0xff);
    if ((bit % 8) + static_cast<size_t>(bits) > 8) out[bit / 8 + 1] |= static_cast<uint8_t>(v >> 8);
  }
  return out;
}

std::vector<uint8_t> unpack_bits(std::span<const uint8_t> packed, int bits, size_t n) {
  LMUL_ASSERT(bits >= 1 && bits <= 8 && packed.size() * 8 >= n * static_cast<size_t>(bits));
  std::vector<uint8_t> out(n);
  const unsigned mask = (1u << bits) - 1;
  for (size_t i = 0; i < n; ++i) {
    const size_t bit = i * static_cast<size_t>(bits);
    unsigned v = packed[bit / 8] >> (bit % 8);
    if ((bit % 8) + static_cast<size_t>(bits) > 8) v |= static_cast<unsigned>(packed[bit / 8 + 1]) << (8 - bit % 8);
    out[i] = static_cast<uint8_t>(v & mask);
  }
  return out;
}

Format parse_format(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string name(spec.substr(0, colon));
  arith::SpecOptions o(spec, colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1));
  Format f;
  if (name == "fp8") {
    const std::string w = o.word();
    if (w != "" && w != "e4m3" && w != "e5m2")
      throw Error("--format '{}': fp8 takes e4m3 or e5m2, not '{}'", spec, w);
    f.kind = w == "e5m2" ? Kind::e5m2 : Kind::e4m3;
    f.spec = w == "e5m2" ? "fp8:e5m2" : "fp8:e4m3";
  } else if (name == "ternary") {
    f = {Kind::ternary, 2, "ternary"};
  } else if (name == "pot") {
    f.kind = Kind::pot;
    f.bits = static_cast<int>(o.integer("b", 4, 2, 4));
    f.spec = fmt::format("pot:b={}", f.bits);
  } else if (name == "int") {
    f.kind = Kind::integer;
    f.bits = static_cast<int>(o.integer("b", 8, 2, 8));
    f.spec = fmt::format("int:b={}", f.bits);
  } else {
    throw Error("--format '{}': unknown export format '{}' (known: fp8:e4m3, fp8:e5m2, ternary, pot:b=2..4, int:b=2..8)",
                spec, name);
  }
  o.finish();
  return f;
}

float decode(const Format& f, uint8_t c) {
  switch (f.kind) {
    case Kind::e4m3: return e4m3_decode(c);
    case Kind::e5m2: return e5m2_decode(c);
    case Kind::ternary: return c == 1 ? 1.0f : c == 2 ? -1.0f : 0.0f;
    case Kind::pot: {  // nibble s·eee: eee = 0 is zero, else ±2^−(eee−1)
      const int e = c & 7;
      return e == 0 ? 0.0f : ((c & 8) ? -1.0f : 1.0f) * std::ldexp(1.0f, -(e - 1));
    }
    case Kind::integer: {  // B-bit two's complement
      const int shift = 32 - f.bits;
      return static_cast<float>(static_cast<int32_t>(static_cast<uint32_t>(c) << shift) >> shift);
    }
  }
  return 0;
}

Quantised quantise(const Format& f, std::span<const float> w, const Shape& shape) {
  Quantised q;
  q.codes.resize(w.size());
  const float m = amax(w);
  switch (f.kind) {
    case Kind::e4m3:
    case Kind::e5m2: {
      const float top = f.kind == Kind::e4m3 ? 448.0f : 57344.0f;
      q.scale = m > 0 ? m / top : 1.0f;
      for (size_t i = 0; i < w.size(); ++i)
        q.codes[i] = f.kind == Kind::e4m3 ? e4m3_encode(w[i] / q.scale) : e5m2_encode(w[i] / q.scale);
      q.dtype = f.kind == Kind::e4m3 ? "F8_E4M3" : "F8_E5M2";
      q.shape = shape;
      q.bytes = q.codes;
      return q;
    }
    case Kind::ternary: {
      // γ of the arithmetic layer's ternary format (max(mean|W|, 1e-5), summed row by row), so the
      // export decodes to exactly the weights that format multiplies.
      const int64_t rows = shape.size() == 2 ? shape[0] : 1;
      q.scale = w.empty() ? 1.0f : arith::absmean_gamma(w.data(), rows, static_cast<int64_t>(w.size()) / rows,
                                                        static_cast<int64_t>(w.size()) / rows);
      for (size_t i = 0; i < w.size(); ++i) {
        const float r = std::clamp(std::nearbyint(w[i] / q.scale), -1.0f, 1.0f);
        q.codes[i] = r > 0 ? 1 : r < 0 ? 2 : 0;
      }
      q.bytes = pack_bits(q.codes, 2);
      break;
    }
    case Kind::pot: {
      q.scale = m > 0 ? m : 1.0f;
      const int kmax = (1 << (f.bits - 1)) - 2;  // magnitudes 2^0 .. 2^−kmax
      for (size_t i = 0; i < w.size(); ++i) {
        const float r = std::fabs(w[i]) / q.scale;
        if (!(r >= std::ldexp(1.0f, -kmax - 1))) {  // nearer zero than the smallest level's half (or NaN)
          q.codes[i] = 0;
          continue;
        }
        const int k = std::clamp(static_cast<int>(std::nearbyint(-std::log2(r))), 0, kmax);
        q.codes[i] = static_cast<uint8_t>((std::signbit(w[i]) ? 8 : 0) | (k + 1));
      }
      q.bytes = pack_bits(q.codes, 4);
      break;
    }
    case Kind::integer: {
      const int qmax = (1 << (f.bits - 1)) - 1;
      q.scale = m > 0 ? m / static_cast<float>(qmax) : 1.0f;
      for (size_t i = 0; i < w.size(); ++i) {
        const float r = std::isnan(w[i]) ? 0.0f : std::clamp(std::nearbyint(w[i] / q.scale), -static_cast<float>(qmax), static_cast<float>(qmax));
        q.codes[i] = static_cast<uint8_t>(static_cast<int>(r) & ((1 << f.bits) - 1));
      }
      if (f.bits == 8) {
        q.dtype = "I8";
        q.shape = shape;
        q.bytes = q.codes;
        return q;
      }
      q.bytes = pack_bits(q.codes, f.bits);
      break;
    }
  }
  q.dtype = "U8";
  q.shape = {static_cast<int64_t>(q.bytes.size())};
  return q;
}

std::vector<uint8_t> stored_codes(const Format& f, std::span<const uint8_t> bytes, size_t n) {
  switch (f.kind) {
    case Kind::e4m3:
    case Kind::e5m2: return {bytes.begin(), bytes.begin() + static_cast<int64_t>(n)};
    case Kind::ternary: return unpack_bits(bytes, 2, n);
    case Kind::pot: return unpack_bits(bytes, 4, n);
    case Kind::integer:
      if (f.bits == 8) return {bytes.begin(), bytes.begin() + static_cast<int64_t>(n)};
      return unpack_bits(bytes, f.bits, n);
  }
  return {};
}

}  // namespace lmul::apps::pack
