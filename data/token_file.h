// A token file written whole or not at all: ids go to NAME.tmp as little-endian uint16 (the
// layout of nanoGPT's np.uint16 .bin files); commit() renames it over NAME. A TokenFile destroyed
// without commit() removes its temp file; a process killed before commit() leaves only NAME.tmp,
// which the next run truncates. A CRC-32 of the bytes (zlib's, = Python's zlib.crc32 of the file)
// is kept as they are written, for meta.json.
#pragma once
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

namespace lmul::data {

class TokenFile {
 public:
  // A point in the file to come back to: its length and the CRC of the bytes before it.
  struct Mark {
    uint64_t count = 0;
    uint32_t crc = 0;
  };

  // Throws lmul::RuntimeFailure when the temp file cannot be created.
  explicit TokenFile(std::string path);
  ~TokenFile();
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;

  // Throws lmul::RuntimeFailure on a write error (disk full).
  void append(std::span<const uint16_t> ids);
  // Moves the ids written since `from` to the end of dst and cuts this file back to `from`,
  // reading them back in bounded blocks (the tail may be larger than memory).
  void move_tail_to(const Mark& from, TokenFile& dst);
  // Flushes, syncs and renames into place.
  void commit();
  uint64_t count() const { return count_; }
  uint32_t crc32() const { return crc_; }
  Mark mark() const { return {count_, crc_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t count_ = 0;
  uint32_t crc_ = 0;
  bool committed_ = false;
};

// Writes text to path through a temp file and a rename.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace lmul::data
