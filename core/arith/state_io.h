// Little helpers to write and read a Multiplier's state() bytes (checkpointed as an opaque blob).
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace lmul::arith {

class StateWriter {
 public:
  template <typename T>
  void put(const T& v) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &v, sizeof(T));
  }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

// Reads what StateWriter wrote; a size or tag mismatch is the caller's mistake (a checkpoint from
// another spec), reported as lmul::Error naming the spec.
class StateReader {
 public:
  StateReader(std::span<const uint8_t> bytes, std::string spec) : bytes_(bytes), spec_(std::move(spec)) {}
  template <typename T>
  T get() {
    if (pos_ + sizeof(T) > bytes_.size())
      throw Error("arith spec '{}': checkpointed state is too short ({} bytes)", spec_, bytes_.size());
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  void expect(uint32_t tag) {
    if (get<uint32_t>() != tag) throw Error("arith spec '{}': checkpointed state belongs to another format", spec_);
  }
  const std::string& spec() const { return spec_; }
  void finish() const {
    if (pos_ != bytes_.size())
      throw Error("arith spec '{}': checkpointed state has {} bytes, expected {}", spec_, bytes_.size(), pos_);
  }

 private:
  std::span<const uint8_t> bytes_;
  std::string spec_;
  size_t pos_ = 0;
};

}  // namespace lmul::arith
