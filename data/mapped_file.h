// A read-only memory-mapped file (inputs of `prepare`; the token .bin files of a run are read with
// pread instead, see token_dataset.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace lmul::data {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws lmul::Error naming the path when it cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace lmul::data
