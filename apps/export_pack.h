// Compact codes for exported weights (lmul export --format): OCP fp8 E4M3/E5M2 bytes, ternary in
// 2 bits, power-of-two sign+exponent nibbles, B-bit symmetric integers; each tensor with one F32
// scale (value = decode(code) · scale). A scalar reference per format, like ggml's type table.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace lmul::apps::pack {

// OCP OFP8 E4M3FN: bias 7, max 448, no Inf, NaN = S.1111.111. Round to nearest even, saturating
// (±Inf and beyond-max values → ±448); NaN → 0x7f.
uint8_t e4m3_encode(float v);
float e4m3_decode(uint8_t c);
// OCP OFP8 E5M2: bias 15, max 57344, Inf = S.11111.00, NaN = S.11111.{01,10,11}. Round to nearest
// even, saturating finite and infinite values to ±57344 (as the saturating fp8 conversions do).
uint8_t e5m2_encode(float v);
float e5m2_decode(uint8_t c);

// n codes of `bits` bits each (1..8) into bytes, code i at bit offset i·bits, least significant
// bit first (a code may straddle two bytes); ⌈n·bits/8⌉ bytes.
std::vector<uint8_t> pack_bits(std::span<const uint8_t> codes, int bits);
std::vector<uint8_t> unpack_bits(std::span<const uint8_t> packed, int bits, size_t n);

enum class Kind { e4m3, e5m2, ternary, pot, integer };
struct Format {
  Kind kind = Kind::e4m3;
  int bits = 8;      // bits of information per value (pot: B of pot:b=B, stored in a nibble)
  std::string spec;  // canonical: fp8:e4m3, fp8:e5m2, ternary, pot:b=4, int:b=8
};
// Parses fp8[:e4m3|e5m2], ternary, pot[:b=2..4], int[:b=2..8]; throws lmul::Error naming the spec.
Format parse_format(std::string_view spec);

// One quantised tensor: codes as stored (dtype F8_E4M3 / F8_E5M2 / I8 with the weight's shape, or
// U8 bytes of packed codes), the per-tensor scale, and the unpacked code of every value.
struct Quantised {
  std::string dtype;
  Shape shape;
  std::vector<uint8_t> bytes;
  float scale = 1;
  std::vector<uint8_t> codes;  // one per value (fp8 byte, ternary 0/1/2, pot nibble, int B-bit two's complement)
};
// Scales: fp8 amax/max-finite, ternary max(mean|w|, 1e-5) (BitNet b1.58 absmean), pot amax,
// int amax/(2^(B−1)−1). ternary and int:b=B decode to exactly the values the arithmetic layer's
// `ternary` and `int:b=B` (gran=tensor) formats make of the weight; fp8 (amax scale, not a power of
// two) and pot (levels 2^0..2^−(2^(B−1)−2) of amax) are the export's own conventions.
Quantised quantise(const Format& f, std::span<const float> w, const Shape& shape);
// The value of one code, before the scale.
float decode(const Format& f, uint8_t code);
// The codes back from the stored bytes (n values).
std::vector<uint8_t> stored_codes(const Format& f, std::span<const uint8_t> bytes, size_t n);

}  // namespace lmul::apps::pack
