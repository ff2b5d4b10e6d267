#include "core/arith/export_codec.h"

#include <cstring>

#include "core/error.h"

namespace lmul::arith {

PackedWeights ScaledCodec::pack(std::span<const float> w, int64_t rows, int64_t cols) const {
  LMUL_ASSERT(rows >= 0 && cols >= 0 && static_cast<int64_t>(w.size()) == rows * cols);
  PackedWeights p;
  p.scale = scale(w, rows, cols);
  std::vector<uint8_t> codes(w.size());
  for (size_t i = 0; i < w.size(); ++i) codes[i] = encode(w[i] / p.scale);
  p.dtype = dtype();
  if (p.dtype != "U8") {
    p.shape = {rows, cols};
    p.bytes = std::move(codes);
  } else {
    p.bytes = pack_bits(codes, code_bits());
    p.shape = {static_cast<int64_t>(p.bytes.size())};
  }
  return p;
}

size_t ScaledCodec::packed_size(size_t n) const {
  return dtype() != "U8" ? n : (n * static_cast<size_t>(code_bits()) + 7) / 8;
}

std::vector<uint8_t> ScaledCodec::codes(std::span<const uint8_t> bytes, size_t n) const {
  LMUL_ASSERT(bytes.size() >= packed_size(n));
  if (dtype() != "U8") return {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)};
  return unpack_bits(bytes, code_bits(), n);
}

void ScaledCodec::unpack(std::span<const uint8_t> bytes, size_t n, float scale, float* out) const {
  const std::vector<uint8_t> c = codes(bytes, n);
  for (size_t i = 0; i < n; ++i) out[i] = decode(c[i]) * scale;
}

std::vector<StoredTensor> ScaledCodec::store(std::span<const float> w, int64_t rows, int64_t cols) const {
  PackedWeights p = pack(w, rows, cols);
  std::vector<uint8_t> scale(sizeof(float));
  std::memcpy(scale.data(), &p.scale, sizeof(float));
  std::vector<StoredTensor> t;
  t.push_back({"", p.dtype, p.shape, std::move(p.bytes)});
  t.push_back({".scale", "F32", {1}, std::move(scale)});
  return t;
}

void ScaledCodec::load(const StoredTensors& tensors, int64_t rows, int64_t cols, float* out) const {
  const size_t n = static_cast<size_t>(rows * cols);
  const std::vector<int64_t> shape =
      dtype() != "U8" ? std::vector<int64_t>{rows, cols} : std::vector<int64_t>{static_cast<int64_t>(packed_size(n))};
  const std::span<const uint8_t> codes = tensors("", dtype(), shape);
  float scale;
  std::memcpy(&scale, tensors(".scale", "F32", {1}).data(), sizeof(float));
  unpack(codes, n, scale, out);
}

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

}  // namespace lmul::arith
