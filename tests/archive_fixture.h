// Builds archives in memory with libarchive's writer, so the tests and the benchmark make the
// layouts corpora are downloaded in (OpenWebText: a tar of .xz files, each a tar of .txt files;
// The Pile: .jsonl.zst) from plain text, with nothing but the build's own dependencies.
#pragma once
#include <archive.h>
#include <archive_entry.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace lmul::test {

enum class Compression { none, xz, gzip, zstd, bzip2 };

namespace archive_detail {

inline la_ssize_t append(struct archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

inline void check(struct archive* a, int rc) {
  if (rc < ARCHIVE_WARN) throw std::runtime_error(std::string("libarchive writer: ") + archive_error_string(a));
}

// A writer into out with the given compression; tar (pax) when members are written, else raw.
inline struct archive* open(std::string& out, Compression c, bool tar, int xz_level) {
  struct archive* a = archive_write_new();
  switch (c) {
    case Compression::none:
      break;
    case Compression::xz:
      check(a, archive_write_add_filter_xz(a));
      check(a, archive_write_set_filter_option(a, "xz", "compression-level", std::to_string(xz_level).c_str()));
      break;
    case Compression::gzip:
      check(a, archive_write_add_filter_gzip(a));
      break;
    case Compression::zstd:
      check(a, archive_write_add_filter_zstd(a));
      break;
    case Compression::bzip2:
      check(a, archive_write_add_filter_bzip2(a));
      break;
  }
  check(a, tar ? archive_write_set_format_pax_restricted(a) : archive_write_set_format_raw(a));
  check(a, archive_write_set_bytes_in_last_block(a, 1));  // no padding after the stream
  check(a, archive_write_open2(a, &out, nullptr, &append, nullptr, nullptr));
  return a;
}

inline void add(struct archive* a, const std::string& name, const std::string& data) {
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_entry_set_mtime(e, 0, 0);
  check(a, archive_write_header(a, e));
  if (!data.empty() && archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
    check(a, ARCHIVE_FATAL);
  archive_entry_free(e);
}

inline void close(struct archive* a) {
  check(a, archive_write_close(a));
  archive_write_free(a);
}

}  // namespace archive_detail

// A tar of the (name, bytes) members, compressed or not.
inline std::string make_tar(const std::vector<std::pair<std::string, std::string>>& members,
                            Compression c = Compression::none, int xz_level = 6) {
  std::string out;
  struct archive* a = archive_detail::open(out, c, true, xz_level);
  for (const auto& [name, data] : members) archive_detail::add(a, name, data);
  archive_detail::close(a);
  return out;
}

// bytes compressed as one stream (no tar): what `xz`, `gzip`, `zstd`, `bzip2` write.
inline std::string compress(const std::string& bytes, Compression c, int xz_level = 6) {
  std::string out;
  struct archive* a = archive_detail::open(out, c, false, xz_level);
  archive_detail::add(a, "data", bytes);
  archive_detail::close(a);
  return out;
}

}  // namespace lmul::test
