#include "data/token_file.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace lmul::data {

static_assert(std::endian::native == std::endian::little, "token files are little-endian uint16");

TokenFile::TokenFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
  f_ = std::fopen(tmp_.c_str(), "w+b");  // read back by move_tail_to
  if (!f_) throw RuntimeFailure(fmt::format("{}: cannot create ({})", tmp_, std::strerror(errno)));
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
}

TokenFile::~TokenFile() {
  if (f_) std::fclose(f_);
  if (!committed_) std::remove(tmp_.c_str());
}

void TokenFile::append(std::span<const uint16_t> ids) {
  if (ids.empty()) return;
  if (std::fwrite(ids.data(), sizeof(uint16_t), ids.size(), f_) != ids.size())
    throw RuntimeFailure(fmt::format("{}: write failed ({})", tmp_, std::strerror(errno)));
  count_ += ids.size();
  crc_ = static_cast<uint32_t>(crc32_z(crc_, reinterpret_cast<const Bytef*>(ids.data()), ids.size_bytes()));
}

void TokenFile::move_tail_to(const Mark& from, TokenFile& dst) {
  auto fail = [&](const char* what) {
    throw RuntimeFailure(fmt::format("{}: {} ({})", tmp_, what, std::strerror(errno)));
  };
  if (std::fflush(f_) != 0) fail("write failed");
  std::vector<uint16_t> block(size_t{1} << 20);
  for (uint64_t at = from.count; at < count_;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(block.size(), count_ - at));
    if (std::fseek(f_, static_cast<long>(at * sizeof(uint16_t)), SEEK_SET) != 0 ||
        std::fread(block.data(), sizeof(uint16_t), n, f_) != n)
      fail("read back failed");
    dst.append({block.data(), n});
    at += n;
  }
  if (std::fflush(f_) != 0 || ::ftruncate(fileno(f_), static_cast<off_t>(from.count * sizeof(uint16_t))) != 0 ||
      std::fseek(f_, 0, SEEK_END) != 0)
    fail("cannot truncate");
  count_ = from.count;
  crc_ = from.crc;
}

void TokenFile::commit() {
  bool ok = std::fflush(f_) == 0 && ::fsync(fileno(f_)) == 0;
  ok = (std::fclose(f_) == 0) && ok;
  f_ = nullptr;
  if (!ok) throw RuntimeFailure(fmt::format("{}: write failed ({})", tmp_, std::strerror(errno)));
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    throw RuntimeFailure(fmt::format("{}: cannot rename to {} ({})", tmp_, path_, std::strerror(errno)));
  committed_ = true;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw RuntimeFailure(fmt::format("{}: cannot create ({})", tmp, std::strerror(errno)));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw RuntimeFailure(fmt::format("{}: write failed ({})", path, std::strerror(errno)));
  }
}

}  // namespace lmul::data
