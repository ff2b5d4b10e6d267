// safetensors files (8-byte little-endian header length, JSON header, raw little-endian data), the
// format of checkpoints and golden values, readable by PyTorch/HF tooling.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace lmul {

struct SafetensorsEntry {
  std::string dtype;  // "F32", "I32", "I64", "U8", ...
  Shape shape;
  size_t begin = 0, end = 0;  // byte range in the data section
};

class SafetensorsFile {
 public:
  // Reads and validates path; throws lmul::Error naming the file and what is wrong.
  static SafetensorsFile load(const std::string& path);

  bool has(const std::string& name) const { return entries_.count(name) > 0; }
  const SafetensorsEntry& entry(const std::string& name) const;
  const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::span<const uint8_t> bytes(const std::string& name) const;
  // Values of an F32 tensor; expected shape checked when given.
  std::vector<float> f32(const std::string& name, const Shape* expected = nullptr) const;
  std::vector<int32_t> i32(const std::string& name) const;
  const std::string& path() const { return path_; }
  // The whole data section (for checksums).
  std::span<const uint8_t> data_section() const;

 private:
  std::string path_;
  std::vector<uint8_t> raw_;
  size_t data_offset_ = 0;
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

// A tensor to write: name, dtype, shape and its bytes.
struct SafetensorsOut {
  std::string name;
  std::string dtype;
  Shape shape;
  std::span<const uint8_t> bytes;
};
inline SafetensorsOut f32_tensor(std::string name, const Shape& shape, std::span<const float> v) {
  return {std::move(name), "F32", shape, {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)}};
}

// Writes atomically: a temporary file beside path, fsync, rename over path, fsync the directory.
// A crash leaves either the old file or the new one, never a half-written one.
void save_safetensors(const std::string& path, const std::vector<SafetensorsOut>& tensors,
                      const std::map<std::string, std::string>& metadata);

// FNV-1a 64 over bytes, as 16 hex digits (the checkpoint data checksum).
std::string fnv1a64_hex(std::span<const uint8_t> bytes);
// FNV-1a 64 continued from h (start with kFnv1a64Basis), so a checksum can span several buffers.
inline constexpr uint64_t kFnv1a64Basis = 0xcbf29ce484222325ull;
uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t h = kFnv1a64Basis);

size_t dtype_size(const std::string& dtype);  // 0 if unknown

}  // namespace lmul
