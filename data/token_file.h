// A token file written whole or not at all: ids go to NAME.tmp as little-endian uint16 (the
// layout of nanoGPT's np.uint16 .bin files); commit() renames it over NAME. A TokenFile destroyed
// without commit() removes its temp file.
#pragma once
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

namespace lmul::data {

class TokenFile {
 public:
  // Throws lmul::RuntimeFailure when the temp file cannot be created.
  explicit TokenFile(std::string path);
  ~TokenFile();
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;

  // Throws lmul::RuntimeFailure on a write error (disk full).
  void append(std::span<const uint16_t> ids);
  // Flushes, syncs and renames into place.
  void commit();
  uint64_t count() const { return count_; }

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t count_ = 0;
  bool committed_ = false;
};

// Writes text to path through a temp file and a rename.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace lmul::data
