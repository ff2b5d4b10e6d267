// Packed export codecs (`lmul export --format`): a format that has one stores each 2-D weight as a
// few tensors named after it and decodes them back. ExportCodec is that interface (store/load).
// Most codecs are one scale per tensor, value = decode(code)·scale (ScaledCodec): a scalar
// definition — scale(), encode(), decode() — with the packing around it shared, as in ggml's type
// table; their codecs live in their formats' files (fp8.cpp, ternary.cpp, pot.cpp, int.cpp). DGQ's
// A8W4 weights need four tensors (u4 codes, zero points, int8 group scales, fp32 channel scales):
// dgq_export.cpp. FormatInfo::make_codec makes one.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lmul::arith {

// One tensor that stores (part of) an exported weight, named <weight name><suffix>.
struct StoredTensor {
  std::string suffix;  // "" for the weight's own name (its codes), ".scale", ...
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// What a reader gives a codec: the bytes of <weight name><suffix>, or a one-line lmul::Error when
// that tensor is absent or its dtype or shape is not the one asked for.
using StoredTensors = std::function<std::span<const uint8_t>(std::string_view suffix, std::string_view dtype,
                                                             std::vector<int64_t> shape)>;

class ExportCodec {
 public:
  virtual ~ExportCodec() = default;

  // Canonical export spec, as the export's metadata records it: "fp8:e4m3", "pot:b=4", ...
  virtual std::string spec() const = 0;
  // True when load(store(w)) equals the weights the arithmetic format spec() multiplies (same
  // values; the codes have one zero, so −0 comes back as +0); else it is the codec's own rounding.
  virtual bool decodes_to_arithmetic() const { return false; }
  // The tensors that store a rows×cols weight (contiguous). Throws a one-line lmul::Error when the
  // format cannot store that shape.
  virtual std::vector<StoredTensor> store(std::span<const float> w, int64_t rows, int64_t cols) const = 0;
  // The rows×cols weights (into out) from the tensors store() wrote, found through `tensors`. Throws
  // a one-line lmul::Error naming the value when a stored value is outside the format's range.
  virtual void load(const StoredTensors& tensors, int64_t rows, int64_t cols, float* out) const = 0;
};

// One exported tensor of a one-scale codec as stored: a dtype other than U8 (F8_E4M3, F8_E5M2, I8)
// holds one code per byte with the weight's shape; U8 holds the codes packed at code_bits() bits,
// shape {bytes}.
struct PackedWeights {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  float scale = 1;
};

// A codec of one F32 scale per tensor: the codes under the weight's name, the scale (shape {1})
// under "<name>.scale".
class ScaledCodec : public ExportCodec {
 public:
  // Bits of one stored code (1..8) and the dtype of the stored tensor.
  virtual int code_bits() const = 0;
  virtual std::string dtype() const { return "U8"; }
  // The per-tensor scale of a rows×cols weight (contiguous).
  virtual float scale(std::span<const float> w, int64_t rows, int64_t cols) const = 0;
  // The code of one weight divided by the scale, and the value of a code (before the scale).
  virtual uint8_t encode(float v) const = 0;
  virtual float decode(uint8_t code) const = 0;

  // scale(), then encode(w_i / scale) for every weight, stored as dtype() says.
  PackedWeights pack(std::span<const float> w, int64_t rows, int64_t cols) const;
  // Bytes that n codes take.
  size_t packed_size(size_t n) const;
  // The n codes back from stored bytes (at least packed_size(n) of them).
  std::vector<uint8_t> codes(std::span<const uint8_t> bytes, size_t n) const;
  // out[i] = decode(code i)·scale.
  void unpack(std::span<const uint8_t> bytes, size_t n, float scale, float* out) const;

  std::vector<StoredTensor> store(std::span<const float> w, int64_t rows, int64_t cols) const final;
  void load(const StoredTensors& tensors, int64_t rows, int64_t cols, float* out) const final;
};

// The codec of an export spec ("fp8:e4m3", "ternary", "pot:b=4", "int:b=8", "dgq:g=128"). Throws a
// one-line lmul::Error naming the spec and the exportable formats.
std::unique_ptr<ExportCodec> make_export_codec(std::string_view spec);
// "fp8:e4m3|e5m2, ternary, pot:b=2..4, int:b=2..8, dgq:g=G": what make_export_codec takes.
std::string exportable_formats();

// n codes of `bits` bits each (1..8) into bytes, code i at bit offset i·bits, least significant
// bit first (a code may straddle two bytes); ⌈n·bits/8⌉ bytes.
std::vector<uint8_t> pack_bits(std::span<const uint8_t> codes, int bits);
std::vector<uint8_t> unpack_bits(std::span<const uint8_t> packed, int bits, size_t n);

}  // namespace lmul::arith
