#include "data/token_file.h"

#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace lmul::data {

static_assert(std::endian::native == std::endian::little, "token files are little-endian uint16");

TokenFile::TokenFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
  f_ = std::fopen(tmp_.c_str(), "wb");
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
