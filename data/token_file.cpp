#include "data/token_file.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace lmul::data {

namespace {
void write_atomic(const std::string& path, const void* p, size_t n) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error("{}: cannot write ({})", tmp, std::strerror(errno));
  const bool ok = (n == 0 || std::fwrite(p, 1, n, f) == n) && std::fflush(f) == 0;
  const int e = errno;
  std::fclose(f);
  if (!ok) {
    std::remove(tmp.c_str());
    throw RuntimeFailure(fmt::format("{}: write failed ({})", tmp, std::strerror(e)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw RuntimeFailure(fmt::format("{}: rename failed ({})", path, ec.message()));
}
}  // namespace

void write_tokens_atomic(const std::string& path, std::span<const uint16_t> ids) {
  static_assert(std::endian::native == std::endian::little, "token files are little-endian");
  write_atomic(path, ids.data(), ids.size() * sizeof(uint16_t));
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_atomic(path, text.data(), text.size());
}

}  // namespace lmul::data
