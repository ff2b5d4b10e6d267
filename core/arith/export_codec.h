// Packed export codecs (`lmul export --format`): a format that has one stores each 2-D weight as
// compact codes plus one F32 scale, value = decode(code)·scale. A codec is a scalar definition —
// scale(), encode(), decode() — and the packing around it is shared (ExportCodec::pack/unpack), as
// in ggml's type table. The codecs live in their formats' files (fp8.cpp, ternary.cpp, pot.cpp,
// int.cpp); FormatInfo::make_codec makes one.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lmul::arith {

// One exported tensor as stored: a dtype other than U8 (F8_E4M3, F8_E5M2, I8) holds one code per
// byte with the weight's shape; U8 holds the codes packed at code_bits() bits, shape {bytes}.
struct PackedWeights {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  float scale = 1;
};

class ExportCodec {
 public:
  virtual ~ExportCodec() = default;

  // Canonical export spec, as the export's metadata records it: "fp8:e4m3", "pot:b=4", ...
  virtual std::string spec() const = 0;
  // Bits of one stored code (1..8) and the dtype of the stored tensor.
  virtual int code_bits() const = 0;
  virtual std::string dtype() const { return "U8"; }
  // The per-tensor scale of a rows×cols weight (contiguous).
  virtual float scale(std::span<const float> w, int64_t rows, int64_t cols) const = 0;
  // The code of one weight divided by the scale, and the value of a code (before the scale).
  virtual uint8_t encode(float v) const = 0;
  virtual float decode(uint8_t code) const = 0;
  // True when unpack(pack(w)) equals the weights the arithmetic format spec() multiplies (same
  // values; the codes have one zero, so −0 comes back as +0); else it is the codec's own rounding.
  virtual bool decodes_to_arithmetic() const { return false; }

  // scale(), then encode(w_i / scale) for every weight, stored as dtype() says.
  PackedWeights pack(std::span<const float> w, int64_t rows, int64_t cols) const;
  // Bytes that n codes take.
  size_t packed_size(size_t n) const;
  // The n codes back from stored bytes (at least packed_size(n) of them).
  std::vector<uint8_t> codes(std::span<const uint8_t> bytes, size_t n) const;
  // out[i] = decode(code i)·scale.
  void unpack(std::span<const uint8_t> bytes, size_t n, float scale, float* out) const;
};

// The codec of an export spec ("fp8:e4m3", "ternary", "pot:b=4", "int:b=8"). Throws a one-line
// lmul::Error naming the spec and the exportable formats.
std::unique_ptr<ExportCodec> make_export_codec(std::string_view spec);
// "fp8:e4m3|e5m2, ternary, pot:b=2..4, int:b=2..8": what make_export_codec takes.
std::string exportable_formats();

// n codes of `bits` bits each (1..8) into bytes, code i at bit offset i·bits, least significant
// bit first (a code may straddle two bytes); ⌈n·bits/8⌉ bytes.
std::vector<uint8_t> pack_bits(std::span<const uint8_t> codes, int bits);
std::vector<uint8_t> unpack_bits(std::span<const uint8_t> packed, int bits, size_t n);

}  // namespace lmul::arith
